import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from avg_portal.downloads import name_part
from core.constraints import ChecksInOneQuery
from core.models import Client, DataKind, Practice, SecurityProfileFields, phone_validator
from core.origin import Actor, Origin

from . import evidence


class RetentionUnit(models.TextChoices):
    DAY = "day", _("days")
    MONTH = "month", _("months")
    YEAR = "year", _("years")


class RetentionFrom(models.TextChoices):
    AGREEMENT_END = "agreement_end", _("after the end of the agreement")
    FINANCIAL_YEAR_END = "financial_year_end", _("after the end of the financial year")


RETENTION_ALL_OR_NONE = _(
    "To compute the retention period, fill in all three: the number, the unit and from when "
    "it runs; or leave all three empty."
)


class ProcessingActivityFields(models.Model):
    """One row of Bijlage 1: a processing activity and what it involves."""

    description = models.TextField(_("description of the processing"), max_length=2000)
    purposes = models.TextField(_("purposes"), max_length=2000)
    controller = models.CharField(_("controller"), max_length=200)
    processor = models.CharField(_("processor"), max_length=200)
    sub_processors = models.CharField(
        _("sub-processors"),
        max_length=500,
        blank=True,
        help_text=_("E.g. your email provider or accounting software; leave empty if none."),
    )
    personal_data = models.TextField(_("personal data processed"), max_length=2000)
    location = models.CharField(_("location of processing"), max_length=300)
    retention = models.CharField(_("retention period"), max_length=300)
    # The same period, structured, so that the app can compute when the data is due for
    # destruction. Optional: the free text above is what the document prints.
    retention_amount = models.PositiveSmallIntegerField(
        _("retention: how many"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    retention_unit = models.CharField(
        _("retention: unit"), max_length=5, choices=RetentionUnit, blank=True
    )
    retention_from = models.CharField(
        _("retention: counted from"), max_length=20, choices=RetentionFrom, blank=True
    )
    # The entries of the practice's sub-processor register (`Subprocessor` ids) this row
    # names; `sub_processors` above is the text printed from them. A row made before the
    # register existed has none and keeps its own free text.
    subprocessor_ids = models.JSONField(
        _("sub-processors from your register"), default=list, blank=True
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]
        constraints = [
            # A computed due date needs all three parts; half a period would be a guess.
            models.CheckConstraint(
                condition=models.Q(
                    retention_amount__isnull=True, retention_unit="", retention_from=""
                )
                | models.Q(
                    retention_amount__gte=1,
                    retention_amount__lte=100,
                    retention_unit__in=RetentionUnit.values,
                    retention_from__in=RetentionFrom.values,
                ),
                name="%(app_label)s_%(class)s_retention_all_or_none",
                violation_error_message=RETENTION_ALL_OR_NONE,
            ),
        ]

    COPIED_FIELDS = (
        "description",
        "purposes",
        "controller",
        "processor",
        "sub_processors",
        "subprocessor_ids",
        "personal_data",
        "location",
        "retention",
        "retention_amount",
        "retention_unit",
        "retention_from",
        "position",
    )

    def __str__(self) -> str:
        return self.description[:60]

    def copy_values(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.COPIED_FIELDS}


class DefaultProcessingActivity(ProcessingActivityFields):
    """A Bijlage 1 row every new agreement of the practice starts with."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="default_activities"
    )

    class Meta(ProcessingActivityFields.Meta):
        verbose_name = _("default processing activity")
        verbose_name_plural = _("default processing activities")


class ArchivedAgreementError(Exception):
    """Something tried to change an agreement that is sealed and archived."""


def final_pdf_path(document: "SignableDocument", filename: str) -> str:
    return f"{document.STORAGE_FOLDER}/{timezone.now():%Y/%m}/{filename}"


class DocumentKind(models.TextChoices):
    AGREEMENT = "agreement", _("processing agreement")
    DECLARATION = "declaration", _("declaration of return or destruction")
    ADDENDUM = "addendum", _("addendum to Bijlage 1 and 2")


@dataclass(frozen=True)
class SigningWords:
    """What the signing path says about one kind of document, in the active language: the
    client's signing page and its form, and the emails of the path. Each kind gives its own
    (`SignableDocument.signing_words`); the shared view, form and templates only show them,
    so a new kind of document brings its wording here and touches none of them."""

    name: str  # the signing page's title
    heading: str  # the heading of the summary at the top of the page
    summary: str  # what the client is asked, below it
    text_heading: str  # above the text to read
    sign: str  # the sign button
    signed: str  # the thank-you page's heading
    consent: str  # the box the client ticks; kept with the signature as evidence
    consent_required: str  # when it is not ticked
    invitation_subject: str
    invitation: str  # what the invitation asks, before the link
    reminder: str  # what a reminder says first, before the invitation's words
    code_subject: str  # the signer code's email
    sealing_delayed: str  # to the coach, when the sealed PDF is late


class SignableDocument(models.Model):
    """What every document the parties sign has in common, whatever it says.

    The exact version they sign is rendered once and hashed when it is sent; links and
    signatures point here; after the last signature the final PDF (signatures, evidence) is
    sealed and stored once with its SHA-256. Each kind of document (the agreement, the
    declaration of clause 9.3, the addendum to Bijlage 1 and 2) is a model that inherits from
    this one and adds its own fields, status and wording (`signing_words`);
    `agreements.signing` does the rest, the same for all kinds (the README's Layout lists
    what a new kind adds).
    """

    Kind = DocumentKind

    # Not `id`: the documents that inherit from this keep their own `id` (and every foreign
    # key to it); they link here through their `document` field.
    key = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=20, choices=Kind, editable=False)
    # The version the parties sign: rendered once, when it is sent.
    document_pdf = models.BinaryField(default=b"", blank=True, editable=False)
    document_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The final document: the signatures and the evidence page, sealed, stored once.
    final_pdf = models.FileField(upload_to=final_pdf_path, blank=True, editable=False)
    final_sha256 = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Sealing that failed (a full disk, a worker that died) is tried again by the recovery
    # sweep with growing pauses; after repeated failure the coach and the operator are told,
    # once.
    seal_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    seal_error = models.CharField(max_length=500, blank=True, editable=False)
    seal_retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    seal_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Set by each kind of document.
    KIND: str
    STORAGE_FOLDER: str
    # Where its sealed PDF goes in an exported dossier (records.export).
    DOSSIER_FOLDER: str
    # The file name (without date and extension) of its PDF, and its email when sealed.
    FILE_STEM: str
    COMPLETED_EMAIL: str
    # Whether the client may decline it (a declaration states a fact: nothing to decline).
    DECLINABLE: bool
    # The events it writes on the agreement's timeline when the client signs and when sealed.
    SIGNED_EVENT: str
    COMPLETED_EVENT: str

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=DocumentKind.values),
                name="signabledocument_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each kind of document says which kind it is; the base row is told so at once.
        if not self.kind and hasattr(self, "KIND"):
            self.kind = self.KIND

    def concrete(self) -> "ConcreteDocument":
        """The agreement, declaration or addendum this is."""
        if type(self) is not SignableDocument:
            return self  # type: ignore[return-value]
        return getattr(self, f"as_{self.kind}")

    @property
    def is_archived(self) -> bool:
        return bool(self.final_sha256)

    @property
    def dossier(self) -> "Agreement":
        """The agreement this document belongs to (an agreement belongs to itself)."""
        raise NotImplementedError

    @property
    def awaits_client_signature(self) -> bool:
        raise NotImplementedError

    @property
    def is_signed(self) -> bool:
        """Signed by every party: ready to be sealed."""
        raise NotImplementedError

    def mark_signed_by_client(self) -> None:
        raise NotImplementedError

    def download_name(self) -> str:
        return f"{self.FILE_STEM}.pdf"

    def signing_words(self) -> SigningWords:
        raise NotImplementedError

    def dossier_member(self, base: str) -> str:
        """Its sealed PDF's name in an exported dossier, from the agreement's base name."""
        return f"{self.DOSSIER_FOLDER}/{base}.pdf"

    @property
    def text_version(self) -> str:
        """The version of the text the parties sign."""
        raise NotImplementedError


# What Bijlage 4 names as the data subjects unless the coach says otherwise.
DEFAULT_DATA_SUBJECT_CATEGORIES = "De cliënt"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent for signing")
    SIGNED = "signed", _("signed")
    DECLINED = "declined", _("declined")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired")


class Agreement(ChecksInOneQuery, SecurityProfileFields, SignableDocument):
    """A processing agreement (verwerkersovereenkomst) between a practice and a client.

    The party details are copied in when the draft is made, so the agreement prints what the
    parties agreed on even if the practice or client details change later.
    """

    Status = AgreementStatus
    KIND = SignableDocument.Kind.AGREEMENT
    STORAGE_FOLDER = "agreements"
    DOSSIER_FOLDER = "verwerkersovereenkomsten"
    FILE_STEM = "verwerkersovereenkomst"
    COMPLETED_EMAIL = "agreement_completed"
    DECLINABLE = True
    SIGNED_EVENT = "signed_client"
    COMPLETED_EVENT = "completed"

    id = models.BigAutoField(primary_key=True)
    document = models.OneToOneField(
        SignableDocument,
        on_delete=models.CASCADE,
        parent_link=True,
        related_name="as_agreement",
        editable=False,
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="agreements")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="agreements")
    status = models.CharField(
        _("status"), max_length=10, choices=AgreementStatus, default=AgreementStatus.DRAFT
    )
    template_version = models.CharField(_("template version"), max_length=20, editable=False)

    agreement_date = models.DateField(_("date of this agreement"))
    coaching_agreement_date = models.DateField(_("date of the coaching agreement"))
    penalty_per_violation = models.DecimalField(
        _("penalty per violation (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    penalty_per_day = models.DecimalField(
        _("penalty per day of violation (€)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )

    # Party 1, the practice, as printed.
    practice_name = models.CharField(_("practice name"), max_length=200)
    practice_seat = models.CharField(_("statutory seat"), max_length=100)
    # Party 2, the client, as printed.
    client_name = models.CharField(_("client's name"), max_length=200)
    client_residence = models.CharField(_("client's place of residence"), max_length=100)
    # Bijlage 3: whom to contact about a breach.
    breach_contact_role = models.CharField(_("breach contact (role or name)"), max_length=150)
    breach_contact_phone = models.CharField(
        _("breach contact phone"), max_length=20, validators=[phone_validator]
    )
    breach_contact_email = models.EmailField(_("breach contact email"))

    decline_reason = models.TextField(blank=True, max_length=2000, editable=False)

    # Bijlage 4, the optional supplement that completes the text against art. 28 GDPR: the
    # version of its text the parties agree to, or empty without it (document_versions).
    supplement_version = models.CharField(
        _("Bijlage 4 text version"), max_length=20, blank=True, editable=False
    )
    # Printed in Bijlage 4 (art. 28(3): the categories of data subjects).
    data_subject_categories = models.CharField(
        _("categories of data subjects"),
        max_length=500,
        blank=True,
        default=DEFAULT_DATA_SUBJECT_CATEGORIES,
        help_text=_("Whose personal data you process, e.g. the client and, if any, a parent."),
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("processing agreement")
        verbose_name_plural = _("processing agreements")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "status", "-created_at"]),
            # The archive list and the dashboard: a practice's newest first, a page at a time.
            models.Index(fields=["practice", "-created_at", "-id"], name="agreement_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AgreementStatus.values),
                name="agreement_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(data_kind__in=DataKind.values),
                name="agreement_data_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(penalty_per_violation__gte=0, penalty_per_day__gte=0),
                name="agreement_penalties_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_name} ({self.agreement_date:%d-%m-%Y})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A sealed agreement is evidence: once archived, no code path may change its row.
        # Asking the database (not this object's copy) also catches stale instances.
        self._refuse_if_archived()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._refuse_if_archived()
        return super().delete(*args, **kwargs)

    def _refuse_if_archived(self) -> None:
        if self.pk and Agreement.objects.filter(pk=self.pk).exclude(final_sha256="").exists():
            raise ArchivedAgreementError(f"Agreement {self.public_id} is archived and immutable.")

    @property
    def is_draft(self) -> bool:
        return self.status == AgreementStatus.DRAFT

    @property
    def dossier(self) -> "Agreement":
        return self

    def dossier_documents(self) -> "list[ConcreteDocument]":
        """Every signable document of this agreement's dossier: itself, its declaration and
        its addenda. Erasure, the archive audit and the dossier export go through this list,
        so a new kind of document is added here once. Callers prefetch `declaration` and
        `addenda` for many agreements."""
        declaration = getattr(self, "declaration", None)
        return [self, *([declaration] if declaration else []), *self.addenda.all()]

    @property
    def awaits_client_signature(self) -> bool:
        return self.status == AgreementStatus.SENT

    @property
    def is_signed(self) -> bool:
        return self.status == AgreementStatus.SIGNED

    def log(
        self,
        kind: str,
        origin: Origin,
        *,
        document: SignableDocument | None = None,
        detail: str = "",
        at: datetime.datetime | None = None,
    ) -> "AgreementEvent":
        """Write one event on this agreement's evidence trail: what happened, to which of its
        documents (itself, its declaration), who did it and from where. Each event is chained
        to the one before it by their hashes (agreements.evidence)."""
        with transaction.atomic():
            # One writer at a time per agreement, so two events never claim the same
            # predecessor.
            Agreement.objects.select_for_update().filter(pk=self.pk).values_list("pk").get()
            last = self.events.order_by("-id").values_list("sha256", flat=True).first()
            event = AgreementEvent(
                agreement=self,
                document=document,
                kind=kind,
                actor=origin.actor,
                actor_name=origin.name[:200],
                ip_address=origin.ip_address,
                user_agent=origin.user_agent,
                detail=detail[:1000],
                at=at or timezone.now(),
                previous_sha256=last or "",
            )
            event.sha256 = evidence.chain_hash(event.previous_sha256, event)
            event.save(force_insert=True)
        return event

    def mark_signed_by_client(self) -> None:
        self.status = AgreementStatus.SIGNED
        self.save(update_fields=["status"])

    def signing_words(self) -> SigningWords:
        practice, client = {"practice": self.practice_name}, {"name": self.client_name}
        return SigningWords(
            name=gettext("Processing agreement"),
            heading=gettext("Processing agreement"),
            summary=gettext(
                "%(practice)s asks you to read and sign this agreement. It describes how your "
                "personal data is handled during your coaching."
            )
            % practice,
            text_heading=gettext("The agreement"),
            sign=gettext("Sign the agreement"),
            signed=gettext("Thank you, the agreement is signed"),
            consent=gettext("I have read the processing agreement and agree to it."),
            consent_required=gettext("Tick that you have read the agreement and agree to it."),
            invitation_subject=gettext("%(practice)s asks you to sign the processing agreement")
            % practice,
            invitation=gettext(
                "%(practice)s asks you to read and sign the processing agreement "
                "(verwerkersovereenkomst) that belongs to your coaching. It describes how your "
                "personal data is handled and protected."
            )
            % practice,
            reminder=gettext("You have not signed the processing agreement yet."),
            code_subject=gettext("Your code to sign the processing agreement with %(practice)s")
            % practice,
            sealing_delayed=gettext(
                "%(name)s signed the processing agreement, but its sealed PDF could not be made "
                "yet, after several tries."
            )
            % client,
        )

    def download_name(self) -> str:
        return f"{self.FILE_STEM}-{name_part(self.client_name)}-{self.agreement_date:%Y-%m-%d}.pdf"

    @property
    def text_version(self) -> str:
        return self.template_version

    @property
    def with_supplement(self) -> bool:
        """Whether Bijlage 4 (art. 28 GDPR) is part of this agreement."""
        return bool(self.supplement_version)


class ProcessingActivity(ProcessingActivityFields):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="activities")

    class Meta(ProcessingActivityFields.Meta):
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")


class Party(models.TextChoices):
    PRACTICE = "practice", _("the practice (Verantwoordelijke)")
    CLIENT = "client", _("the client (Verwerker)")


class Signature(models.Model):
    """One party's signature on one exact version of an agreement (its SHA-256)."""

    class Method(models.TextChoices):
        DRAWN = "drawn", _("drawn")
        TYPED = "typed", _("typed")

    document = models.ForeignKey(
        SignableDocument, on_delete=models.CASCADE, related_name="signatures"
    )
    party = models.CharField(max_length=10, choices=Party)
    name = models.CharField(_("name"), max_length=200)
    function = models.CharField(_("function"), max_length=200)
    place = models.CharField(_("place"), max_length=100)
    method = models.CharField(max_length=10, choices=Method)
    # A PNG of a drawn signature; a typed one is printed from `name` in a script face.
    image = models.BinaryField(blank=True, default=b"", editable=False)
    document_sha256 = models.CharField(max_length=64)
    # What the signer agreed to, word for word, and the text version of the document.
    consent_text = models.TextField(blank=True)
    text_version = models.CharField(max_length=20, blank=True)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # One signature per party: the database refuses a second, whatever the timing.
            models.UniqueConstraint(
                fields=["document", "party"], name="one_signature_per_party_and_document"
            ),
            models.CheckConstraint(
                condition=models.Q(party__in=["practice", "client"]), name="signature_party_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=["drawn", "typed"]), name="signature_method_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.party})"


class SigningLink(models.Model):
    """The personal link a client signs with. Only the SHA-256 of its token is stored."""

    document = models.ForeignKey(
        SignableDocument, on_delete=models.CASCADE, related_name="signing_links"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    # The address the link was emailed to: the evidence names it, whatever the client's
    # address is later changed to.
    sent_to = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_emailed_at = models.DateTimeField(null=True, blank=True)
    email_failed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"link for {self.document_id} until {self.expires_at:%Y-%m-%d}"

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class AgreementEvent(models.Model):
    """The evidence trail: what happened to an agreement, when, by whom, from where."""

    class Kind(models.TextChoices):
        CREATED = "created", _("draft made")
        SIGNED_BY_PRACTICE = "signed_practice", _("signed by the coach")
        SENT = "sent", _("sent to the client")
        EMAIL_ACCEPTED = "email_accepted", _("email accepted by the mail server")
        EMAIL_FAILED = "email_failed", _("email could not be sent")
        OPENED = "opened", _("link opened")
        SIGNER_CODE_SENT = "signer_code_sent", _("signing code sent")
        SIGNER_CODE_CONFIRMED = "signer_code_confirmed", _("signing code confirmed")
        VIEWED = "viewed", _("document viewed")
        DOWNLOADED = "downloaded", _("PDF downloaded")
        SIGNED_BY_CLIENT = "signed_client", _("signed by the client")
        DECLINED = "declined", _("declined by the client")
        REMINDED = "reminded", _("reminder sent")
        WITHDRAWN = "withdrawn", _("withdrawn by the coach")
        EXPIRED = "expired", _("signing link expired")
        REOPENED = "reopened", _("made a draft again")
        COMPLETED = "completed", _("sealed and archived")
        ENDED = "ended", _("ended with the coaching agreement")
        DECLARATION_SENT = "declaration_sent", _("declaration of return or destruction sent")
        DECLARATION_SIGNED = "declaration_signed", _("declaration signed by the client")
        DECLARATION_COMPLETED = "declaration_completed", _("declaration sealed and archived")
        ADDENDUM_CREATED = "addendum_created", _("addendum drafted")
        ADDENDUM_SENT = "addendum_sent", _("addendum signed by the coach and sent")
        ADDENDUM_SIGNED = "addendum_signed", _("addendum signed by the client")
        ADDENDUM_COMPLETED = "addendum_completed", _("addendum sealed and archived")
        ADDENDUM_WITHDRAWN = "addendum_withdrawn", _("addendum withdrawn by the coach")
        SUBPROCESSOR_NOTICE = "subprocessor_notice", _("told of a change of sub-processors")
        SUBPROCESSOR_OBJECTION = "subprocessor_objection", _("objection to a sub-processor")
        SUBPROCESSOR_CONSENT = "subprocessor_consent", _("consent to a sub-processor")
        TIMESTAMPED = "timestamped", _("timestamp of the document obtained")
        EVIDENCE_RENEWED = "evidence_renewed", _("seal evidence renewed (new timestamp)")
        DATA_DISPOSED = "data_disposed", _("data of a Bijlage 1 row destroyed or returned")

    Actor = Actor

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="events")
    # The document of the agreement's dossier the event concerns (the agreement itself, its
    # declaration); empty for what concerns the dossier as a whole (made, ended).
    document = models.ForeignKey(
        SignableDocument,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="document_events",
    )
    kind = models.CharField(max_length=30, choices=Kind)
    actor = models.CharField(max_length=10, choices=Actor)
    actor_name = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=1000, blank=True)
    # A hash chain per agreement: the SHA-256 of this event's content and of the event
    # before it, so that a changed, removed or inserted event shows (agreements.evidence).
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    previous_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["at", "id"]
        # An agreement's timeline, a page at a time.
        indexes = [models.Index(fields=["agreement", "at", "id"], name="event_timeline")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind}"

    @property
    def shown_detail(self) -> str:
        """The detail as the coach's timeline shows it, in her language."""
        return evidence.shown_detail(self.detail)


