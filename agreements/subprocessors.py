"""The practice's sub-processor register and the change notices it sends (art. 28(2) GDPR).

A coach adds, changes or ends an entry; each of these is one `SubprocessorChange`, told by
email to every client with a signed agreement that has not ended (one email per client,
whatever the number of his agreements), and written on the evidence trail of each of those
agreements, with what the mail server answered. An objection the client sends back is
recorded by the coach and written on the same trail.

Draft agreements and the practice's default Bijlage 1 rows print the register's current
wording; signed agreements keep what they were signed with.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from avg_portal.emails import Delivery
from avg_portal.models import OutboxMessage
from core.access import practice_id_of
from core.exceptions import ActionRefused
from core.models import Practice
from core.origin import Origin

from . import notices
from .models import (
    Agreement,
    AgreementEvent,
    AgreementStatus,
    DefaultProcessingActivity,
    ProcessingActivity,
    Subprocessor,
    SubprocessorChange,
    SubprocessorNotice,
)
from .signals import announce_terms_changed

# Bijlage 4 (2026.1, clause 4.2) promises clients at least this many days' notice of a new
# or replaced sub-processor.
NOTICE_DAYS = 30

# The register's fields, in the order the page and the emails show them.
FIELDS = ("name", "service", "data", "location", "outside_eea", "transfer_safeguard", "since")
# Their Dutch labels in the evidence trail (the trail is Dutch, like the documents).
EVIDENCE_LABELS = {
    "name": "naam",
    "service": "dienst",
    "data": "gegevens",
    "location": "locatie",
    "outside_eea": "buiten de EER",
    "transfer_safeguard": "waarborg",
    "since": "sinds",
}


# Owner-aware getters -----------------------------------------------------------------------


def get_subprocessor_for_coach(request: HttpRequest, public_id: object) -> Subprocessor:
    return get_object_or_404(Subprocessor, public_id=public_id, practice_id=practice_id_of(request))


def get_notice_for_coach(request: HttpRequest, public_id: object) -> SubprocessorNotice:
    return get_object_or_404(
        SubprocessorNotice.objects.select_related("change__subprocessor", "client"),
        public_id=public_id,
        change__practice_id=practice_id_of(request),
    )


# Reading -----------------------------------------------------------------------------------


def active_agreements(practice: Practice) -> QuerySet[Agreement]:
    """The agreements a change concerns: signed, and not ended with the coaching."""
    return Agreement.objects.filter(
        practice=practice, status=AgreementStatus.SIGNED, ending__isnull=True
    ).select_related("client")


def earliest_effective_date(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + datetime.timedelta(days=NOTICE_DAYS)


def printed_text(practice: Practice, ids: Iterable[int]) -> str:
    """What Bijlage 1 prints for these register entries, in the order given."""
    wanted = list(ids)
    entries = Subprocessor.objects.in_bulk(wanted)
    return "; ".join(
        entries[pk].print_label()
        for pk in wanted
        if pk in entries and entries[pk].practice_id == practice.pk
    )


def snapshot(subprocessor: Subprocessor) -> dict[str, Any]:
    return {name: getattr(subprocessor, name) for name in FIELDS}


def describe(kind: str, before: Mapping[str, Any] | None, subprocessor: Subprocessor) -> str:
    """The change in one line of Dutch, for the evidence trail and the register page."""
    name = subprocessor.name
    if kind == SubprocessorChange.Kind.ADDED:
        return f"Nieuwe subverwerker: {subprocessor.print_label()}"
    if kind == SubprocessorChange.Kind.ENDED:
        return f"Subverwerker beëindigd: {name}"
    after = snapshot(subprocessor)
    changes = [
        f"{EVIDENCE_LABELS[field]} {_plain(before[field])} → {_plain(after[field])}"
        for field in FIELDS
        if before is not None and before[field] != after[field]
    ]
    return f"Subverwerker gewijzigd: {name} ({'; '.join(changes)})"


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime.date):
        return f"{value:%d-%m-%Y}"
    return str(value) or "—"


# Changing the register ---------------------------------------------------------------------


def subprocessor_add(
    *,
    practice: Practice,
    values: Mapping[str, Any],
    effective_on: datetime.date,
    origin: Origin,
) -> SubprocessorChange:
    """A new entry, announced to the clients with an active signed agreement."""
    _check_notice_period(effective_on)
    with transaction.atomic():
        subprocessor = Subprocessor(practice=practice, **values)
        subprocessor.full_clean()
        subprocessor.save()
        return _announce(
            subprocessor,
            SubprocessorChange.Kind.ADDED,
            before=None,
            effective_on=effective_on,
            origin=origin,
        )


def subprocessor_update(
    *,
    subprocessor: Subprocessor,
    values: Mapping[str, Any],
    effective_on: datetime.date,
    origin: Origin,
) -> SubprocessorChange:
    """A changed entry: announced, and reprinted in drafts and the practice's defaults."""
    _check_notice_period(effective_on)
    with transaction.atomic():
        locked = Subprocessor.objects.select_for_update().get(pk=subprocessor.pk)
        if locked.ended_on is not None:
            raise ActionRefused(_("This sub-processor has been ended and can no longer change."))
        before = snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        if snapshot(locked) == before:
            raise ActionRefused(_("Nothing was changed, so there is nothing to tell clients."))
        locked.full_clean()
        locked.save(update_fields=list(values))
        _reprint_open_rows(locked.practice)
        return _announce(
            locked,
            SubprocessorChange.Kind.CHANGED,
            before=before,
            effective_on=effective_on,
            origin=origin,
        )


