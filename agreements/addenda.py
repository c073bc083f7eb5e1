"""Addenda: after signing, the coach changes Bijlage 1 and/or 2 of an agreement by an
addendum that both parties sign through the common signing path (agreements.signing).

One addendum is open (a draft, or sent and not yet signed) per agreement at a time, so the
annexes it changes (`annexes.annexes_before`) stay what they were when it was drafted.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ActionRefused
from core.origin import Origin

from . import documents
from .annexes import annexes_before, annexes_of, compare, effective_annexes
from .models import (
    Addendum,
    AddendumActivity,
    AddendumStatus,
    Agreement,
    AgreementEvent,
    AgreementStatus,
    Party,
)

# The signing path's own steps; every kind of document uses them.
from .signing import (
    SignatureInput,
    _create_signature,
    _locked,
    send_for_client_signature,
    sha256_hex,
)

Kind = AgreementEvent.Kind
OPEN = (AddendumStatus.DRAFT, AddendumStatus.SENT)


def open_addendum(agreement: Agreement) -> Addendum | None:
    return agreement.addenda.filter(status__in=OPEN).first()


def addendum_create_draft(*, agreement: Agreement, origin: Origin) -> Addendum:
    """A draft addendum of a signed agreement, prefilled with the annexes in force today."""
    with transaction.atomic():
        locked = _locked(agreement, AgreementStatus.SIGNED)
        if not locked.is_archived:
            raise ActionRefused(_("Wait until the signed agreement is sealed; then try again."))
        if hasattr(locked, "ending"):
            raise ActionRefused(_("This agreement has ended; it can no longer be changed."))
        if open_addendum(locked) is not None:
            raise ActionRefused(
                _("This agreement already has an addendum in progress: finish or withdraw it.")
            )
        current = effective_annexes(locked)
        source = current.source
        number = (locked.addenda.aggregate(last=Max("number"))["last"] or 0) + 1
        addendum = Addendum(
            agreement=locked,
            number=number,
            effective_on=max(timezone.localdate(), _earliest_start(locked)),
            data_kind=source.data_kind,
            data_subjects=source.data_subjects,
            processing_purpose=source.processing_purpose,
            storage=source.storage,
            measures=list(source.measures),
            extra_measures=source.extra_measures,
        )
        addendum.full_clean(exclude=["document", "number"])
        addendum.save()
        AddendumActivity.objects.bulk_create(
            AddendumActivity(addendum=addendum, **row.copy_values()) for row in current.activities
        )
        # On the dossier, not the addendum: a draft may be deleted, the trail never changes.
        locked.log(Kind.ADDENDUM_CREATED, origin, detail=f"addendum {number}")
    return addendum


def _earliest_start(agreement: Agreement, *, before: int | None = None) -> datetime.date:
    """An addendum cannot take effect before the agreement, nor before an earlier addendum:
    the annexes in force on a day must follow the order in which they were agreed."""
    earlier = agreement.addenda.filter(status=AddendumStatus.SIGNED)
    if before is not None:
        earlier = earlier.filter(number__lt=before)
    last = earlier.aggregate(last=Max("effective_on"))["last"]
    return max(agreement.agreement_date, last) if last else agreement.agreement_date


def _locked_addendum(addendum: Addendum, *statuses: str) -> Addendum:
    locked = Addendum.objects.select_for_update().select_related("agreement").get(pk=addendum.pk)
    if statuses and locked.status not in statuses:
        raise ActionRefused(
            _("This cannot be done now: the addendum is %(status)s.")
            % {"status": locked.get_status_display()}
        )
    return locked


def addendum_save_draft(
    *,
    addendum: Addendum,
    values: Mapping[str, Any],
    activities: Sequence[Mapping[str, Any]],
) -> Addendum:
    """Save the edited draft and its Bijlage 1 rows together, or nothing."""
    with transaction.atomic():
        locked = _locked_addendum(addendum, AddendumStatus.DRAFT)
        for name, value in values.items():
            setattr(locked, name, value)
        earliest = _earliest_start(locked.agreement, before=locked.number)
        if locked.effective_on < earliest:
            raise ActionRefused(
                _("The addendum cannot take effect before %(date)s.")
                % {"date": f"{earliest:%d-%m-%Y}"}
            )
        locked.full_clean(exclude=["document", "number"])
        locked.save()
        locked.activities.all().delete()
        AddendumActivity.objects.bulk_create(
            AddendumActivity(addendum=locked, position=position, **row)
            for position, row in enumerate(activities)
        )
    return locked


def addendum_sign_and_send(
    *, addendum: Addendum, signature: SignatureInput, origin: Origin
) -> Addendum:
    """The coach signs the addendum and sends it to the client: rendered once and hashed
    here, as the agreement is."""
    origin = dataclasses.replace(origin, name=signature.name)
    with transaction.atomic():
        agreement = _locked(addendum.agreement, AgreementStatus.SIGNED)
        if hasattr(agreement, "ending"):
            raise ActionRefused(_("This agreement has ended; it can no longer be changed."))
        locked = _locked_addendum(addendum, AddendumStatus.DRAFT)
        if not locked.activities.exists():
            raise ActionRefused(_("Bijlage 1 needs at least one processing activity."))
        if not compare(annexes_before(locked), annexes_of(locked)).changed:
            raise ActionRefused(_("The addendum changes nothing yet: change Bijlage 1 or 2 first."))
        locked.status = AddendumStatus.SENT
        locked.sent_at = origin.at
        pdf = documents.render_pdf(locked)
        locked.document_pdf = pdf
        locked.document_sha256 = sha256_hex(pdf)
        locked.save(update_fields=["status", "sent_at", "document_pdf", "document_sha256"])
        locked.signatures.all().delete()
        _create_signature(locked, Party.PRACTICE, signature, origin)
        send_for_client_signature(
            locked,
            event=Kind.ADDENDUM_SENT,
            detail=f"{locked.agreement.client.email}; SHA-256 {locked.document_sha256}",
            origin=origin,
            at=origin.at,
        )
    return locked


def addendum_withdraw(*, addendum: Addendum, origin: Origin) -> Addendum:
    """The client did not sign (or the coach changed her mind): the link stops working and
    the annexes stay as they were. A new addendum can then be drafted."""
    with transaction.atomic():
        locked = _locked_addendum(addendum, AddendumStatus.SENT)
        locked.status = AddendumStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        locked.signing_links.filter(revoked_at=None).update(revoked_at=origin.at)
        locked.agreement.log(Kind.ADDENDUM_WITHDRAWN, origin, document=locked)
    return locked


def addendum_delete_draft(*, addendum: Addendum, origin: Origin) -> None:
    """A draft never became evidence: nothing on the trail points at it."""
    with transaction.atomic():
        locked = _locked_addendum(addendum, AddendumStatus.DRAFT)
        locked.delete()
        documents.forget_draft_pdfs([locked])
