"""Data breaches (Bijlage 3): the report, its timeline, and the notifications sent.

A breach is never deleted: the register of art. 33(5) GDPR must keep every breach, also one
that was not notified. Its timeline entries cannot change once written.
"""

import datetime
import uuid
from typing import TYPE_CHECKING, Any, NoReturn, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from avg_portal.emails import shown_delivery
from core.constraints import ChecksInOneQuery
from core.origin import Origin

from . import deadlines
from .deadlines import Deadline

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from core.models import Client

# Far above any coaching practice; a larger number is a typing error.
MAX_PERSONS = 10_000_000


class DataCategory(models.TextChoices):
    """Bijlage 3, question 2: kinds of personal data, common ones first."""

    NAME = "name", _("name")
    ADDRESS = "address", _("address")
    EMAIL = "email", _("email address")
    PHONE = "phone", _("phone number")
    BIRTH_DATE = "birth_date", _("date of birth")
    IP_ADDRESS = "ip_address", _("IP address")
    LOGIN = "login", _("login details")
    PHOTO = "photo", _("passport photo")
    FINANCIAL = "financial", _("financial data (e.g. salary, invoices)")
    SESSION_NOTES = "session_notes", _("session notes and reports")
    # Special categories (art. 9) and data that enables identity fraud: they raise the risk.
    HEALTH = "health", _("health data")
    BSN = "bsn", _("citizen service number (BSN)")
    ID_DOCUMENT = "id_document", _("copy of an identity document")
    ETHNICITY = "ethnicity", _("race or ethnic origin")
    BELIEFS = "beliefs", _("religious or philosophical beliefs")
    SEXUALITY = "sexuality", _("sex life or sexual orientation")
    CRIMINAL = "criminal", _("criminal data (convictions, offences)")
    # Added for the AP's form (the values above are stored in existing reports: keep them).
    POLITICAL = "political", _("political opinions")
    TRADE_UNION = "trade_union", _("trade-union membership")
    GENETIC = "genetic", _("genetic data")
    BIOMETRIC = "biometric", _("biometric data to identify a person")
    CHILDREN = "children", _("data of children (under 16)")


# The special categories of art. 9 GDPR, in the order of the article.
SPECIAL_CATEGORIES = (
    DataCategory.ETHNICITY,
    DataCategory.POLITICAL,
    DataCategory.BELIEFS,
    DataCategory.TRADE_UNION,
    DataCategory.GENETIC,
    DataCategory.BIOMETRIC,
    DataCategory.HEALTH,
    DataCategory.SEXUALITY,
)
# Data the AP asks about besides art. 9: criminal data (art. 10), data that enables identity
# fraud, someone's financial situation, and data of children.
OTHER_SENSITIVE_CATEGORIES = (
    DataCategory.CRIMINAL,
    DataCategory.BSN,
    DataCategory.ID_DOCUMENT,
    DataCategory.FINANCIAL,
    DataCategory.CHILDREN,
)
SENSITIVE_CATEGORIES = frozenset(SPECIAL_CATEGORIES + OTHER_SENSITIVE_CATEGORIES)
COMMON_CATEGORIES = tuple(c for c in DataCategory if c not in SENSITIVE_CATEGORIES)


class IncidentKind(models.TextChoices):
    """The AP's form: what kind of incident it is."""

    LOST_DEVICE = "lost_device", _("device lost or stolen (e.g. laptop, phone, USB stick)")
    LOST_PAPER = "lost_paper", _("paper lost or stolen, or left in an unsafe place")
    MISADDRESSED = "misaddressed", _("letter or email sent to the wrong person")
    HACKING = "hacking", _("hacking, malware or phishing")
    INSIDER = "insider", _("unauthorised access by someone inside the organisation")
    PUBLISHED = "published", _("personal data published by mistake")
    OTHER = "other", _("other")


