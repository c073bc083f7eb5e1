"""The record of processing activities a processor keeps (art. 30(2) GDPR), built from the
signed agreements: one entry per controller and processing activity.

The coach's practice processes her clients' personal data on their behalf, so the practice
is the processor and each client the controller. An entry names both with their contact
details (and a representative or data protection officer, where there is one), the
category of processing, transfers to countries outside the EEA with their safeguards, and
the general description of the technical and organisational measures (Bijlage 2). The
annexes are those in force (agreements.annexes): an agreement's own, or those of its latest
signed addendum; for an ended agreement, those in force on the day it ended.

A sub-processor added, changed or ended after signing is told to the client by a notice
(agreements.subprocessors, art. 28(2)), not by a new annex: each entry lists the notices its
agreement got with the client's answer, and a sub-processor outside the EEA that such a
notice brought in (and the client did not refuse) is among its transfers.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from agreements.annexes import Annexes, effective_annexes, security_description
from agreements.models import (
    Addendum,
    Agreement,
    AgreementStatus,
    ProcessingActivity,
    ProcessingActivityFields,
    Subprocessor,
    SubprocessorChangeKind,
    SubprocessorNotice,
)
from agreements.retention import activity_due_date
from core.models import Client, Practice

from .batches import release

# The columns, in Dutch (the coach shows the record to the AP). The PDF prints the first
# three as the entry's heading.
CONTROLLER = "Verwerkingsverantwoordelijke"
COLUMNS = (
    CONTROLLER,
    "Categorie van verwerking",
    "Verwerkersovereenkomst",
    "Contactgegevens verwerkingsverantwoordelijke",
    "Vertegenwoordiger of functionaris gegevensbescherming verwerkingsverantwoordelijke",
    "Verwerker",
    "Contactgegevens verwerker",
    "Vertegenwoordiger of functionaris gegevensbescherming verwerker",
    "Verwerkingsverantwoordelijke volgens Bijlage 1",
    "Bijlagen volgens",
    "Doeleinden",
    "Persoonsgegevens",
    "Subverwerkers",
    "Locatie",
    "Doorgifte naar landen buiten de EER en waarborgen",
    "Bewaartermijn",
    "Technische en organisatorische beveiligingsmaatregelen (Bijlage 2)",
    "Overeenkomst beëindigd op",
    "Bewaren tot",
)


def signed_agreements(agreements: QuerySet[Agreement]) -> QuerySet[Agreement]:
    """The signed ones of `agreements`, with what their entries need, by client."""
    return (
        agreements.filter(status=AgreementStatus.SIGNED)
        .select_related("client", "practice", "ending")
        .defer("document_pdf")
        .prefetch_related(
            Prefetch("activities", queryset=ProcessingActivity.objects.order_by("position", "id")),
            Prefetch("addenda", queryset=Addendum.objects.defer("document_pdf")),
            "addenda__activities",
            Prefetch(
                "subprocessor_notices",
                queryset=SubprocessorNotice.objects.select_related("change__subprocessor").order_by(
                    "change__effective_on", "change__created_at", "change__id"
                ),
            ),
        )
        .order_by("client_name", "agreement_date", "id")
    )


def _date(value: datetime.date | None) -> str:
    return f"{value:%d-%m-%Y}" if value else ""


def _lines(*parts: tuple[str, str]) -> str:
    return "\n".join(f"{label}: {value}" for label, value in parts if value)


def processor_contact(practice: Practice) -> str:
    return _lines(
        ("Adres", practice.address),
        ("E-mail", practice.email),
        ("Telefoon", practice.phone),
        ("KvK", practice.kvk_number),
        ("Statutaire zetel", practice.statutory_seat),
    )


def controller_contact(agreement: Agreement, client: Client) -> str:
    return _lines(
        ("Woonplaats", client.residence or agreement.client_residence),
        ("E-mail", client.email),
        ("Telefoon", client.phone),
    )


def _representative(party: object) -> str:
    """A representative (art. 27) or data protection officer (art. 37), where the party has
    one recorded; a one-person practice and a private client usually have neither."""
    names = [
        str(getattr(party, field, "") or "")
        for field in ("representative", "data_protection_officer")
    ]
    return "\n".join(name for name in names if name)


def transfers(
    row: ProcessingActivityFields, register: dict[int, Subprocessor], by_notice: list[str]
) -> str:
    """Transfers to countries outside the EEA and their safeguards: from the sub-processor
    register when the row picks from it, else what the row's own text says; then those that
    a notice after signing brought in (`transfers_by_notice`)."""
    signed = _signed_transfers(row, register)
    if not by_notice:
        return signed
    # Said of the signed annexes, so that "Geen ..." does not read as the whole answer.
    if not signed.startswith("Volgens Bijlage 1"):
        signed = f"Bijlage 1: {signed}"
    return "\n".join([signed, *by_notice])


def _signed_transfers(row: ProcessingActivityFields, register: dict[int, Subprocessor]) -> str:
    entries = [register[pk] for pk in row.subprocessor_ids or [] if pk in register]
    if entries:
        outside = [entry for entry in entries if entry.outside_eea]
        if not outside:
            return "Geen: de subverwerkers verwerken binnen de EER."
        return "\n".join(
            f"{entry.name} ({entry.location}): {entry.transfer_safeguard}" for entry in outside
        )
    if not row.sub_processors:
        return f"Geen subverwerkers; locatie volgens Bijlage 1: {row.location}"
    return (
        f"Volgens Bijlage 1: locatie {row.location}; subverwerkers {row.sub_processors}"
        " (niet uit het register: controleer of zij buiten de EER verwerken)"
    )


def _answer(notice: SubprocessorNotice) -> str:
    """What the client answered, and so whether the change applies to his data."""
    if notice.change.kind == SubprocessorChangeKind.ENDED:
        return ""
    if notice.objection_received_on:
        return (
            f"bezwaar ontvangen op {_date(notice.objection_received_on)}:"
            " geldt niet voor zijn persoonsgegevens"
        )
    if not notice.consent_needed:
        return "geen bezwaar vastgelegd"
    if notice.consent_received_on:
        return f"toestemming gegeven op {_date(notice.consent_received_on)}"
    return "toestemming gevraagd (geen Bijlage 4), niet vastgelegd: geldt niet voor zijn gegevens"


def _applies(notice: SubprocessorNotice, ended_on: datetime.date | None) -> bool:
    """The change applies to this client's data (from its date, before the agreement ended).

    Not cut off at today: an entry reads the same before and after a change's date (which it
    names), so the entries laid out when the notice was sent or answered stay valid."""
    if ended_on is not None and notice.change.effective_on > ended_on:
        return False
    if notice.objection_received_on:
        return False
    return not notice.consent_needed or notice.consent_received_on is not None


def notices_told(notices: list[SubprocessorNotice]) -> str:
    """The sub-processor changes told to the client after signing, with his answer."""
    lines = []
    for notice in notices:
        change = notice.change
        answer = _answer(notice)
        lines.append(
            f"{change.summary} (per {_date(change.effective_on)}{'; ' if answer else ''}{answer})"
        )
    if not lines:
        return ""
    return "Na ondertekening aangekondigd (artikel 28 lid 2 AVG):\n" + "\n".join(lines)


def transfers_by_notice(
    notices: list[SubprocessorNotice], ended_on: datetime.date | None
) -> list[str]:
    """Sub-processors outside the EEA that a notice brought in, from the day it named."""
    found: dict[int, str] = {}
    for notice in notices:
        entry = notice.change.subprocessor
        if not _applies(notice, ended_on):
            continue
        if notice.change.kind == SubprocessorChangeKind.ENDED or not entry.outside_eea:
            found.pop(entry.pk, None)
            continue
        found[entry.pk] = (
            f"Na kennisgeving: {entry.name} ({entry.location}): {entry.transfer_safeguard},"
            f" vanaf {_date(notice.change.effective_on)}"
        )
    return list(found.values())


def _source(annexes: Annexes) -> str:
    addendum = annexes.addendum
    if addendum is None:
        return "De verwerkersovereenkomst zoals ondertekend"
    return (
        f"Addendum {addendum.number}, ondertekend, van kracht vanaf {_date(addendum.effective_on)}"
    )


def in_force_on(agreement: Agreement, *, today: datetime.date | None = None) -> datetime.date:
    """The day whose annexes the record shows: today, or the day the agreement ended."""
    ending = getattr(agreement, "ending", None)
    return ending.coaching_ended_on if ending else today or timezone.localdate()


def agreement_entries(
    agreement: Agreement,
    register: dict[int, Subprocessor],
    *,
    today: datetime.date | None = None,
) -> list[list[str]]:
    """The record's entries for one signed agreement: one per row of its Bijlage 1 in
    force, in the order of COLUMNS."""
    ending = getattr(agreement, "ending", None)
    on = in_force_on(agreement, today=today)
    annexes = effective_annexes(agreement, on=on)
    practice, client = agreement.practice, agreement.client
    measures = security_description(annexes)
    notices = list(agreement.subprocessor_notices.all())
    told = notices_told(notices)
    brought_in = transfers_by_notice(notices, ending.coaching_ended_on if ending else None)
    return [
        [
            agreement.client_name,
            row.description,
            f"Van {_date(agreement.agreement_date)}, kenmerk {agreement.public_id}",
            controller_contact(agreement, client),
            _representative(client),
            agreement.practice_name or practice.name,
            processor_contact(practice),
            _representative(practice),
            row.controller,
            _source(annexes),
            row.purposes,
            row.personal_data,
            "\n\n".join(text for text in (row.sub_processors, told) if text),
            row.location,
            transfers(row, register, brought_in),
            row.retention,
            measures,
            _date(ending.coaching_ended_on) if ending else "",
            _date(activity_due_date(row, ending)),
        ]
        for row in annexes.activities
    ]


def _register(practice_id: int) -> dict[int, Subprocessor]:
    return {entry.pk: entry for entry in Subprocessor.objects.filter(practice_id=practice_id)}


def record_groups(
    agreements: QuerySet[Agreement], *, chunk_size: int = 200
) -> Iterator[tuple[str, list[list[str]]]]:
    """Each signed agreement's public id and its entries, by client."""
    registers: dict[int, dict[int, Subprocessor]] = {}
    for agreement in signed_agreements(agreements).iterator(chunk_size=chunk_size):
        if agreement.practice_id not in registers:
            registers[agreement.practice_id] = _register(agreement.practice_id)
        entries = agreement_entries(agreement, registers[agreement.practice_id])
        # The entries are plain text: the rows they came from can go at once.
        release(agreement)
        if entries:
            yield str(agreement.public_id), entries


def record_rows(agreements: QuerySet[Agreement]) -> Iterator[list[str]]:
    for _public_id, entries in record_groups(agreements):
        yield from entries
