"""Every state change of a breach, as a named function. Each locks the breach row, checks
that the step is allowed, saves only what it changes, writes a timeline entry, and sends
email only after the transaction has committed."""

import datetime
import functools
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from avg_portal.emails import Delivery, delivery_detail
from avg_portal.models import OutboxMessage
from core.exceptions import ActionRefused
from core.models import Client, Practice
from core.origin import Origin

from . import notices
from .models import (
    AuthorityDecision,
    Breach,
    BreachStatus,
    BreachUpdate,
    ClientNotification,
    SubjectsDecision,
)

Kind = BreachUpdate.Kind

# A phone's clock may run a little ahead of the server's.
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)
EARLIEST_DISCOVERY = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)

# The fields the coach may fill in or change while the breach is open, section by section.
EDITABLE_FIELDS = frozenset(
    {
        "summary",
        "incident_kinds",
        "incident_other",
        "system_name",
        "other_org_name",
        "other_org_role",
        "other_org_details",
        "discovered_at",
        "occurred_from",
        "occurred_from_time",
        "occurred_until",
        "occurred_until_time",
        "occurred_note",
        "ongoing",
        "nature_confidentiality",
        "nature_integrity",
        "nature_availability",
        "data_categories",
        "data_other",
        "records_count",
        "unintelligible",
        "unintelligible_note",
        "persons_min",
        "persons_max",
        "persons_group",
        "vulnerable_group",
        "contact_details_known",
        "root_cause",
        "consequence_kinds",
        "consequence_severity",
        "consequences",
        "measures",
        "cross_border",
        "cross_border_countries",
        "other_authorities_notified",
        "other_authorities",
        "triage_security_problem",
        "triage_personal_data",
        "triage_sensitive",
        "triage_large_scale",
        "triage_vulnerable",
        "triage_supplier",
    }
)


class BreachActionRefused(ActionRefused):
    """The step is not allowed now; the message says why, in the coach's language."""