class ConsequenceKind(models.TextChoices):
    """The AP's form: what the breach may mean for the persons."""

    STIGMA = "stigma", _("stigmatisation or exclusion")
    HEALTH = "health", _("damage to health")
    FRAUD = "fraud", _("(identity) fraud")
    SPAM = "spam", _("spam or phishing")
    FINANCIAL = "financial", _("financial loss")
    REPUTATION = "reputation", _("damage to reputation")
    LOSS_OF_CONTROL = "loss_of_control", _("loss of control over their data")
    OTHER = "other", _("other")


class Severity(models.TextChoices):
    NEGLIGIBLE = "negligible", _("negligible")
    LIMITED = "limited", _("limited")
    SIGNIFICANT = "significant", _("significant")
    SEVERE = "severe", _("severe")


class OrganisationRole(models.TextChoices):
    PROCESSOR = "processor", _("my processor")
    SUB_PROCESSOR = "sub_processor", _("a sub-processor")
    CONTROLLER = "controller", _("the controller, or a joint controller")
    OTHER = "other", _("other")


class YesNoPartly(models.TextChoices):
    YES = "yes", _("yes")
    PARTLY = "partly", _("partly")
    NO = "no", _("no")


class BreachStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class AuthorityDecision(models.TextChoices):
    PENDING = "pending", _("not decided yet")
    NOTIFIED = "notified", _("notified to the AP")
    NOT_NOTIFIED = "not_notified", _("not notified")


class SubjectsDecision(models.TextChoices):
    """Art. 34: inform the data subjects when the risk to them is high, unless an exception
    applies."""

    PENDING = "pending", _("not decided yet")
    INFORMED = "informed", _("informed: the risk to them is high")
    LOW_RISK = "low_risk", _("not informed: the risk to them is not high")
    UNINTELLIGIBLE = "unintelligible", _("not informed: the data was unintelligible (encrypted)")
    RISK_REMOVED = "risk_removed", _("not informed: measures taken removed the high risk")
    DISPROPORTIONATE = (
        "disproportionate",
        _("not informed: disproportionate effort, a public notice instead"),
    )


# "Wat te doen bij twijfel?": the questions Bijlage 3 asks when in doubt, in its order.
TRIAGE_QUESTIONS = (
    ("triage_security_problem", _("Is there a technical or physical security problem?")),
    (
        "triage_personal_data",
        _(
            "Is the problem about the security of personal data? IP addresses, phone numbers "
            "or identifiers of hardware can count too."
        ),
    ),
    (
        "triage_sensitive",
        _(
            "Does it concern sensitive data such as race, health, someone's financial "
            "situation, or data that enables (identity) fraud, such as a BSN?"
        ),
    ),
    (
        "triage_large_scale",
        _("Have large amounts of personal data unintentionally become accessible to others?"),
    ),
    ("triage_vulnerable", _("Does it concern data of vulnerable groups such as children?")),
    ("triage_supplier", _("Is the personal data managed by a supplier?")),
)