class AgreementEnding(models.Model):
    """The end of a signed agreement (clause 2.3: it ends with the coaching agreement).

    A row of its own, because the signed agreement itself is archived and never changes."""

    agreement = models.OneToOneField(Agreement, on_delete=models.CASCADE, related_name="ending")
    coaching_ended_on = models.DateField(_("the coaching agreement ended on"))
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("end of an agreement")
        verbose_name_plural = _("ends of agreements")

    def __str__(self) -> str:
        return f"{self.agreement_id} ended {self.coaching_ended_on}"


# The declaration's wording (templates/pdf/declaration/); a new wording gets a new version.
DECLARATION_TEXT_VERSION = "2026.1"


class Declaration(SignableDocument):
    """The client's written declaration that the personal data was returned or destroyed
    (clause 9.3), signed through the same link-and-sign machinery as the agreement."""

    KIND = SignableDocument.Kind.DECLARATION
    STORAGE_FOLDER = "declarations"
    DOSSIER_FOLDER = "verklaringen"
    FILE_STEM = "verklaring-teruggave-vernietiging"
    COMPLETED_EMAIL = "declaration_completed"
    DECLINABLE = False
    SIGNED_EVENT = "declaration_signed"
    COMPLETED_EVENT = "declaration_completed"

    class Disposition(models.TextChoices):
        RETURNED = "returned", _("returned")
        DESTROYED = "destroyed", _("destroyed")
        BOTH = "both", _("returned, and what remained destroyed")

    class Status(models.TextChoices):
        SENT = "sent", _("sent for signing")
        SIGNED = "signed", _("signed")

    id = models.BigAutoField(primary_key=True)
    document = models.OneToOneField(
        SignableDocument,
        on_delete=models.CASCADE,
        parent_link=True,
        related_name="as_declaration",
        editable=False,
    )
    agreement = models.OneToOneField(
        Agreement, on_delete=models.CASCADE, related_name="declaration"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    disposition = models.CharField(
        _("what happened to the data"), max_length=10, choices=Disposition
    )
    data_description = models.TextField(_("which personal data"), max_length=2000)
    done_on = models.DateField(_("when"))
    method = models.TextField(
        _("how"), max_length=2000, help_text=_("E.g. files deleted and the bin emptied.")
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.SENT)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["sent", "signed"]), name="declaration_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(disposition__in=["returned", "destroyed", "both"]),
                name="declaration_disposition_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"declaration for {self.agreement_id}"

    @property
    def dossier(self) -> Agreement:
        return self.agreement

    @property
    def awaits_client_signature(self) -> bool:
        return self.status == self.Status.SENT

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    def mark_signed_by_client(self) -> None:
        self.status = self.Status.SIGNED
        self.save(update_fields=["status"])

    def signing_words(self) -> SigningWords:
        agreement = self.agreement
        practice, client = {"practice": agreement.practice_name}, {"name": agreement.client_name}
        title = gettext("Declaration of return or destruction")
        return SigningWords(
            name=title,
            heading=title,
            summary=gettext(
                "Your processing agreement with %(practice)s has ended. As agreed in clause "
                "9.3, you declare in writing that you returned or destroyed the personal data. "
                "Read the declaration and sign it."
            )
            % practice,
            text_heading=gettext("The declaration"),
            sign=gettext("Sign the declaration"),
            signed=gettext("Thank you, the declaration is signed"),
            consent=gettext("I have read the declaration and declare that it is true."),
            consent_required=gettext(
                "Tick that you have read the declaration and declare that it is true."
            ),
            invitation_subject=gettext(
                "%(practice)s asks you to sign the declaration of return or destruction"
            )
            % practice,
            invitation=gettext(
                "Your processing agreement with %(practice)s has ended. As agreed in clause "
                "9.3, %(practice)s asks you to declare in writing that you returned or "
                "destroyed the personal data. Read and sign the declaration."
            )
            % practice,
            reminder=gettext("You have not signed the declaration of return or destruction yet."),
            code_subject=gettext("Your code to sign the declaration for %(practice)s") % practice,
            sealing_delayed=gettext(
                "%(name)s signed the declaration of return or destruction, but its sealed PDF "
                "could not be made yet, after several tries."
            )
            % client,
        )

    def download_name(self) -> str:
        client = name_part(self.agreement.client_name)
        return f"{self.FILE_STEM}-{client}-{self.done_on:%Y-%m-%d}.pdf"

    @property
    def text_version(self) -> str:
        return DECLARATION_TEXT_VERSION


