"""The signable documents as documents: the HTML fragment of the preview, and the PDF.

The agreement renders the body template of its own text version, so it keeps the text it
was drafted and signed with after a newer version is released. `render_html` and
`render_pdf` serve every kind of document; a new kind adds its renderers to `RENDERERS`.
"""

import base64
import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from avg_portal import pdf

from .document_versions import Measure, get_version
from .models import (
    Agreement,
    AgreementEvent,
    Declaration,
    Party,
    SignableDocument,
    Signature,
)

# The legal text is Dutch, whatever language the coach or the client reads the site in;
# dates ("1 september 2026") and the kind of data in Bijlage 2 follow it.
DOCUMENT_LANGUAGE = "nl"
PRINT_TEMPLATE = "pdf/agreement/print.html"


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: str
    ticked: bool


def document_context(agreement: Agreement) -> dict[str, Any]:
    version = get_version(agreement.template_version)
    ticked = set(agreement.measures)
    return {
        "agreement": agreement,
        "version": version,
        "title": f"Verwerkersovereenkomst {agreement.practice_name} – {agreement.client_name}",
        "activities": list(agreement.activities.all()),
        "technical_measures": checklist(version.technical_measures, ticked),
        "organisational_measures": checklist(version.organisational_measures, ticked),
        "penalty_per_violation": format_euros(agreement.penalty_per_violation),
        "penalty_per_day": format_euros(agreement.penalty_per_day),
        # Filled in when the parties sign: each an object with name, function, date_place,
        # on_behalf_of and image_data_uri (a PNG our own code made).
        "signatures": {"party1": None, "party2": None},
    }


def checklist(measures: Iterable[Measure], ticked_codes: set[str]) -> list[ChecklistItem]:
    return [ChecklistItem(m.code, m.label, m.code in ticked_codes) for m in measures]


def format_euros(amount: Decimal | int) -> str:
    """€ 2.500,00: Dutch grouping and decimal comma, whatever the active language."""
    whole, cents = f"{amount:,.2f}".split(".")
    return f"€\N{NO-BREAK SPACE}{whole.replace(',', '.')},{cents}"


def signature_images(signatures: Mapping[str, "PrintedSignature | None"]) -> list[str]:
    return [s.image_data_uri for s in signatures.values() if s and s.image_data_uri]


def render_agreement_html(agreement: Agreement) -> str:
    """The document body, for the preview page."""
    with translation.override(DOCUMENT_LANGUAGE):
        context = document_context(agreement)
        return render_to_string(context["version"].template, context)


def render_agreement_pdf(agreement: Agreement, *, final: bool = False) -> bytes:
    """The printable agreement. `final` adds both signatures and the evidence page: the
    document that is sealed and archived once the client has signed."""
    with translation.override(DOCUMENT_LANGUAGE):
        context = document_context(agreement)
        if final:
            context |= final_context(agreement)
        html = render_to_string(PRINT_TEMPLATE, context)
    return pdf.render_pdf(
        html,
        title=context["title"],
        author=agreement.practice_name,
        lang=DOCUMENT_LANGUAGE,
        allowed_data_uris=signature_images(context["signatures"]),
    )


@dataclass(frozen=True)
class PrintedSignature:
    on_behalf_of: str
    name: str
    function: str
    date_place: str
    image_data_uri: str
    typed_name: str


@dataclass(frozen=True)
class EvidenceSigner:
    role: str
    name: str
    function: str
    place: str
    method: str
    email: str
    signed_at: datetime.datetime
    ip_address: str
    user_agent: str
    document_sha256: str
    consent_text: str


@dataclass(frozen=True)
class EvidenceEvent:
    at: datetime.datetime
    label: str
    actor: str
    actor_name: str
    ip_address: str
    user_agent: str


def printed_signature(signature: Signature, on_behalf_of: str) -> PrintedSignature:
    image = ""
    if signature.image:
        image = "data:image/png;base64," + base64.b64encode(bytes(signature.image)).decode()
    signed_on = date_format(timezone.localtime(signature.signed_at), "j F Y")
    return PrintedSignature(
        on_behalf_of=on_behalf_of,
        name=signature.name,
        function=signature.function,
        date_place=f"{signed_on}, {signature.place}",
        image_data_uri=image,
        typed_name=signature.name if signature.method == "typed" else "",
    )


def evidence_signer(role: str, signature: Signature, email: str = "") -> EvidenceSigner:
    return EvidenceSigner(
        role=role,
        name=signature.name,
        function=signature.function,
        place=signature.place,
        method=signature.method,
        email=email,
        signed_at=signature.signed_at,
        ip_address=signature.ip_address or "",
        user_agent=signature.user_agent,
        document_sha256=signature.document_sha256,
        consent_text=signature.consent_text,
    )