def check_discovered_at(value: datetime.datetime, *, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    if value > now + CLOCK_TOLERANCE:
        raise BreachActionRefused(_("The moment of discovery cannot be in the future."))
    if value < EARLIEST_DISCOVERY:
        raise BreachActionRefused(_("Enter a moment of discovery after the year 2000."))


def _locked(breach: Breach) -> Breach:
    return Breach.objects.select_for_update().select_related("practice").get(pk=breach.pk)


def _ensure_open(breach: Breach) -> None:
    if breach.status != BreachStatus.OPEN:
        raise BreachActionRefused(_("This breach is closed. Reopen it to change it."))


def _check_clients(breach: Breach, clients: Iterable[Client]) -> None:
    for client in clients:
        if client.practice_id != breach.practice_id:
            raise BreachActionRefused(_("This client belongs to another practice."))


def shown(value: object) -> str:
    """A value as the timeline stores it: plain text, local time for moments."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def client_references(
    clients: Iterable[Client], *, with_email: bool = False
) -> list[dict[str, str]]:
    """Affected clients as a timeline entry records them: by identity, with the name (and
    address) as it was then. Erasure finds exactly her references by the identity
    (`breach_erase_client`), and a client deleted later still shows by name."""
    return [
        {"client": str(client.public_id), "name": client.name}
        | ({"email": client.email} if with_email else {})
        for client in clients
    ]


def breach_create(
    *,
    practice: Practice,
    origin: Origin,
    summary: str,
    discovered_at: datetime.datetime,
    system_name: str = "",
    clients: Sequence[Client] = (),
    submission_key: uuid.UUID | None = None,
) -> Breach:
    """The first report: what happened and when it was discovered are enough; the deadlines
    start running from the moment of discovery. A form sent again with the same
    `submission_key` (a double click, a retry) gets the breach the first one logged."""
    check_discovered_at(discovered_at)
    _check_clients(Breach(practice=practice), clients)
    create = functools.partial(
        _create, practice, origin, summary, discovered_at, system_name, clients
    )
    if submission_key is None:
        return create(None)
    if logged := _logged_by(practice, submission_key):
        return logged
    try:
        return create(submission_key)
    except IntegrityError:
        # Sent twice at once: the other request logged it (the key is unique).
        if logged := _logged_by(practice, submission_key):
            return logged
        raise


def _logged_by(practice: Practice, submission_key: uuid.UUID) -> Breach | None:
    return Breach.objects.filter(practice=practice, submission_key=submission_key).first()


def _create(
    practice: Practice,
    origin: Origin,
    summary: str,
    discovered_at: datetime.datetime,
    system_name: str,
    clients: Sequence[Client],
    submission_key: uuid.UUID | None,
) -> Breach:
    now = timezone.now()
    with transaction.atomic():
        breach = Breach(
            practice=practice,
            summary=summary,
            system_name=system_name,
            discovered_at=discovered_at,
            created_by_id=origin.user_id,
            created_at=now,
            updated_at=now,
            submission_key=submission_key,
        )
        # The key's uniqueness is the database's to decide (see `breach_create`).
        breach.full_clean(exclude=["submission_key"])
        breach.save()
        if clients:
            breach.clients.set(clients)
        changes: dict[str, Any] = {
            "summary": summary,
            "system_name": system_name,
            "discovered_at": shown(discovered_at),
        }
        breach.log(
            Kind.REPORTED,
            origin,
            changes=changes | ({"clients": client_references(clients)} if clients else {}),
            at=now,
        )
    return breach


def breach_update(
    *,
    breach: Breach,
    origin: Origin,
    changes: Mapping[str, Any],
    clients: Iterable[Client] | None = None,
    note: str = "",
) -> BreachUpdate | None:
    """A later update (clause 7.2): the changed fields are saved and listed, with their new
    values, in a timeline entry that is never changed afterwards. Returns the entry, or None
    when nothing changed."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if "discovered_at" in changes:
        check_discovered_at(changes["discovered_at"])
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        changed = {name: value for name, value in changes.items() if getattr(locked, name) != value}
        for name, value in changed.items():
            setattr(locked, name, value)
        if "discovered_at" in changed:
            _check_notification_against_discovery(locked)
        if (
            "unintelligible" in changed
            and locked.unintelligible != "yes"
            and locked.subjects_decision == SubjectsDecision.UNINTELLIGIBLE
        ):
            raise BreachActionRefused(
                _(
                    "The decision not to inform the persons rests on the data being "
                    "unintelligible: record another decision first."
                )
            )
        recorded: dict[str, Any] = {name: shown(value) for name, value in changed.items()}
        if clients is not None:
            clients = list(clients)
            _check_clients(locked, clients)
            if {c.pk for c in clients} != set(locked.clients.values_list("pk", flat=True)):
                locked.clients.set(clients)
                recorded["clients"] = client_references(clients)
        if not recorded and not note:
            return None
        locked.full_clean()
        locked.updated_at = timezone.now()
        locked.save(update_fields=[*changed, "updated_at"])
        return locked.log(Kind.UPDATED, origin, text=note, changes=recorded)


def _check_notification_against_discovery(locked: Breach) -> None:
    """A discovery moved after the AP was notified must still agree with the notification:
    not after it, and a notification it makes late needs the reason for the delay (art.
    33(1)), which is asked for by recording the notification again."""
    notified_at = locked.authority_notified_at
    if locked.authority_decision != AuthorityDecision.NOTIFIED or notified_at is None:
        return
    if notified_at < locked.discovered_at:
        raise BreachActionRefused(
            _("The discovery cannot be after the moment you notified the AP.")
        )
    if notified_at > locked.authority_deadline and not locked.authority_reason:
        raise BreachActionRefused(
            _(
                "With this moment of discovery the notification to the AP was later than 72 "
                "hours: record the notification again with the reason for the delay first."
            )
        )


def art34_missing(breach: Breach) -> list[str]:
    """What the email to the persons still lacks of what art. 34(2) GDPR requires it to
    describe: the nature of the breach, a contact point, the likely consequences and the
    measures taken or proposed. Empty when it is complete."""
    practice = breach.practice
    missing = []
    if not breach.summary.strip():
        missing.append(_("what happened (the nature of the breach)"))
    if not (
        practice.breach_contact_email
        or practice.email
        or practice.breach_contact_phone
        or practice.phone
    ):
        missing.append(_("an email address or phone number to contact (your practice's details)"))
    if not breach.consequences.strip():
        missing.append(_("the likely consequences for the persons"))
    if not breach.measures.strip():
        missing.append(_("the measures taken or proposed"))
    return missing


def check_art34_content(breach: Breach) -> None:
    missing = art34_missing(breach)
    if missing:
        raise BreachActionRefused(
            _(
                "The email cannot be sent yet: it must tell the clients %(missing)s. Fill "
                "this in in the report first (art. 34 GDPR)."
            )
            % {"missing": "; ".join(missing)}
        )


def breach_notify_clients(
    *, breach: Breach, origin: Origin, clients: Iterable[Client], message: str = ""
) -> list[ClientNotification]:
    """Email each chosen client about the breach (clause 7.1). Each email is recorded with
    its time and whether the mail server took it. Refused while the email would lack what
    art. 34(2) requires."""
    clients = list(clients)
    if not clients:
        raise BreachActionRefused(_("Choose the clients to inform."))
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        _check_clients(locked, clients)
        check_art34_content(locked)
        linked = set(locked.clients.values_list("pk", flat=True))
        if any(client.pk not in linked for client in clients):
            raise BreachActionRefused(_("Link the client to this breach first."))
        now = timezone.now()
        notifications = [
            ClientNotification.objects.create(
                breach=locked,
                client=client,
                client_name=client.name,
                email=client.email,
                message=message,
                created_at=now,
            )
            for client in clients
        ]
        locked.log(
            Kind.CLIENTS_NOTIFIED,
            origin,
            text=message,
            changes={"clients": client_references(clients, with_email=True)},
            at=now,
        )
        for notification in notifications:
            notices.send_breach_notification(notification)
    return notifications


def record_notification_email(message: OutboxMessage, delivery: Delivery) -> None:
    """What the mail server said to one client's notification: on the notification (shown
    to the coach; "delivered" is what makes the client informed), and on the breach's
    timeline if it failed."""
    notification = ClientNotification.objects.select_related("breach").get(pk=message.subject_id)
    notification.sent_at = timezone.now()
    notification.delivered = delivery.accepted
    notification.error = delivery.error[:500]
    notification.save(update_fields=["sent_at", "delivered", "error"])
    record_delivery(notification.breach, message, delivery, what="breach notification")


def record_delivery(
    breach: Breach, message: OutboxMessage, delivery: Delivery, *, what: str
) -> None:
    """What the mail server said to an email about the breach, on its timeline: that it was
    taken (the register's proof that the client was informed, art. 34) or why not."""
    breach.log(
        Kind.EMAIL_ACCEPTED if delivery.accepted else Kind.EMAIL_FAILED,
        Origin.system(),
        text=delivery_detail(what, delivery, message)[:1000],
    )


def breach_record_authority_decision(
    *,
    breach: Breach,
    origin: Origin,
    notified: bool,
    notified_at: datetime.datetime | None = None,
    reference: str = "",
    reason: str = "",
) -> Breach:
    """Notified to the AP (when, under which reference), or not notified and why (art. 33(1)
    and 33(5): every breach is documented, the reason for not notifying included)."""
    reason = reason.strip()
    reference = reference.strip()
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        now = timezone.now()
        if notified:
            if notified_at is None or not reference:
                raise BreachActionRefused(
                    _("Enter when you notified the AP and the reference number it gave.")
                )
            if notified_at > now + CLOCK_TOLERANCE:
                raise BreachActionRefused(_("The moment of notification cannot be in the future."))
            if notified_at < locked.discovered_at:
                raise BreachActionRefused(
                    _("The moment of notification cannot be before the discovery.")
                )
            if notified_at > locked.authority_deadline and not reason:
                # Art. 33(1): a notification after 72 hours states the reasons for the delay.
                raise BreachActionRefused(
                    _("The notification was later than 72 hours: give the reason for the delay.")
                )
            locked.authority_decision = AuthorityDecision.NOTIFIED
            locked.authority_notified_at = notified_at
            locked.authority_reference = reference
        else:
            if not reason:
                raise BreachActionRefused(
                    _("Give the reason for not notifying the AP: the register must hold it.")
                )
            locked.authority_decision = AuthorityDecision.NOT_NOTIFIED
            locked.authority_notified_at = None
            locked.authority_reference = ""
        locked.authority_reason = reason
        locked.authority_decided_at = now
        # A new decision starts afresh; earlier follow-ups and a withdrawal stay on the
        # timeline.
        locked.authority_followup_at = None
        locked.authority_withdrawn_at = None
        locked.authority_withdrawal_reference = ""
        locked.authority_withdrawal_reason = ""
        locked.updated_at = now
        locked.full_clean()
        locked.save(
            update_fields=[
                "authority_decision",
                "authority_notified_at",
                "authority_reference",
                "authority_reason",
                "authority_decided_at",
                "authority_followup_at",
                "authority_withdrawn_at",
                "authority_withdrawal_reference",
                "authority_withdrawal_reason",
                "updated_at",
            ]
        )
        changes: dict[str, str] = {"authority_decision": locked.authority_decision}
        if notified:
            changes |= {
                "authority_notified_at": shown(notified_at),
                "authority_reference": reference,
            }
        locked.log(Kind.AUTHORITY_DECISION, origin, text=reason, changes=changes, at=now)
    return locked


def _check_after_notification(
    locked: Breach, at: datetime.datetime | None, now: datetime.datetime
) -> datetime.datetime:
    """A follow-up or withdrawal refers to a notification that was made and still stands,
    and happened between it and now."""
    if locked.authority_decision != AuthorityDecision.NOTIFIED:
        raise BreachActionRefused(_("Record first that you notified the AP."))
    if locked.authority_withdrawn_at is not None:
        raise BreachActionRefused(_("The notification to the AP was withdrawn."))
    if at is None:
        raise BreachActionRefused(_("Enter when you sent it to the AP."))
    if at > now + CLOCK_TOLERANCE:
        raise BreachActionRefused(_("This moment cannot be in the future."))
    if locked.authority_notified_at and at < locked.authority_notified_at:
        raise BreachActionRefused(_("This moment cannot be before the notification to the AP."))
    return at


def breach_record_authority_followup(
    *,
    breach: Breach,
    origin: Origin,
    sent_at: datetime.datetime | None,
    text: str,
    reference: str = "",
) -> Breach:
    """A follow-up (aanvulling) of the notification to the AP (art. 33(4): information may
    follow in phases): when, under which reference, and what was added."""
    text = text.strip()
    reference = reference.strip()
    if not text:
        raise BreachActionRefused(_("Describe what you added to the notification."))
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        now = timezone.now()
        sent_at = _check_after_notification(locked, sent_at, now)
        reference = reference or locked.authority_reference
        locked.authority_followup_at = max(sent_at, locked.authority_followup_at or sent_at)
        locked.updated_at = now
        locked.full_clean()
        locked.save(update_fields=["authority_followup_at", "updated_at"])
        locked.log(
            Kind.AUTHORITY_FOLLOWUP,
            origin,
            text=text,
            changes={"authority_followup_at": shown(sent_at), "authority_reference": reference},
            at=now,
        )
    return locked


def breach_withdraw_authority_notification(
    *,
    breach: Breach,
    origin: Origin,
    withdrawn_at: datetime.datetime | None,
    reason: str,
    reference: str = "",
) -> Breach:
    """The notification to the AP withdrawn (intrekking), e.g. when it turned out not to be
    a breach: when, under which reference, and why. The register keeps the breach."""
    reason = reason.strip()
    reference = reference.strip()
    if not reason:
        raise BreachActionRefused(_("Give the reason for withdrawing the notification."))
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        now = timezone.now()
        withdrawn_at = _check_after_notification(locked, withdrawn_at, now)
        locked.authority_withdrawn_at = withdrawn_at
        locked.authority_withdrawal_reference = reference or locked.authority_reference
        locked.authority_withdrawal_reason = reason
        locked.updated_at = now
        locked.full_clean()
        locked.save(
            update_fields=[
                "authority_withdrawn_at",
                "authority_withdrawal_reference",
                "authority_withdrawal_reason",
                "updated_at",
            ]
        )
        locked.log(
            Kind.AUTHORITY_WITHDRAWN,
            origin,
            text=reason,
            changes={
                "authority_withdrawn_at": shown(withdrawn_at),
                "authority_withdrawal_reference": locked.authority_withdrawal_reference,
            },
            at=now,
        )
    return locked


def breach_record_data_subjects_decision(
    *, breach: Breach, origin: Origin, decision: str, reason: str
) -> Breach:
    """Whether the persons themselves are informed (art. 34), and why."""
    reason = reason.strip()
    if decision not in SubjectsDecision.values or decision == SubjectsDecision.PENDING:
        raise BreachActionRefused(_("Choose whether the persons are informed."))
    if not reason:
        raise BreachActionRefused(_("Explain the decision: the register must hold it."))
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        if decision == SubjectsDecision.UNINTELLIGIBLE and locked.unintelligible != "yes":
            # Art. 34(3)(a) holds only for data that was made unintelligible.
            raise BreachActionRefused(
                _(
                    "The report does not say that the data was encrypted or otherwise "
                    "unintelligible (Which personal data): answer that first, or choose "
                    "another reason."
                )
            )
        now = timezone.now()
        locked.subjects_decision = decision
        locked.subjects_reason = reason
        locked.subjects_decided_at = now
        locked.updated_at = now
        locked.full_clean()
        locked.save(
            update_fields=[
                "subjects_decision",
                "subjects_reason",
                "subjects_decided_at",
                "updated_at",
            ]
        )
        locked.log(
            Kind.SUBJECTS_DECISION,
            origin,
            text=reason,
            changes={"subjects_decision": decision},
            at=now,
        )
    return locked


def breach_close(*, breach: Breach, origin: Origin, measures: str) -> Breach:
    """Close the breach with the measures taken. It stays in the register, readable."""
    measures = measures.strip()
    if not measures:
        raise BreachActionRefused(_("Describe the measures taken before closing the breach."))
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        if locked.authority_decision == AuthorityDecision.PENDING:
            raise BreachActionRefused(_("Record first whether you notified the AP, and why."))
        if locked.subjects_decision == SubjectsDecision.PENDING:
            raise BreachActionRefused(
                _("Record first whether the persons themselves are informed, and why.")
            )
        now = timezone.now()
        locked.measures = measures
        locked.status = BreachStatus.CLOSED
        locked.closed_at = now
        locked.updated_at = now
        locked.full_clean()
        locked.save(update_fields=["measures", "status", "closed_at", "updated_at"])
        locked.log(Kind.CLOSED, origin, changes={"measures": measures}, at=now)
    return locked


def breach_reopen(*, breach: Breach, origin: Origin, reason: str) -> Breach:
    reason = reason.strip()
    if not reason:
        raise BreachActionRefused(_("Give the reason for reopening the breach."))
    with transaction.atomic():
        locked = _locked(breach)
        if locked.status != BreachStatus.CLOSED:
            raise BreachActionRefused(_("This breach is open already."))
        now = timezone.now()
        locked.status = BreachStatus.OPEN
        locked.closed_at = None
        locked.updated_at = now
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        locked.log(Kind.REOPENED, origin, text=reason, at=now)
    return locked


# Dutch name particles ("de", "van der", "'t"): part of a name, ordinary words on their own.
NAME_PARTICLES = frozenset(
    {"'t", "d'", "de", "den", "der", "des", "het", "la", "le", "te", "ten", "ter", "van", "von"}
)

# The breach's own free text: where a coach may have written a client's name.
FREE_TEXT_FIELDS = [
    field.attname
    for field in Breach._meta.concrete_fields
    if isinstance(field, models.CharField | models.TextField) and not field.choices
]


def identifying_pattern(client: Client) -> re.Pattern[str]:
    """What names the client in free text, as whole words in any case: her email address,
    her full name (so that "Jan de Vries" becomes one pseudonym), then each part of her name
    that identifies her on its own. "Jan" and "jan" match; "januari" does not."""
    words = client.name.split()
    parts = sorted(
        {word for word in words if len(word) > 1 and word.casefold() not in NAME_PARTICLES},
        key=len,
        reverse=True,
    )
    alternatives = [re.escape(client.email), r"\s+".join(map(re.escape, words))]
    alternatives += map(re.escape, parts)
    return re.compile(
        r"(?<!\w)(?:" + "|".join(filter(None, alternatives)) + r")(?!\w)", re.IGNORECASE
    )


@dataclass(frozen=True)
class Pseudonymisation:
    """How one erased client's traces in the register become the pseudonym: her references
    by identity, her names and address in free text; nobody else's."""

    reference: str
    pattern: re.Pattern[str]
    pseudonym: str

    def text(self, value: str) -> str:
        return self.pattern.sub(self.pseudonym, value)

    def changes(self, changes: dict[str, Any]) -> dict[str, Any]:
        return {name: self._value(value) for name, value in changes.items()}

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):  # client references (client_references)
            return [self._reference(item) for item in value]
        return value

    def _reference(self, item: Any) -> Any:
        if isinstance(item, dict) and item.get("client") == self.reference:
            return {"client": None, "name": self.pseudonym}
        return item