# The addendum's wording (templates/pdf/addendum/); a new wording gets a new version.
ADDENDUM_TEXT_VERSION = "2026.1"


class AddendumStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent for signing")
    SIGNED = "signed", _("signed")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Addendum(SecurityProfileFields, SignableDocument):
    """A change of Bijlage 1 and/or 2 of a signed agreement, signed by both parties.

    It carries the whole of both annexes as they read from `effective_on`: the rows and the
    Bijlage 2 fields, prefilled from the annexes in force when it was drafted. What changes
    is computed against those (agreements.addenda), so the document can show old and new
    side by side, and the annexes in force on any day are the agreement's, replaced by those
    of its latest signed addendum that applies by then."""

    Status = AddendumStatus
    KIND = SignableDocument.Kind.ADDENDUM
    STORAGE_FOLDER = "addenda"
    DOSSIER_FOLDER = "addenda"
    FILE_STEM = "addendum"
    COMPLETED_EMAIL = "addendum_completed"
    # A change both parties must agree to; the client who does not, leaves it unsigned
    # and the coach withdraws it.
    DECLINABLE = False
    SIGNED_EVENT = "addendum_signed"
    COMPLETED_EVENT = "addendum_completed"

    id = models.BigAutoField(primary_key=True)
    document = models.OneToOneField(
        SignableDocument,
        on_delete=models.CASCADE,
        parent_link=True,
        related_name="as_addendum",
        editable=False,
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="addenda")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Addendum 1, 2, ... of its agreement, in the order they were drafted.
    number = models.PositiveSmallIntegerField(editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=AddendumStatus, default=AddendumStatus.DRAFT
    )
    effective_on = models.DateField(
        _("takes effect on"), help_text=_("From this day the changed annexes apply.")
    )
    reason = models.TextField(
        _("reason for the change"),
        max_length=2000,
        blank=True,
        help_text=_("E.g. a new online agenda, or a measure that was added."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="addendum_number_unique_per_agreement"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AddendumStatus.values), name="addendum_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(data_kind__in=DataKind.values),
                name="addendum_data_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"addendum {self.number} to {self.agreement_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == AddendumStatus.DRAFT

    @property
    def dossier(self) -> Agreement:
        return self.agreement

    @property
    def awaits_client_signature(self) -> bool:
        # An agreement that ended can no longer be changed: a link sent before the end
        # (recorded before the end refused open addenda) cannot sign one.
        return self.status == AddendumStatus.SENT and not hasattr(self.agreement, "ending")

    @property
    def is_signed(self) -> bool:
        return self.status == AddendumStatus.SIGNED

    def mark_signed_by_client(self) -> None:
        self.status = AddendumStatus.SIGNED
        self.save(update_fields=["status"])

    def dossier_member(self, base: str) -> str:
        return f"{self.DOSSIER_FOLDER}/{base}-addendum-{self.number}.pdf"

    def signing_words(self) -> SigningWords:
        agreement = self.agreement
        practice = {"practice": agreement.practice_name, "number": self.number}
        return SigningWords(
            name=gettext("Addendum %(number)s") % practice,
            heading=gettext("Addendum %(number)s to your processing agreement") % practice,
            summary=gettext(
                "%(practice)s asks you to agree to a change of Bijlage 1 or 2 of your "
                "processing agreement, from %(date)s. Below, what applied and what will apply "
                "stand side by side. Read it and sign it."
            )
            % (practice | {"date": date_format(self.effective_on, "j F Y")}),
            text_heading=gettext("The addendum"),
            sign=gettext("Sign the addendum"),
            signed=gettext("Thank you, the addendum is signed"),
            consent=gettext("I have read the addendum and agree to it."),
            consent_required=gettext("Tick that you have read the addendum and agree to it."),
            invitation_subject=gettext(
                "%(practice)s asks you to sign addendum %(number)s to the processing agreement"
            )
            % practice,
            invitation=gettext(
                "%(practice)s asks you to read and sign addendum %(number)s to your processing "
                "agreement. It changes Bijlage 1 or 2: which personal data is processed and how "
                "it is protected. The old and the new text stand side by side."
            )
            % practice,
            reminder=gettext(
                "You have not signed addendum %(number)s to your processing agreement yet."
            )
            % practice,
            code_subject=gettext("Your code to sign addendum %(number)s for %(practice)s")
            % practice,
            sealing_delayed=gettext(
                "%(name)s signed addendum %(number)s, but its sealed PDF could not be made yet, "
                "after several tries."
            )
            % (practice | {"name": agreement.client_name}),
        )

    def download_name(self) -> str:
        client = name_part(self.agreement.client_name)
        return f"{self.FILE_STEM}-{self.number}-{client}-{self.effective_on:%Y-%m-%d}.pdf"

    @property
    def text_version(self) -> str:
        return ADDENDUM_TEXT_VERSION


class AddendumActivity(ProcessingActivityFields):
    """A Bijlage 1 row as an addendum has it."""

    addendum = models.ForeignKey(Addendum, on_delete=models.CASCADE, related_name="activities")

    class Meta(ProcessingActivityFields.Meta):
        verbose_name = _("processing activity of an addendum")
        verbose_name_plural = _("processing activities of addenda")


class AgreementTally(models.Model):
    """How many agreements a practice has, kept by a database trigger (agreements.tally) so
    that the archive's pages need not count them."""

    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    agreements = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.agreements} agreements of practice {self.practice_id}"


class RetentionReminder(models.Model):
    """That the coach was reminded of a Bijlage 1 row falling due for destruction, so that
    the daily reminder run mails each row twice at most: before its date, and once it has
    passed if its data was not recorded as destroyed or returned by then. The row is the
    agreement's own or, when an addendum changed Bijlage 1, the addendum's."""

    activity = models.OneToOneField(
        ProcessingActivity,
        on_delete=models.CASCADE,
        related_name="retention_reminder",
        null=True,
        blank=True,
    )
    addendum_activity = models.OneToOneField(
        "AddendumActivity",
        on_delete=models.CASCADE,
        related_name="retention_reminder",
        null=True,
        blank=True,
    )
    due_on = models.DateField()
    sent_on = models.DateField(default=timezone.localdate)
    # When the reminder that the date has passed went out (the first reminder, if the row
    # was already overdue when first announced).
    overdue_sent_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(activity__isnull=False, addendum_activity__isnull=True)
                | models.Q(activity__isnull=True, addendum_activity__isnull=False),
                name="retention_reminder_one_row",
            ),
        ]

    def __str__(self) -> str:
        return f"reminder for {self.activity_id or self.addendum_activity_id} due {self.due_on}"