def subprocessor_end(
    *, subprocessor: Subprocessor, ended_on: datetime.date, origin: Origin
) -> SubprocessorChange:
    """The coach stops using it from `ended_on`: announced, and taken out of drafts and the
    practice's defaults (signed agreements keep what they say)."""
    if ended_on < timezone.localdate():
        raise ActionRefused(_("The end date cannot lie in the past."))
    with transaction.atomic():
        locked = Subprocessor.objects.select_for_update().get(pk=subprocessor.pk)
        if locked.ended_on is not None:
            raise ActionRefused(_("This sub-processor has already been ended."))
        if ended_on < locked.since:
            raise ActionRefused(_("The end date lies before the date it was engaged."))
        locked.ended_on = ended_on
        locked.save(update_fields=["ended_on"])
        _reprint_open_rows(locked.practice, without=locked.pk)
        return _announce(
            locked,
            SubprocessorChange.Kind.ENDED,
            before=None,
            effective_on=ended_on,
            origin=origin,
        )


def _check_notice_period(effective_on: datetime.date) -> None:
    earliest = earliest_effective_date()
    if effective_on < earliest:
        raise ActionRefused(
            _(
                "Clients must hear of a new or changed sub-processor at least %(days)s days "
                "ahead (Bijlage 4, clause 4.2): choose %(date)s or later."
            )
            % {"days": NOTICE_DAYS, "date": f"{earliest:%d-%m-%Y}"}
        )


def _reprint_open_rows(practice: Practice, *, without: int | None = None) -> None:
    """Drafts and default rows print the register's current wording (an ended entry goes
    out of them); what was sent or signed is left as it is."""
    rows: list[ProcessingActivity | DefaultProcessingActivity] = [
        *ProcessingActivity.objects.filter(
            agreement__practice=practice, agreement__status=AgreementStatus.DRAFT
        ),
        *DefaultProcessingActivity.objects.filter(practice=practice),
    ]
    for row in rows:
        if not row.subprocessor_ids:
            continue
        row.subprocessor_ids = [pk for pk in row.subprocessor_ids if pk != without]
        row.sub_processors = printed_text(practice, row.subprocessor_ids)
        row.save(update_fields=["subprocessor_ids", "sub_processors"])


def _announce(
    subprocessor: Subprocessor,
    kind: str,
    *,
    before: Mapping[str, Any] | None,
    effective_on: datetime.date,
    origin: Origin,
) -> SubprocessorChange:
    """The change, a notice per client with an active signed agreement, its email queued
    (sent after the commit) and an event on each of those agreements."""
    change = SubprocessorChange.objects.create(
        practice=subprocessor.practice,
        subprocessor=subprocessor,
        kind=kind,
        summary=describe(kind, before, subprocessor),
        effective_on=effective_on,
        created_by=origin.name or origin.account,
    )
    by_client: dict[int, list[Agreement]] = {}
    for agreement in active_agreements(subprocessor.practice):
        by_client.setdefault(agreement.client_id, []).append(agreement)
    for agreements in by_client.values():
        client = agreements[0].client
        notice = SubprocessorNotice.objects.create(
            change=change,
            client=client,
            sent_to=client.email,
            # Without Bijlage 4, clause 3.4 admits no one else: silence is no consent.
            consent_needed=kind != "ended" and any(not a.with_supplement for a in agreements),
        )
        notice.agreements.set(agreements)
        detail = (
            f"{change.summary}. Gaat in op {effective_on:%d-%m-%Y}. "
            f"Kennisgeving aan {client.email}."
        )
        for agreement in agreements:
            agreement.log(AgreementEvent.Kind.SUBPROCESSOR_NOTICE, origin, detail=detail)
            announce_terms_changed(agreement.pk)
        notices.send_subprocessor_change(notice, before=before)
    return change


