"""Business actions on clients and agreements. Views call these; they never change state
themselves. Each checks what it may do, works in one transaction, and leaves an audit trail
where the action matters for evidence."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ActionRefused
from core.immutability import lawful_removal
from core.models import Practice
from core.origin import Origin

from . import documents
from .document_versions import CURRENT_VERSION, supplement_for
from .models import (
    Agreement,
    AgreementEvent,
    AgreementStatus,
    Client,
    DefaultProcessingActivity,
    ProcessingActivity,
)


def agreement_create_draft(
    *,
    practice: Practice,
    client: Client,
    origin: Origin,
    coaching_agreement_date: datetime.date | None = None,
) -> Agreement:
    """A new draft for this client, prefilled from the practice and the client."""
    if client.practice_id != practice.pk:
        raise ActionRefused(_("This client belongs to another practice."))
    today = timezone.localdate()
    with transaction.atomic():
        agreement = Agreement(
            practice=practice,
            client=client,
            template_version=CURRENT_VERSION,
            agreement_date=today,
            coaching_agreement_date=coaching_agreement_date or today,
            penalty_per_violation=practice.default_penalty_per_violation or 0,
            penalty_per_day=practice.default_penalty_per_day or 0,
            practice_name=practice.name,
            practice_seat=practice.statutory_seat,
            client_name=client.name,
            client_residence=client.residence,
            breach_contact_role=practice.breach_contact_role,
            breach_contact_phone=practice.breach_contact_phone,
            breach_contact_email=practice.breach_contact_email,
            data_kind=practice.data_kind,
            data_subjects=practice.data_subjects,
            processing_purpose=practice.processing_purpose,
            storage=practice.storage,
            measures=list(practice.measures),
            extra_measures=practice.extra_measures,
            supplement_version=_default_supplement(practice),
        )
        agreement.full_clean()
        agreement.save()
        ProcessingActivity.objects.bulk_create(
            [
                ProcessingActivity(agreement=agreement, **row.copy_values())
                for row in practice.default_activities.all()
            ]
        )
        agreement.log(AgreementEvent.Kind.CREATED, origin)
    return agreement


def _default_supplement(practice: Practice) -> str:
    """Bijlage 4 for the current text, when the practice adds it to every new agreement."""
    supplement = supplement_for(CURRENT_VERSION)
    return supplement.code if supplement and practice.default_with_supplement else ""


def agreement_ensure_draft(agreement: Agreement) -> None:
    if agreement.status != AgreementStatus.DRAFT:
        raise ActionRefused(_("Only a draft can be changed."))


def agreement_save_draft(
    *,
    agreement: Agreement,
    values: Mapping[str, Any],
    activities: Sequence[Mapping[str, Any]],
) -> Agreement:
    """Save the edited draft and its Bijlage 1 rows (in this order) together, or nothing."""
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        agreement_ensure_draft(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.updated_at = timezone.now()
        locked.full_clean(exclude=["document"])
        locked.save()
        # The rows as shown replace the rows as stored, in the order shown.
        locked.activities.all().delete()
        ProcessingActivity.objects.bulk_create(
            ProcessingActivity(agreement=locked, position=position, **row)
            for position, row in enumerate(activities)
        )
    return locked


def agreement_delete_draft(*, agreement: Agreement, origin: Origin) -> None:
    """Delete a draft with its evidence trail: a draft never became evidence, but its events
    are append-only in the database, so they go only by a recorded lawful removal."""
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        agreement_ensure_draft(locked)
        with lawful_removal(reason=f"draft agreement {locked.public_id} deleted", origin=origin):
            locked.delete()
        documents.forget_draft_pdfs([locked])


def client_delete(*, client: Client, origin: Origin) -> None:
    """Delete a client and her drafts; refused while a signed agreement must be kept."""
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if locked.agreements.exclude(status=AgreementStatus.DRAFT).exists():
            raise ActionRefused(
                _(
                    "This client has an agreement that was sent or signed. Signed agreements "
                    "are evidence and must be kept, so the client cannot be deleted."
                )
            )
        with lawful_removal(
            reason=f"client {locked.public_id} deleted with her drafts", origin=origin
        ):
            drafts = list(locked.agreements.all())
            locked.agreements.all().delete()
        documents.forget_draft_pdfs(drafts)
        locked.delete()


def practice_save_defaults(
    *,
    practice: Practice,
    values: Mapping[str, Any],
    activities: Sequence[Mapping[str, Any]],
) -> Practice:
    """The Bijlage 1 rows and Bijlage 2 choices new agreements start with."""
    with transaction.atomic():
        locked = Practice.objects.select_for_update().get(pk=practice.pk)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save(update_fields=list(values))
        locked.default_activities.all().delete()
        DefaultProcessingActivity.objects.bulk_create(
            DefaultProcessingActivity(practice=locked, position=position, **row)
            for position, row in enumerate(activities)
        )
    return locked