class RetentionDisposal(models.Model):
    """That the data of a Bijlage 1 row was destroyed or returned, when and how, as the coach
    recorded it once its retention period ran out (or before): the retention list and the
    reminders stop asking for it, and the record stays, so that she can show it (art. 5(2)
    GDPR). The row is the agreement's own or, when an addendum changed Bijlage 1, the
    addendum's. Append-only in the database (core.immutability); erasure removes it with the
    agreement."""

    class Disposition(models.TextChoices):
        DESTROYED = "destroyed", _("destroyed")
        RETURNED = "returned", _("returned to the client")
        BOTH = "both", _("returned, and what remained destroyed")

    activity = models.OneToOneField(
        ProcessingActivity,
        on_delete=models.CASCADE,
        related_name="disposal",
        null=True,
        blank=True,
    )
    addendum_activity = models.OneToOneField(
        "AddendumActivity",
        on_delete=models.CASCADE,
        related_name="disposal",
        null=True,
        blank=True,
    )
    disposition = models.CharField(
        _("what happened to the data"), max_length=10, choices=Disposition
    )
    done_on = models.DateField(_("when"))
    method = models.CharField(
        _("how"),
        max_length=500,
        help_text=_("E.g. session notes shredded, files deleted and the bin emptied."),
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.CharField(max_length=254, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(activity__isnull=False, addendum_activity__isnull=True)
                | models.Q(activity__isnull=True, addendum_activity__isnull=False),
                name="retention_disposal_one_row",
            ),
        ]

    def __str__(self) -> str:
        row = self.activity_id or self.addendum_activity_id
        return f"row {row} {self.disposition} on {self.done_on}"


