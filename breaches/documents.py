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

from avg_portal import pdf

from . import display
from .models import TRIAGE_QUESTIONS, AuthorityDecision, Breach, BreachUpdate, SubjectsDecision

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from core.models import Practice

DOCUMENT_LANGUAGE = "nl"

# The register's columns, in Dutch, and how each is read from a breach.
# In the order of the AP's form, as the report.
REGISTER_COLUMNS: tuple[tuple[str, Callable[[Breach], object]], ...] = (
    ("Kenmerk", lambda b: b.reference),
    ("Status", lambda b: b.get_status_display()),
    ("Ontdekt op", lambda b: _moment(b.discovered_at)),
    ("Plaatsgevonden", lambda b: period(b)),
    ("Wat is er gebeurd", lambda b: b.summary),
    ("Soort incident", lambda b: _labels(b.incident_labels())),
    ("Betrokken systeem", lambda b: b.system_name),
    ("Andere organisatie betrokken", lambda b: other_organisation(b)),
    ("Aard van de inbreuk", lambda b: _labels(b.nature_labels())),
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
    ("Soort gevolgen", lambda b: _labels(b.consequence_labels())),
    ("Ernst van de gevolgen", lambda b: b.get_consequence_severity_display()),
    ("Gevolgen", lambda b: b.consequences),
    ("Maatregelen", lambda b: b.measures),
    ("Betrokkenen in andere EU-landen", lambda b: _yes_no(b.cross_border)),
    ("Welke landen", lambda b: b.cross_border_countries),
    ("Andere toezichthouders ingelicht", lambda b: _yes_no(b.other_authorities_notified)),
    ("Welke toezichthouders", lambda b: b.other_authorities),
    ("Melding AP", lambda b: authority_status(b)),
    ("Gemeld bij AP op", lambda b: _moment(b.authority_notified_at)),
    ("Kenmerk AP", lambda b: b.authority_reference),
    ("Reden (niet of te laat) melden", lambda b: b.authority_reason),
    ("Aanvullingen bij AP", lambda b: followups(b)),
    ("Ingetrokken bij AP op", lambda b: _moment(b.authority_withdrawn_at)),
    ("Kenmerk intrekking", lambda b: b.authority_withdrawal_reference),
    ("Reden intrekking", lambda b: b.authority_withdrawal_reason),
    ("Betrokkenen informeren", lambda b: subjects_status(b)),
    ("Toelichting betrokkenen", lambda b: b.subjects_reason),
    ("Gesloten op", lambda b: _moment(b.closed_at)),
)


def _moment(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%d-%m-%Y %H:%M") if value else ""


def _labels(labels: "Iterable[StrOrPromise]") -> str:
    return ", ".join(str(label) for label in labels)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("ja" if value else "nee")


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _day(date: datetime.date | None, time: datetime.time | None) -> str:
    if date is None:
        return ""
    return f"{date:%d-%m-%Y}" + (f" {time:%H:%M}" if time else "")


def period(breach: Breach) -> str:
    """When it happened: a day or a period, with the times of day when known (Dutch time)."""
    start = _day(breach.occurred_from, breach.occurred_from_time)
    end = _day(breach.occurred_until, breach.occurred_until_time)
    parts: list[str] = []
    if start and end and end != start:
        parts.append(f"{start} t/m {end}")
    elif start:
        parts.append(start)
    if breach.occurred_note:
        parts.append(breach.occurred_note)
    return "; ".join(parts)


def other_organisation(breach: Breach) -> str:
    if not breach.other_org_name and not breach.other_org_details:
        return ""
    role = f" ({breach.get_other_org_role_display()})" if breach.other_org_role else ""
    details = f": {breach.other_org_details}" if breach.other_org_details else ""
    return f"{breach.other_org_name}{role}{details}"


def notified_clients(breach: Breach) -> str:
    return ", ".join(
        f"{n.client_name} ({_moment(n.sent_at)}, {'afgeleverd' if n.delivered else 'mislukt'})"
        for n in breach.sent_notifications()
    )


def authority_status(breach: Breach) -> str:
    status = str(breach.get_authority_decision_display())
    if breach.authority_withdrawn_at:
        status += f", ingetrokken op {_moment(breach.authority_withdrawn_at)}"
    return status


def followups(breach: Breach) -> str:
    """Each follow-up sent to the AP: when, under which reference, and what it added."""
    return "; ".join(
        f"{entry.changes.get('authority_followup_at', '')} "
        f"(kenmerk {entry.changes.get('authority_reference', '')}): {entry.text}"
        for entry in breach.authority_followups()
    )


def subjects_status(breach: Breach) -> str:
    """Whether the persons are informed: the decision once recorded; before that, the
    emails to clients say they were (not "nog geen besluit" after they were emailed)."""
    if breach.subjects_decision != SubjectsDecision.PENDING or not breach.sent_notifications():
        return str(breach.get_subjects_decision_display())
    delivered = [n for n in breach.sent_notifications() if n.delivered]
    if not delivered:
        return "e-mail aan cliënten mislukt; nog geen besluit"
    return "cliënten per e-mail geïnformeerd op " + ", ".join(
        sorted({_moment(n.sent_at)[:10] for n in delivered})
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
        # The AP's form asks for a contact person by name, not only a role.
        "contact_names": ", ".join(
            breach.practice.members.filter(is_active=True)
            .exclude(full_name="")
            .order_by("date_joined", "id")
            .values_list("full_name", flat=True)
        ),
        "deadlines": breach.deadlines(),
        "period": period(breach),
        "notifications": breach.notifications.all(),
        "followups": breach.authority_followups(),
        "other_organisation": other_organisation(breach),
        "printed_at": timezone.now(),
        "AuthorityDecision": AuthorityDecision,
        "Kind": BreachUpdate.Kind,
    }


def render_report_pdf(breach: Breach) -> bytes:
    with translation.override(DOCUMENT_LANGUAGE):
        html = render_to_string("pdf/breach/report.html", report_context(breach))
    return pdf.render_pdf(
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
    return pdf.render_pdf(html, title="Register van datalekken", author=practice.name)
