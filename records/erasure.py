"""Erasing a client's personal data (GDPR art. 17), when nothing requires keeping it.

A signed agreement is evidence: it is kept until the agreement has ended and every
retention period of its Bijlage 1 has run out. An open breach that concerns the client holds
her data too: she may still have to be informed (art. 34), which needs her address. Until
then erasure is refused, with the reason and the date. The erasure itself removes the
client, every agreement with her and their stored PDFs, and her name and address from the
breach register; what remains is an ErasureRecord with counts and dates, no personal data:
when it happened, and when the data of each Bijlage 1 row had been destroyed or returned.
Sealed agreements and evidence trails are immutable in the database, so the erasure is a
lawful removal (core.immutability), recorded as such.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.annexes import effective_annexes
from agreements.documents import draft_pdf_folder
from agreements.models import Agreement, AgreementStatus, SealedVersion
from agreements.retention import activity_due_date, agreement_keep_until, disposal_of
from avg_portal.pdf import forget_renders
from breaches.actions import breach_erase_client
from breaches.models import Breach, BreachStatus
from core.exceptions import ActionRefused
from core.immutability import lawful_removal
from core.models import Client
from core.origin import Origin

from .models import ErasureRecord
from .record_entries import RECORD_ENTRIES


@dataclass(frozen=True)
class Hold:
    """Why an agreement, or an open breach, keeps the client's data, and until when (None:
    not known yet)."""

    reason: str
    agreement: Agreement | None = None
    breach: Breach | None = None
    until: datetime.date | None = None


def holds(client: Client, *, today: datetime.date | None = None) -> list[Hold]:
    """What stops the client's data from being erased today; empty when nothing does."""
    today = today or timezone.localdate()
    found: list[Hold] = []
    for agreement in client.agreements.select_related("ending").prefetch_related("activities"):
        if agreement.status == AgreementStatus.SENT:
            found.append(Hold(_("it is out for signing; withdraw it first"), agreement))
        elif agreement.status == AgreementStatus.SIGNED:
            ending = getattr(agreement, "ending", None)
            if ending is None:
                found.append(Hold(_("it has not ended yet"), agreement))
                continue
            until = agreement_keep_until(agreement)
            if until is None:
                found.append(
                    Hold(_("a retention period in Bijlage 1 has no computable end date"), agreement)
                )
            elif until >= today:
                found.append(Hold(_("its retention period runs"), agreement, until=until))
    found += [
        Hold(_("it is still open; the client may still have to be informed"), breach=breach)
        for breach in client.breaches.filter(status=BreachStatus.OPEN).order_by("discovered_at")
    ]
    return found


def client_erase(*, client: Client, origin: Origin) -> ErasureRecord:
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if holds(locked):
            raise ActionRefused(_("This client's data must still be kept."))
        agreements = list(
            locked.agreements.select_related("declaration").prefetch_related("addenda")
        )
        documents = [document for a in agreements for document in a.dossier_documents()]
        files = [document.final_pdf for document in documents if document.final_pdf]
        # The renewed versions of those PDFs (manage.py renew_evidence).
        files += [
            version.file
            for version in SealedVersion.objects.filter(
                document__in=[document.document_id for document in documents]
            )
        ]
        # The holds above showed that every retention period has run out.
        with lawful_removal(reason="erasure after retention (GDPR art. 17)", origin=origin):
            # The breach register keeps that a client was notified (art. 33(5)), not who.
            breach_erase_client(client=locked)
            anonymised = locked.breach_notifications.update(
                client=None, client_name=_("(erased client)"), email="", message="", text=""
            )
            record = ErasureRecord.objects.create(
                practice_id=locked.practice_id,
                erased_by=origin.account,
                agreements=len(agreements),
                files=len(files),
                breach_notifications=anonymised,
                disposals=_disposals(agreements),
                declarations_sealed_on=sorted(
                    timezone.localdate(a.declaration.completed_at).isoformat()
                    for a in agreements
                    if getattr(a, "declaration", None) and a.declaration.completed_at
                ),
            )
            Agreement.objects.filter(pk__in=[a.pk for a in agreements]).delete()
            locked.delete()
        stored = [(file.storage, file.name) for file in files if file.name]
        # The PDFs kept so as not to render them again hold the client's data too.
        renders = [f"{RECORD_ENTRIES}/{a.public_id}" for a in agreements]
        renders += [draft_pdf_folder(document) for document in documents]

        def delete_files() -> None:
            for storage, name in stored:
                storage.delete(name)
            for folder in renders:
                forget_renders(folder)

        transaction.on_commit(delete_files)
    return record


def _disposals(agreements: list[Agreement]) -> list[dict[str, str]]:
    """The destructions and returns recorded for the agreements' Bijlage 1 rows, as dates
    and kinds: the ErasureRecord keeps them once the rows are gone."""
    facts = []
    for agreement in agreements:
        ending = getattr(agreement, "ending", None)
        if ending is None:
            continue
        for activity in effective_annexes(agreement, on=ending.coaching_ended_on).activities:
            disposal = disposal_of(activity)
            if disposal is None:
                continue
            kept_until = activity_due_date(activity, ending)
            facts.append(
                {
                    "kept_until": kept_until.isoformat() if kept_until else "",
                    "done_on": disposal.done_on.isoformat(),
                    "disposition": disposal.disposition,
                }
            )
    return sorted(facts, key=lambda fact: (fact["done_on"], fact["kept_until"]))