# Sub-processors (art. 28(2) and (4) GDPR) -------------------------------------------------


class Subprocessor(models.Model):
    """An entry of a practice's sub-processor register: another organisation the coach
    engages to process her clients' personal data (an email provider, accounting software).

    Bijlage 1 rows pick from the register (`ProcessingActivityFields.subprocessor_ids`) and
    print `print_label()`. An entry is never deleted: it is ended (`ended_on`), so that what
    signed agreements named stays explainable. Every addition, change and end is told to the
    clients with a signed agreement (`SubprocessorChange`, agreements.subprocessors).
    Outside the EEA (`outside_eea`) a transfer needs a safeguard (GDPR chapter V), which the
    database insists on."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="subprocessors")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(
        _("name"), max_length=200, help_text=_("E.g. Mailbox.org or Moneybird.")
    )
    service = models.CharField(
        _("service"), max_length=200, help_text=_("What they do for you, e.g. email or invoicing.")
    )
    data = models.TextField(
        _("which personal data"),
        max_length=1000,
        help_text=_("E.g. name, email address and the content of emails."),
    )
    location = models.CharField(
        _("location (country)"),
        max_length=200,
        help_text=_("Where they process the data, e.g. Germany or the Netherlands."),
    )
    outside_eea = models.BooleanField(_("outside the EEA"), default=False)
    transfer_safeguard = models.CharField(
        _("safeguard for the transfer"),
        max_length=300,
        blank=True,
        help_text=_(
            "Only outside the EEA: e.g. an adequacy decision (EU-US Data Privacy Framework) or "
            "the standard contractual clauses."
        ),
    )
    since = models.DateField(_("engaged since"))
    ended_on = models.DateField(_("no longer engaged from"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("sub-processor")
        verbose_name_plural = _("sub-processors")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outside_eea=False) | ~models.Q(transfer_safeguard=""),
                name="subprocessor_outside_eea_needs_safeguard",
                violation_error_message=_("Outside the EEA, name the safeguard for the transfer."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.ended_on is None or self.ended_on > timezone.localdate()

    def print_label(self) -> str:
        """How Bijlage 1 names it (Dutch, as the document is)."""
        label = f"{self.name} ({self.service}), {self.location}"
        if self.outside_eea:
            label += f", buiten de EER met als waarborg: {self.transfer_safeguard}"
        return label


class SubprocessorChangeKind(models.TextChoices):
    ADDED = "added", _("added")
    CHANGED = "changed", _("changed")
    ENDED = "ended", _("ended")


class SubprocessorChange(models.Model):
    """One addition, change or end of a register entry, as told to the clients: what
    changes (`summary`, Dutch plain text as emailed) and from when (`effective_on`)."""

    Kind = SubprocessorChangeKind

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="subprocessor_changes"
    )
    subprocessor = models.ForeignKey(Subprocessor, on_delete=models.CASCADE, related_name="changes")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=SubprocessorChangeKind)
    summary = models.TextField(max_length=3000)
    effective_on = models.DateField(_("takes effect on"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The register's notices, a page at a time, newest first.
        indexes = [
            models.Index(fields=["practice", "-created_at", "-id"], name="subprocessorchange_list")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SubprocessorChangeKind.values),
                name="subprocessor_change_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subprocessor_id} from {self.effective_on}"


class SubprocessorNotice(models.Model):
    """The change notice one client got: the email (its delivery as the mail server
    answered), the agreements it concerned, and the client's objection if he made one, or his
    consent where his agreement asks for it."""

    class Delivery(models.TextChoices):
        QUEUED = "queued", _("waiting to be sent")
        SENT = "sent", _("accepted by the mail server")
        FAILED = "failed", _("could not be sent")

    change = models.ForeignKey(SubprocessorChange, on_delete=models.CASCADE, related_name="notices")
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="subprocessor_notices"
    )
    agreements = models.ManyToManyField(Agreement, related_name="subprocessor_notices")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sent_to = models.EmailField()
    delivery = models.CharField(max_length=10, choices=Delivery, default=Delivery.QUEUED)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=500, blank=True)
    objection_received_on = models.DateField(_("objection received on"), null=True, blank=True)
    objection = models.TextField(_("the objection"), max_length=2000, blank=True)
    objection_recorded_at = models.DateTimeField(null=True, blank=True)
    # An agreement without Bijlage 4 lets the coach engage no one else (clause 3.4): the
    # client is asked for his consent, which the coach records when he gives it.
    consent_needed = models.BooleanField(default=False)
    consent_received_on = models.DateField(_("consent received on"), null=True, blank=True)
    consent = models.TextField(_("the consent"), max_length=2000, blank=True)
    consent_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["change", "client__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "client"], name="one_subprocessor_notice_per_client"
            ),
            models.CheckConstraint(
                condition=models.Q(delivery__in=["queued", "sent", "failed"]),
                name="subprocessor_notice_delivery_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"notice of {self.change_id} to {self.client_id}"

    @property
    def has_objection(self) -> bool:
        return self.objection_received_on is not None

    @property
    def has_consent(self) -> bool:
        return self.consent_received_on is not None


class SignerCode(models.Model):
    """A one-time code sent to the client before he signs (agreements.signer_codes): typing
    it shows he controls the mailbox (or phone) at the moment of signing, not only when the
    link was opened. Only a keyed hash of the code is kept."""

    link = models.ForeignKey(SigningLink, on_delete=models.CASCADE, related_name="signer_codes")
    # How and where it went ("email" and an address; later perhaps "sms" and a number).
    channel = models.CharField(max_length=20)
    sent_to = models.CharField(max_length=254)
    salt = models.CharField(max_length=32)
    code_hmac = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The signature it was confirmed for, so the evidence page names the code it rests on.
    signature = models.OneToOneField(
        Signature,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signer_code",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"signing code for link {self.link_id} ({self.channel})"


def sealed_version_path(version: "SealedVersion", filename: str) -> str:
    return (
        f"{version.document.concrete().STORAGE_FOLDER}/versions/{timezone.now():%Y/%m}/{filename}"
    )


class SealedVersion(models.Model):
    """A later version of a sealed document's file: the same seal and content with fresh
    validation data and a new document timestamp added (`manage.py renew_evidence`), kept
    beside the earlier ones. Version 1 is the document's own `final_pdf`; no version is ever
    changed or removed (core.immutability), and `/verify/` accepts every one."""

    document = models.ForeignKey(
        SignableDocument, on_delete=models.CASCADE, related_name="sealed_versions"
    )
    number = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to=sealed_version_path, editable=False)
    sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reason = models.CharField(max_length=200)
    # When the certificate of this version's last timestamp expires: renew before then.
    evidence_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="one_sealed_version_per_number"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=2), name="sealed_version_after_1"
            ),
        ]

    def __str__(self) -> str:
        return f"version {self.number} of {self.document_id}"


class DocumentTimestamp(models.Model):
    """An RFC 3161 timestamp token over the SHA-256 of the document the parties sign,
    obtained when it is sent: proof that this exact text existed then."""

    document = models.ForeignKey(
        SignableDocument, on_delete=models.CASCADE, related_name="timestamps"
    )
    sha256 = models.CharField(max_length=64, editable=False)
    token = models.BinaryField(editable=False)
    authority = models.CharField(max_length=300, editable=False)
    timestamped_at = models.DateTimeField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["document", "timestamped_at"]

    def __str__(self) -> str:
        return f"timestamp of {self.document_id} at {self.timestamped_at:%Y-%m-%d %H:%M:%S}"


# Every kind of signable document: what `SignableDocument.concrete()` returns. A new kind is
# added here, and to `Agreement.dossier_documents`.
ConcreteDocument = Agreement | Declaration | Addendum