def breach_erase_client(*, client: Client) -> None:
    """Erasure (GDPR art. 17) of a client from the breach register. The register keeps every
    breach, its facts and decisions (art. 33(5)), but no longer who she was: only in the
    breaches that concern her (linked to her, notified to her, or naming her on the
    timeline), her references and, as whole words, her names and address become the
    pseudonym. Other clients' references and other breaches stay as they are.

    Timeline entries are append-only in the database: this runs inside the caller's
    `lawful_removal`, the one change to them it lets through."""
    erasure = Pseudonymisation(
        reference=str(client.public_id),
        pattern=identifying_pattern(client),
        pseudonym=_("(erased client)"),
    )
    concerning = Breach.objects.filter(practice_id=client.practice_id).filter(
        models.Q(clients=client)
        | models.Q(notifications__client=client)
        | models.Q(updates__changes__clients__icontains=erasure.reference)
    )
    for breach in Breach.objects.select_for_update().filter(pk__in=concerning.values("pk")):
        redacted = {name: erasure.text(getattr(breach, name)) for name in FREE_TEXT_FIELDS}
        changed = [name for name, value in redacted.items() if value != getattr(breach, name)]
        for name in changed:
            setattr(breach, name, redacted[name])
        if changed:
            breach.save(update_fields=changed)
        for entry in breach.updates.all():
            text, changes = erasure.text(entry.text), erasure.changes(entry.changes)
            if (text, changes) != (entry.text, entry.changes):
                # The model's queryset refuses every update (a plain one does not), and the
                # database lets this one through inside the lawful removal.
                models.QuerySet(BreachUpdate).filter(pk=entry.pk).update(text=text, changes=changes)
        # What the other clients were told may name her too ("Beste Jan en Bram").
        for notification in breach.notifications.exclude(client=client):
            message, told = erasure.text(notification.message), erasure.text(notification.text)
            if (message, told) != (notification.message, notification.text):
                ClientNotification.objects.filter(pk=notification.pk).update(
                    message=message, text=told
                )