class Breach(ChecksInOneQuery):
    """A data breach report: the 7 questions of Bijlage 3 plus what the AP's form asks.

    Only what happened and when it was discovered are required: the rest may follow in
    phases (art. 33(4) GDPR, clause 7.2 of the agreement).
    """

    Status = BreachStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The new-breach form's own key: a form sent twice (a double click, a retry on a slow
    # connection) logs one breach, not two (breaches.actions.breach_create).
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    practice = models.ForeignKey("core.Practice", on_delete=models.PROTECT, related_name="breaches")
    status = models.CharField(
        _("status"), max_length=10, choices=BreachStatus, default=BreachStatus.OPEN
    )

    # 1. What happened, and the system involved.
    summary = models.TextField(
        _("what happened?"),
        max_length=4000,
        help_text=_("Describe the breach in a few sentences."),
    )
    incident_kinds = models.JSONField(_("kind of incident"), default=list, blank=True)
    incident_other = models.CharField(
        _("other kind of incident, or more about it"), max_length=500, blank=True
    )
    system_name = models.CharField(
        _("system involved"),
        max_length=200,
        blank=True,
        help_text=_("E.g. laptop, phone, email, USB stick, paper file, online agenda."),
    )
    # When the coach became aware: the 24- and 72-hour deadlines run from here.
    discovered_at = models.DateTimeField(_("discovered at"))
    # 7. When it happened: a date or a period, as specific as possible.
    occurred_from = models.DateField(_("happened on or from"), null=True, blank=True)
    occurred_until = models.DateField(_("happened until"), null=True, blank=True)
    # The time of day, when known: wall-clock time in Europe/Amsterdam (settings.TIME_ZONE)
    # on the date beside it. Older reports have dates only.
    occurred_from_time = models.TimeField(_("time it started"), null=True, blank=True)
    occurred_until_time = models.TimeField(_("time it ended"), null=True, blank=True)
    occurred_note = models.CharField(
        _("about the time it happened"),
        max_length=500,
        blank=True,
        help_text=_("Be as specific as possible, e.g. 'between 14:00 and 15:00 on the train'."),
    )
    ongoing = models.BooleanField(_("is the breach still going on?"), null=True, blank=True)
    nature_confidentiality = models.BooleanField(
        _("confidentiality: others could read or copy the data"), default=False
    )
    nature_integrity = models.BooleanField(
        _("integrity: data was changed or corrupted"), default=False
    )
    nature_availability = models.BooleanField(
        _("availability: data was lost or is unreachable"), default=False
    )

    # 2. Which personal data.
    data_categories = models.JSONField(_("kinds of personal data"), default=list, blank=True)
    data_other = models.TextField(
        _("other personal data"),
        max_length=2000,
        blank=True,
        help_text=_("Any other data that can be traced to a person."),
    )
    records_count = models.PositiveIntegerField(
        _("number of records"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_PERSONS * 100)],
        help_text=_("E.g. the number of files, emails or rows; leave empty if unknown."),
    )
    unintelligible = models.CharField(
        _("was the data encrypted or otherwise unintelligible?"),
        max_length=10,
        choices=YesNoPartly,
        blank=True,
    )
    unintelligible_note = models.CharField(
        _("how was it protected?"),
        max_length=1000,
        blank=True,
        help_text=_("E.g. BitLocker disk encryption, a password-protected file."),
    )

    # 3.–5. Whose data.
    persons_min = models.PositiveIntegerField(
        _("minimum number of persons"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_PERSONS)],
    )
    persons_max = models.PositiveIntegerField(
        _("maximum number of persons"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_PERSONS)],
    )
    persons_group = models.TextField(
        _("group of persons"),
        max_length=2000,
        blank=True,
        help_text=_("E.g. clients of the practice, their family members, website visitors."),
    )
    vulnerable_group = models.BooleanField(
        _("it concerns a vulnerable group, such as children"), default=False
    )
    contact_details_known = models.CharField(
        _("are the contact details of these persons known?"),
        max_length=10,
        choices=YesNoPartly,
        blank=True,
        help_text=_("They may have to be informed: can they be reached?"),
    )
    clients = models.ManyToManyField(
        "core.Client",
        related_name="breaches",
        blank=True,
        verbose_name=_("affected clients"),
    )

    # 6. Why, and what follows.
    root_cause = models.TextField(
        _("root cause"),
        max_length=4000,
        blank=True,
        help_text=_("How could the breach happen?"),
    )
    consequences = models.TextField(
        _("likely consequences for the persons"),
        max_length=4000,
        blank=True,
        help_text=_("E.g. embarrassment, identity fraud, damage to their reputation."),
    )
    consequence_kinds = models.JSONField(_("kind of consequences"), default=list, blank=True)
    consequence_severity = models.CharField(
        _("how severe are the consequences?"),
        max_length=15,
        choices=Severity,
        blank=True,
    )
    measures = models.TextField(
        _("measures taken"),
        max_length=4000,
        blank=True,
        help_text=_(
            "What you did to stop the breach and limit the damage, and to prevent it again."
        ),
    )

    # Another organisation involved, e.g. the processor or sub-processor where it happened.
    other_org_name = models.CharField(
        _("name of the other organisation involved"), max_length=200, blank=True
    )
    other_org_role = models.CharField(
        _("role of that organisation"), max_length=15, choices=OrganisationRole, blank=True
    )
    other_org_details = models.TextField(
        _("its contact details, and what happened there"),
        max_length=2000,
        blank=True,
        help_text=_("Address, contact person, and what happened at their end."),
    )

    # International aspects (the AP's form).
    cross_border = models.BooleanField(
        _("are there persons involved in other EU countries?"), null=True, blank=True
    )
    cross_border_countries = models.CharField(_("which countries?"), max_length=500, blank=True)
    other_authorities_notified = models.BooleanField(
        _("have other supervisory authorities been notified?"), null=True, blank=True
    )
    other_authorities = models.CharField(
        _("which supervisory authorities?"), max_length=500, blank=True
    )

    # "Wat te doen bij twijfel?": yes, no, or not answered (None).
    triage_security_problem = models.BooleanField(null=True, blank=True)
    triage_personal_data = models.BooleanField(null=True, blank=True)
    triage_sensitive = models.BooleanField(null=True, blank=True)
    triage_large_scale = models.BooleanField(null=True, blank=True)
    triage_vulnerable = models.BooleanField(null=True, blank=True)
    triage_supplier = models.BooleanField(null=True, blank=True)

    # The decision on notifying the AP (art. 33).
    authority_decision = models.CharField(
        _("notification to the AP"),
        max_length=15,
        choices=AuthorityDecision,
        default=AuthorityDecision.PENDING,
    )
    authority_notified_at = models.DateTimeField(_("notified to the AP at"), null=True, blank=True)
    authority_reference = models.CharField(
        _("the AP's reference number"), max_length=100, blank=True
    )
    authority_reason = models.TextField(
        _("reason"), max_length=4000, blank=True, help_text=_("Why not notified, or why late.")
    )
    authority_decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Follow-ups (aanvullingen) and a withdrawal (intrekking) of the notification: each is
    # on the timeline too; these say where the notification stands now.
    authority_followup_at = models.DateTimeField(
        _("last follow-up sent to the AP at"), null=True, blank=True, editable=False
    )
    authority_withdrawn_at = models.DateTimeField(
        _("notification withdrawn at"), null=True, blank=True, editable=False
    )
    authority_withdrawal_reference = models.CharField(
        _("the AP's reference of the withdrawal"), max_length=100, blank=True, editable=False
    )
    authority_withdrawal_reason = models.TextField(
        _("why the notification was withdrawn"), max_length=4000, blank=True, editable=False
    )

    # The decision on informing the data subjects themselves (art. 34).
    subjects_decision = models.CharField(
        _("informing the persons themselves"),
        max_length=20,
        choices=SubjectsDecision,
        default=SubjectsDecision.PENDING,
    )
    subjects_reason = models.TextField(_("explanation"), max_length=4000, blank=True)
    subjects_decided_at = models.DateTimeField(null=True, blank=True, editable=False)

    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Which deadline reminders went to the coach, so each is sent once.
    client_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    client_overdue_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    authority_reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    authority_overdue_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("data breach")
        verbose_name_plural = _("data breaches")
        ordering = ["-discovered_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "status", "-discovered_at"]),
            # The register: a practice's breaches, newest first, a page at a time.
            models.Index(fields=["practice", "-discovered_at", "-id"], name="breach_register_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BreachStatus.values), name="breach_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=BreachStatus.OPEN, closed_at__isnull=True)
                | models.Q(status=BreachStatus.CLOSED, closed_at__isnull=False),
                name="breach_closed_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(persons_min__isnull=True)
                | models.Q(persons_max__isnull=True)
                | models.Q(persons_min__lte=models.F("persons_max")),
                name="breach_persons_min_not_above_max",
            ),
            models.CheckConstraint(
                condition=models.Q(occurred_from__isnull=True)
                | models.Q(occurred_until__isnull=True)
                | models.Q(occurred_from__lte=models.F("occurred_until")),
                name="breach_occurred_period_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(authority_decision__in=AuthorityDecision.values),
                name="breach_authority_decision_valid",
            ),
            # Notified means when and under which reference; not notified needs a reason.
            models.CheckConstraint(
                condition=models.Q(authority_decision=AuthorityDecision.PENDING)
                | models.Q(
                    authority_decision=AuthorityDecision.NOTIFIED,
                    authority_notified_at__isnull=False,
                )
                & ~models.Q(authority_reference="")
                | models.Q(authority_decision=AuthorityDecision.NOT_NOTIFIED)
                & ~models.Q(authority_reason=""),
                name="breach_authority_decision_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(subjects_decision__in=SubjectsDecision.values),
                name="breach_subjects_decision_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(subjects_decision=SubjectsDecision.PENDING)
                | ~models.Q(subjects_reason=""),
                name="breach_subjects_decision_explained",
            ),
            models.CheckConstraint(
                condition=models.Q(unintelligible__in=["", *YesNoPartly.values])
                & models.Q(contact_details_known__in=["", *YesNoPartly.values]),
                name="breach_yes_no_partly_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(consequence_severity__in=["", *Severity.values])
                & models.Q(other_org_role__in=["", *OrganisationRole.values]),
                name="breach_severity_and_role_valid",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(occurred_from_time__isnull=True)
                    | models.Q(occurred_from__isnull=False)
                )
                & (
                    models.Q(occurred_until_time__isnull=True)
                    | models.Q(occurred_until__isnull=False)
                ),
                name="breach_occurred_time_has_date",
            ),
            # Only a notification that was made can be followed up or withdrawn.
            models.CheckConstraint(
                condition=models.Q(authority_followup_at__isnull=True)
                | models.Q(authority_decision=AuthorityDecision.NOTIFIED),
                name="breach_followup_needs_notification",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    authority_withdrawn_at__isnull=True,
                    authority_withdrawal_reason="",
                    authority_withdrawal_reference="",
                )
                | models.Q(
                    authority_decision=AuthorityDecision.NOTIFIED,
                    authority_withdrawn_at__isnull=False,
                )
                & ~models.Q(authority_withdrawal_reason=""),
                name="breach_withdrawal_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.summary[:50]}"

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        unknown = [code for code in self.data_categories or () if code not in DataCategory.values]
        if not isinstance(self.data_categories, list) or unknown:
            errors["data_categories"] = _("Choose kinds of personal data from the list.")
        if not _codes_valid(self.incident_kinds, IncidentKind):
            errors["incident_kinds"] = _("Choose kinds of incident from the list.")
        if not _codes_valid(self.consequence_kinds, ConsequenceKind):
            errors["consequence_kinds"] = _("Choose kinds of consequences from the list.")
        if self.occurred_from_time and not self.occurred_from:
            errors["occurred_from"] = _("Enter the date that goes with the time.")
        if self.occurred_until_time and not self.occurred_until:
            errors["occurred_until"] = _("Enter the date that goes with the time.")
        if (
            self.persons_min is not None
            and self.persons_max is not None
            and self.persons_min > self.persons_max
        ):
            errors["persons_max"] = _("The maximum cannot be lower than the minimum.")
        start, end = self.occurred_start, self.occurred_end
        if self.occurred_from and self.occurred_until and self.occurred_from > self.occurred_until:
            errors["occurred_until"] = _("The end of the period cannot be before its start.")
        elif start and end and start > end:
            errors["occurred_until_time"] = _("The end of the period cannot be before its start.")
        if errors:
            raise ValidationError(errors)

    @property
    def occurred_start(self) -> datetime.datetime | None:
        """When it started, in Europe/Amsterdam; None unless both date and time are known."""
        return _local_moment(self.occurred_from, self.occurred_from_time)

    @property
    def occurred_end(self) -> datetime.datetime | None:
        return _local_moment(self.occurred_until, self.occurred_until_time)

    @property
    def reference(self) -> str:
        """A short reference for the register and emails: discovery date and id prefix."""
        local = timezone.localtime(self.discovered_at)
        return f"{local:%Y%m%d}-{str(self.public_id)[:4].upper()}"

    @property
    def is_open(self) -> bool:
        return self.status == BreachStatus.OPEN

    @property
    def has_sensitive_data(self) -> bool:
        return any(code in SENSITIVE_CATEGORIES for code in self.data_categories)

    def log(
        self,
        kind: str,
        origin: Origin,
        *,
        text: str = "",
        changes: dict[str, Any] | None = None,
        at: datetime.datetime | None = None,
    ) -> "BreachUpdate":
        """Write one entry on the breach's timeline: what happened and who did it."""
        return BreachUpdate.objects.create(
            breach=self,
            kind=kind,
            text=text,
            changes=changes or {},
            author_id=origin.user_id,
            author_name=origin.name[:200],
            at=at or timezone.now(),
        )

    def category_labels(self) -> list["StrOrPromise"]:
        labels = dict(DataCategory.choices)
        return [labels[code] for code in self.data_categories if code in labels]

    def incident_labels(self) -> list["StrOrPromise"]:
        """The kinds of incident, "other" replaced by what the coach wrote, if anything."""
        labels = dict(IncidentKind.choices)
        shown: list[StrOrPromise] = [
            labels[code]
            for code in self.incident_kinds or ()
            if code in labels and code != IncidentKind.OTHER
        ]
        if self.incident_other:
            shown.append(self.incident_other)
        elif IncidentKind.OTHER in (self.incident_kinds or ()):
            shown.append(labels[IncidentKind.OTHER])
        return shown

    def consequence_labels(self) -> list["StrOrPromise"]:
        labels = dict(ConsequenceKind.choices)
        return [labels[code] for code in self.consequence_kinds or () if code in labels]

    @property
    def authority_withdrawn(self) -> bool:
        return self.authority_withdrawn_at is not None

    def authority_followups(self) -> list["BreachUpdate"]:
        """The follow-ups sent to the AP, oldest first, from the timeline (the register
        prefetches them as `prefetched_followups`)."""
        prefetched = getattr(self, "prefetched_followups", None)
        if prefetched is not None:
            return list(prefetched)
        return list(self.updates.filter(kind=BreachUpdate.Kind.AUTHORITY_FOLLOWUP))

    def sent_notifications(self) -> list["ClientNotification"]:
        """The emails to clients that went to the mail server (prefetch-friendly)."""
        return [n for n in self.notifications.all() if n.sent_at]

    def nature_labels(self) -> list["StrOrPromise"]:
        return [
            cast("models.Field[Any, Any]", self._meta.get_field(name)).verbose_name
            for name in ("nature_confidentiality", "nature_integrity", "nature_availability")
            if getattr(self, name)
        ]

    def triage_answers(self) -> list[tuple["StrOrPromise", bool | None]]:
        return [(question, getattr(self, field)) for field, question in TRIAGE_QUESTIONS]

    # Deadlines ---------------------------------------------------------------------------

    @property
    def client_deadline(self) -> datetime.datetime:
        return deadlines.client_deadline(self.discovered_at)

    @property
    def authority_deadline(self) -> datetime.datetime:
        return deadlines.authority_deadline(self.discovered_at)

    def clients_still_to_inform(self) -> list["Client"]:
        """Linked clients without a delivered notification."""
        informed = {n.client_id for n in self.notifications.all() if n.delivered and n.client_id}
        return [client for client in self.clients.all() if client.pk not in informed]

    @property
    def clients_informed_at(self) -> datetime.datetime | None:
        """When the last linked client was informed; None while any is still to inform (or
        none is linked yet)."""
        # .all(), not .exists(): the register prefetches the clients of a page of breaches.
        if not self.clients.all() or self.clients_still_to_inform():
            return None
        delivered = [
            n.sent_at for n in self.notifications.all() if n.delivered and n.sent_at is not None
        ]
        return max(delivered) if delivered else None

    @property
    def authority_done_at(self) -> datetime.datetime | None:
        """When the 72-hour duty was met: the moment the AP was notified (which the coach may
        record afterwards), or the decision not to notify."""
        if self.authority_decision == AuthorityDecision.PENDING:
            return None
        if self.authority_decision == AuthorityDecision.NOTIFIED and self.authority_notified_at:
            return self.authority_notified_at
        return self.authority_decided_at

    def deadlines(self, now: datetime.datetime | None = None) -> list[Deadline]:
        return deadlines.deadlines_for(self, now=now)


