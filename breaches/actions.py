"""Every state change of a breach, as a named function. Each locks the breach row, checks
that the step is allowed, saves only what it changes, writes a timeline entry, and sends
email only after the transaction has committed."""

import datetime
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from avg_portal.emails import Delivery
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
        "system_name",
        "discovered_at",
        "occurred_from",
        "occurred_until",
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
        "consequences",
        "measures",
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
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def breach_create(
    *,
    practice: Practice,
    origin: Origin,
    summary: str,
    discovered_at: datetime.datetime,
    system_name: str = "",
    clients: Sequence[Client] = (),
) -> Breach:
    """The first report: what happened and when it was discovered are enough; the deadlines
    start running from the moment of discovery."""
    check_discovered_at(discovered_at)
    _check_clients(Breach(practice=practice), clients)
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
        )
        breach.full_clean()
        breach.save()
        if clients:
            breach.clients.set(clients)
        changes = {
            "summary": summary,
            "system_name": system_name,
            "discovered_at": shown(discovered_at),
        }
        if clients:
            changes["clients"] = shown([client.name for client in clients])
        breach.log(Kind.REPORTED, origin, changes=changes, at=now)
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
        recorded = {name: shown(value) for name, value in changed.items()}
        if clients is not None:
            clients = list(clients)
            _check_clients(locked, clients)
            if {c.pk for c in clients} != set(locked.clients.values_list("pk", flat=True)):
                locked.clients.set(clients)
                recorded["clients"] = shown([client.name for client in clients])
        if not recorded and not note:
            return None
        locked.full_clean()
        locked.updated_at = timezone.now()
        locked.save(update_fields=[*changed, "updated_at"])
        return locked.log(Kind.UPDATED, origin, text=note, changes=recorded)


def breach_notify_clients(
    *, breach: Breach, origin: Origin, clients: Iterable[Client], message: str = ""
) -> list[ClientNotification]:
    """Email each chosen client about the breach (clause 7.1). Each email is recorded with
    its time and whether the mail server took it."""
    clients = list(clients)
    if not clients:
        raise BreachActionRefused(_("Choose the clients to inform."))
    with transaction.atomic():
        locked = _locked(breach)
        _ensure_open(locked)
        _check_clients(locked, clients)
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
            changes={"clients": shown([f"{c.name} <{c.email}>" for c in clients])},
            at=now,
        )
        for notification in notifications:
            notification_id = notification.pk
            transaction.on_commit(functools.partial(_email_notification, notification_id))
    return notifications


def _email_notification(notification_id: int) -> Delivery:
    """Send one client's notification and write on it, and on the breach's timeline if it
    failed, what the mail server said."""
    notification = ClientNotification.objects.select_related(
        "breach", "breach__practice", "client"
    ).get(pk=notification_id)
    delivery = notices.send_breach_notification(notification)
    notification.sent_at = timezone.now()
    notification.delivered = delivery.accepted
    notification.error = delivery.error[:500]
    notification.save(update_fields=["sent_at", "delivered", "error"])
    if not delivery.accepted:
        record_email_failure(notification.breach, delivery, what="breach notification")
    return delivery


def record_email_failure(breach: Breach, delivery: Delivery, *, what: str) -> None:
    breach.log(
        Kind.EMAIL_FAILED,
        Origin.system(),
        text=f"{what} → {', '.join(delivery.recipients)}: {delivery.error}"[:1000],
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
        locked.updated_at = now
        locked.full_clean()
        locked.save(
            update_fields=[
                "authority_decision",
                "authority_notified_at",
                "authority_reference",
                "authority_reason",
                "authority_decided_at",
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


def breach_erase_client_name(*, practice: Practice, name: str) -> None:
    """Erasure (GDPR art. 17) of a client: her name goes from the practice's breach records,
    the timeline included. The register keeps the breach, its facts and decisions (art. 33(5))
    but no longer who the person was. The one change a timeline entry ever allows."""
    import json
    import re

    pattern = re.compile(re.escape(name), re.IGNORECASE)
    replacement = _("(erased client)")
    for breach in Breach.objects.select_for_update().filter(practice=practice):
        changed = []
        for field in breach._meta.concrete_fields:
            value = getattr(breach, field.attname)
            if isinstance(field, (models.CharField, models.TextField)) and isinstance(value, str):
                redacted = pattern.sub(replacement, value)
                if redacted != value:
                    setattr(breach, field.attname, redacted)
                    changed.append(field.name)
        if changed:
            breach.save(update_fields=changed)
        for entry in breach.updates.all():
            text = pattern.sub(replacement, entry.text)
            changes = json.loads(
                pattern.sub(replacement, json.dumps(entry.changes, ensure_ascii=False))
            )
            if text != entry.text or changes != entry.changes:
                # Past the queryset's guard on purpose: see the docstring.
                models.QuerySet.update(
                    BreachUpdate.objects.filter(pk=entry.pk), text=text, changes=changes
                )