def evidence_events(events: Iterable[AgreementEvent]) -> list[EvidenceEvent]:
    return [
        EvidenceEvent(
            at=e.at,
            label=str(e.get_kind_display()),
            actor=str(e.get_actor_display()),
            actor_name=e.actor_name,
            ip_address=e.ip_address or "",
            user_agent=e.user_agent,
        )
        for e in events
    ]


def final_context(agreement: Agreement) -> dict[str, Any]:
    """Both signatures in their blocks and the evidence page. Rendered in Dutch."""
    signatures = {s.party: s for s in agreement.signatures.all()}
    practice, client = signatures[Party.PRACTICE], signatures[Party.CLIENT]
    signers = [
        evidence_signer("Verantwoordelijke", practice),
        evidence_signer("Verwerker", client, invited_at(agreement, client)),
    ]
    events = evidence_events(agreement.events.exclude(document__kind="declaration"))
    return {
        "signatures": {
            "party1": printed_signature(practice, agreement.practice_name),
            "party2": printed_signature(client, agreement.client_name),
        },
        "evidence": {
            "title": (
                f"Verwerkersovereenkomst {agreement.practice_name} – {agreement.client_name}, "
                f"tekstversie {agreement.template_version}"
            ),
            "reference": agreement.public_id,
            "document_sha256": agreement.document_sha256,
            "text_version": agreement.text_version,
            "chain_sha256": chain_head(agreement),
            "signers": signers,
            "events": events,
        },
    }


def invited_at(document: SignableDocument, signature: Signature) -> str:
    """The address the signer's link was emailed to: what the evidence can vouch for, also
    after the client's address is changed."""
    link = (
        document.signing_links.filter(created_at__lte=signature.signed_at)
        .exclude(sent_to="")
        .order_by("-created_at", "-id")
        .first()
    )
    return link.sent_to if link else ""


def chain_head(agreement: Agreement) -> str:
    """The hash of the dossier's last event: it seals the trail printed above it."""
    return agreement.events.order_by("-id").values_list("sha256", flat=True).first() or ""


# The declaration of return or destruction (clause 9.3) ------------------------------------

DECLARATION_BODY = "pdf/declaration/declaration.html"
DECLARATION_PRINT = "pdf/declaration/print.html"


def declaration_context(declaration: Declaration, *, final: bool = False) -> dict[str, Any]:
    agreement = declaration.agreement
    context: dict[str, Any] = {
        "declaration": declaration,
        "agreement": agreement,
        "title": f"Verklaring teruggave of vernietiging – {agreement.client_name}",
        "signature": None,
    }
    if final:
        signature = declaration.signatures.get(party=Party.CLIENT)
        events = AgreementEvent.objects.filter(document=declaration).order_by("at", "id")
        context |= {
            "signature": printed_signature(signature, agreement.client_name),
            "evidence": {
                "title": context["title"],
                "reference": declaration.public_id,
                "document_sha256": declaration.document_sha256,
                "text_version": declaration.text_version,
                "chain_sha256": chain_head(agreement),
                "signers": [
                    evidence_signer("Verwerker", signature, invited_at(declaration, signature))
                ],
                "events": evidence_events(events),
            },
        }
    return context


def render_declaration_html(declaration: Declaration) -> str:
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(DECLARATION_BODY, declaration_context(declaration))


def render_declaration_pdf(declaration: Declaration, *, final: bool = False) -> bytes:
    with translation.override(DOCUMENT_LANGUAGE):
        context = declaration_context(declaration, final=final)
        html = render_to_string(DECLARATION_PRINT, context)
    signature = context["signature"]
    return pdf.render_pdf(
        html,
        title=context["title"],
        author=declaration.agreement.client_name,
        lang=DOCUMENT_LANGUAGE,
        allowed_data_uris=[signature.image_data_uri]
        if signature and signature.image_data_uri
        else [],
    )


# Any signable document ---------------------------------------------------------------------


def render_html(document: SignableDocument) -> str:
    """The document's text for the signing page."""
    return RENDERERS[document.kind][0](document.concrete())


def render_pdf(document: SignableDocument, *, final: bool = False) -> bytes:
    """The PDF the parties sign or, with `final`, the one with signatures and evidence."""
    return RENDERERS[document.kind][1](document.concrete(), final=final)


RENDERERS: dict[str, tuple[Callable[..., str], Callable[..., bytes]]] = {
    Agreement.KIND: (render_agreement_html, render_agreement_pdf),
    Declaration.KIND: (render_declaration_html, render_declaration_pdf),
}