def _codes_valid(codes: object, choices: type[models.TextChoices]) -> bool:
    return isinstance(codes, list) and all(code in choices.values for code in codes)


def _local_moment(
    date: datetime.date | None, time: datetime.time | None
) -> datetime.datetime | None:
    if date is None or time is None:
        return None
    return datetime.datetime.combine(date, time, tzinfo=timezone.get_default_timezone())


class BreachUpdateQuerySet(models.QuerySet["BreachUpdate"]):
    """Timeline entries are evidence: not even a bulk update or delete may touch them."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableEntryError("Breach timeline entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise ImmutableEntryError("Breach timeline entries cannot be deleted.")


class ImmutableEntryError(Exception):
    pass


# The emails whose outcome the timeline records (breaches.actions.record_delivery).
DELIVERED_EMAILS = {
    "breach notification": pgettext_lazy("an email on the timeline", "breach notification"),
    "deadline reminder": pgettext_lazy("an email on the timeline", "deadline reminder"),
}


class BreachUpdate(models.Model):
    """One entry of a breach's timeline: the first report, each later update (clause 7.2),
    each decision and notification. Written once, never changed."""

    class Kind(models.TextChoices):
        REPORTED = "reported", _("breach logged")
        UPDATED = "updated", _("report updated")
        CLIENTS_NOTIFIED = "clients_notified", _("clients notified")
        EMAIL_FAILED = "email_failed", _("email could not be sent")
        EMAIL_ACCEPTED = "email_accepted", _("email accepted by the mail server")
        AUTHORITY_DECISION = "authority", _("decision on notifying the AP")
        SUBJECTS_DECISION = "subjects", _("decision on informing the persons")
        AUTHORITY_FOLLOWUP = "authority_followup", _("follow-up sent to the AP")
        AUTHORITY_WITHDRAWN = "authority_withdrawn", _("notification to the AP withdrawn")
        REMINDER = "reminder", _("deadline reminder sent")
        CLOSED = "closed", _("breach closed")
        REOPENED = "reopened", _("breach reopened")

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="updates")
    kind = models.CharField(max_length=20, choices=Kind)
    text = models.TextField(blank=True)
    # What the update changed: field name → its new value as shown to a reader.
    changes = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = BreachUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["breach", "at", "id"], name="breach_update_timeline_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "reported",
                        "updated",
                        "clients_notified",
                        "email_failed",
                        "email_accepted",
                        "authority",
                        "subjects",
                        "authority_followup",
                        "authority_withdrawn",
                        "reminder",
                        "closed",
                        "reopened",
                    ]
                ),
                name="breach_update_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableEntryError("Breach timeline entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableEntryError("Breach timeline entries cannot be deleted.")

    @property
    def shown_text(self) -> str:
        """The text as the timeline shows it: an email's outcome, written in the code's
        words like all evidence, in the reader's language."""
        if self.kind in (self.Kind.EMAIL_FAILED, self.Kind.EMAIL_ACCEPTED):
            shown = shown_delivery(self.text, DELIVERED_EMAILS)
            if shown is not None:
                return shown
        return self.text


class ClientNotification(models.Model):
    """The email to one affected client, with whether the mail server took it. The client's
    name and address are copied: the record outlives a deleted client."""

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="notifications")
    client = models.ForeignKey(
        "core.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="breach_notifications",
    )
    client_name = models.CharField(max_length=200)
    email = models.EmailField()
    message = models.TextField(blank=True, max_length=4000)
    # The email's text as it was queued: what the client was told (art. 34(2), 5(2)), kept
    # when the breach's facts are updated later. The outbox forgets its copy once sent.
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["breach", "created_at", "id"], name="breach_notification_idx")
        ]

    def __str__(self) -> str:
        return f"{self.client_name} <{self.email}>"
