"""The breach report PDF, and the breach register (art. 33(5) GDPR) as CSV and PDF.

Both are Dutch documents, whatever language the coach's screen is in. A breach report is a
living document until the breach is closed, so it is rendered when asked for, not stored.
"""

import csv
import datetime
import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import timezone, translation

from avg_portal.pdf import render_pdf

from . import display
from .models import TRIAGE_QUESTIONS, AuthorityDecision, Breach, BreachUpdate

if TYPE_CHECKING:
    from core.models import Practice

DOCUMENT_LANGUAGE = "nl"

# The register's columns, in Dutch, and how each is read from a breach.
REGISTER_COLUMNS: tuple[tuple[str, Callable[[Breach], object]], ...] = (
    ("Kenmerk", lambda b: b.reference),
    ("Status", lambda b: b.get_status_display()),
    ("Ontdekt op", lambda b: _moment(b.discovered_at)),
    ("Plaatsgevonden", lambda b: period(b)),
    ("Wat is er gebeurd", lambda b: b.summary),
    ("Betrokken systeem", lambda b: b.system_name),
    ("Aard van de inbreuk", lambda b: ", ".join(str(n) for n in b.nature_labels())),
    ("Nog gaande", lambda b: _yes_no(b.ongoing)),
    ("Soorten persoonsgegevens", lambda b: ", ".join(str(c) for c in b.category_labels())),
    ("Overige persoonsgegevens", lambda b: b.data_other),
    ("Bijzondere of gevoelige gegevens", lambda b: _yes_no(b.has_sensitive_data)),
    ("Aantal records", lambda b: _number(b.records_count)),
    ("Versleuteld of onbegrijpelijk", lambda b: b.get_unintelligible_display()),
    ("Aantal personen (minimum)", lambda b: _number(b.persons_min)),
    ("Aantal personen (maximum)", lambda b: _number(b.persons_max)),
    ("Groep personen", lambda b: b.persons_group),
    ("Kwetsbare groep", lambda b: _yes_no(b.vulnerable_group)),
    ("Contactgegevens bekend", lambda b: b.get_contact_details_known_display()),
    ("Betrokken cliënten", lambda b: ", ".join(c.name for c in b.clients.all())),
    ("Cliënten geïnformeerd", lambda b: notified_clients(b)),
    ("Oorzaak", lambda b: b.root_cause),
    ("Gevolgen", lambda b: b.consequences),
    ("Maatregelen", lambda b: b.measures),
    ("Melding AP", lambda b: b.get_authority_decision_display()),
    ("Gemeld bij AP op", lambda b: _moment(b.authority_notified_at)),
    ("Kenmerk AP", lambda b: b.authority_reference),
    ("Reden (niet of te laat) melden", lambda b: b.authority_reason),
    ("Betrokkenen informeren", lambda b: b.get_subjects_decision_display()),
    ("Toelichting betrokkenen", lambda b: b.subjects_reason),
    ("Gesloten op", lambda b: _moment(b.closed_at)),
)


def _moment(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%d-%m-%Y %H:%M") if value else ""


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("ja" if value else "nee")


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def period(breach: Breach) -> str:
    parts: list[str] = []
    if (
        breach.occurred_from
        and breach.occurred_until
        and breach.occurred_until != (breach.occurred_from)
    ):
        parts.append(f"{breach.occurred_from:%d-%m-%Y} t/m {breach.occurred_until:%d-%m-%Y}")
    elif breach.occurred_from:
        parts.append(f"{breach.occurred_from:%d-%m-%Y}")
    if breach.occurred_note:
        parts.append(breach.occurred_note)
    return "; ".join(parts)


def notified_clients(breach: Breach) -> str:
    return ", ".join(
        f"{n.client_name} ({_moment(n.sent_at)}, {'afgeleverd' if n.delivered else 'mislukt'})"
        for n in breach.notifications.all()
        if n.sent_at
    )


def register_rows(breaches: Iterable[Breach]) -> tuple[list[str], list[list[str]]]:
    with translation.override(DOCUMENT_LANGUAGE):
        header = [name for name, _read in REGISTER_COLUMNS]
        rows = [[str(read(breach)) for _name, read in REGISTER_COLUMNS] for breach in breaches]
    return header, rows


def register_csv(breaches: Iterable[Breach]) -> bytes:
    """The register for Dutch Excel: semicolons, and a byte-order mark so that Excel reads
    UTF-8 (without it, ë and ï come out garbled)."""
    header, rows = register_rows(breaches)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        # Excel runs a cell that starts with = + - @ as a formula: quote it as text.
        writer.writerow([_defuse(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _defuse(cell: str) -> str:
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def report_context(breach: Breach) -> dict[str, object]:
    names = [f.name for f in Breach._meta.fields] + ["clients"]
    return {
        "breach": breach,
        "v": {name: display.shown_value(breach, name) for name in names},
        "triage": [(q, display.shown_value(breach, f)) for f, q in TRIAGE_QUESTIONS],
        "timeline": [(u, display.change_rows(u)) for u in breach.updates.all()],
        "practice": breach.practice,
        "deadlines": breach.deadlines(),
        "period": period(breach),
        "notifications": breach.notifications.all(),
        "printed_at": timezone.now(),
        "AuthorityDecision": AuthorityDecision,
        "Kind": BreachUpdate.Kind,
    }


def render_report_pdf(breach: Breach) -> bytes:
    with translation.override(DOCUMENT_LANGUAGE):
        html = render_to_string("pdf/breach/report.html", report_context(breach))
    return render_pdf(
        html,
        title=f"Datalek {breach.reference}",
        author=breach.practice.name,
        lang=DOCUMENT_LANGUAGE,
    )


def render_register_pdf(practice: "Practice", breaches: Iterable[Breach]) -> bytes:
    header, rows = register_rows(breaches)
    entries = [list(zip(header, row, strict=True)) for row in rows]
    with translation.override(DOCUMENT_LANGUAGE):
        html = render_to_string(
            "pdf/breach/register.html",
            {"practice": practice, "entries": entries, "printed_at": timezone.now()},
        )
    return render_pdf(html, title="Register van datalekken", author=practice.name)