# The clients' answers ----------------------------------------------------------------------


def notice_record_objection(
    *, notice: SubprocessorNotice, received_on: datetime.date, objection: str, origin: Origin
) -> SubprocessorNotice:
    """The coach writes down that the client objected, when, and what he said."""
    return _record_answer(
        notice,
        "objection",
        received_on,
        objection,
        origin,
        event=AgreementEvent.Kind.SUBPROCESSOR_OBJECTION,
        detail="Bezwaar ontvangen op {on} tegen: {summary}. Bezwaar: {text}",
        in_future=_("The objection cannot have been received in the future."),
        before_notice=_("The objection cannot have been received before the change was announced."),
    )


def notice_record_consent(
    *, notice: SubprocessorNotice, received_on: datetime.date, consent: str, origin: Origin
) -> SubprocessorNotice:
    """The coach writes down that a client whose agreement has no Bijlage 4 consented to the
    change (clause 3.4), when, and in what words."""
    return _record_answer(
        notice,
        "consent",
        received_on,
        consent,
        origin,
        event=AgreementEvent.Kind.SUBPROCESSOR_CONSENT,
        detail="Toestemming ontvangen op {on} voor: {summary}. Toestemming: {text}",
        in_future=_("The consent cannot have been received in the future."),
        before_notice=_("The consent cannot have been received before the change was announced."),
    )


def _record_answer(
    notice: SubprocessorNotice,
    answer: str,
    received_on: datetime.date,
    text: str,
    origin: Origin,
    *,
    event: str,
    detail: str,
    in_future: str,
    before_notice: str,
) -> SubprocessorNotice:
    """A client's answer to a notice (`answer`: "objection" or "consent", the notice's
    fields of that name): one per notice, and on each of his agreements' evidence trails."""
    if received_on > timezone.localdate():
        raise ActionRefused(in_future)
    with transaction.atomic():
        locked = (
            SubprocessorNotice.objects.select_for_update()
            .select_related("change")
            .get(pk=notice.pk)
        )
        if answer == "consent" and not locked.consent_needed:
            raise ActionRefused(_("This change needs no consent from this client."))
        if locked.has_objection:
            raise ActionRefused(
                _("An objection to this change is already recorded.")
                if answer == "objection"
                else _("This client objected to the change.")
            )
        if locked.has_consent:
            raise ActionRefused(_("This client's consent to the change is already recorded."))
        if received_on < timezone.localdate(locked.change.created_at):
            raise ActionRefused(before_notice)
        fields = [f"{answer}_received_on", answer, f"{answer}_recorded_at"]
        for field, value in zip(fields, (received_on, text, timezone.now()), strict=True):
            setattr(locked, field, value)
        locked.full_clean()
        locked.save(update_fields=fields)
        shown = detail.format(
            on=f"{received_on:%d-%m-%Y}", summary=locked.change.summary, text=text
        )
        for agreement in locked.agreements.all():
            agreement.log(event, origin, detail=shown)
            # What the record of processing says of it changed (records.art30).
            announce_terms_changed(agreement.pk)
    return locked


def record_notice_email(message: OutboxMessage, delivery: Delivery) -> None:
    """What the mail server said to a change notice: on the notice (shown on the register
    page) and on the evidence trail of each agreement it concerned."""
    notice = SubprocessorNotice.objects.get(pk=message.subject_id)
    recipients = ", ".join(delivery.recipients)
    if delivery.accepted:
        notice.delivery, notice.delivered_at, notice.delivery_error = (
            SubprocessorNotice.Delivery.SENT,
            timezone.now(),
            "",
        )
        kind, detail = AgreementEvent.Kind.EMAIL_ACCEPTED, f"sub-processor notice → {recipients}"
    else:
        given_up = message.status != OutboxMessage.Status.QUEUED
        if given_up:
            notice.delivery = SubprocessorNotice.Delivery.FAILED
        notice.delivery_error = delivery.error[:500]
        then = "given up" if given_up else "tried again"
        kind = AgreementEvent.Kind.EMAIL_FAILED
        detail = f"sub-processor notice → {recipients}: {delivery.error} ({then})"
    notice.save(update_fields=["delivery", "delivered_at", "delivery_error"])
    for agreement in notice.agreements.all():
        agreement.log(kind, Origin.system(), detail=detail)
