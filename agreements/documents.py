"""The signable documents as documents: the HTML fragment of the preview, and the PDF.

The agreement renders the body template of its own text version, so it keeps the text it
was drafted and signed with after a newer version is released. `render_html` and
`render_pdf` serve every kind of document; a new kind adds its renderers to `RENDERERS`.
"""

import base64
import datetime
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from avg_portal import pdf

from . import annexes
from .document_versions import Measure, get_supplement, get_version
from .models import (
    Addendum,
    Agreement,
    AgreementEvent,
    ConcreteDocument,
    Declaration,
    Party,
    SignableDocument,
    Signature,
    SignerCode,
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
        # Bijlage 4 (art. 28 GDPR), printed after Bijlage 3 when the agreement has it.
        "supplement": (
            get_supplement(agreement.supplement_version) if agreement.with_supplement else None
        ),
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
        body = render_to_string(context["version"].template, context)
        if context["supplement"]:
            body += render_to_string(context["supplement"].template, context)
        return body


def render_agreement_pdf(
    agreement: Agreement, *, final: bool = False, keep_in: str | None = None
) -> bytes:
    """The printable agreement. `final` adds both signatures and the evidence page: the
    document that is sealed and archived once the client has signed. `keep_in`: see
    `draft_pdf`."""
    with translation.override(DOCUMENT_LANGUAGE):
        context = document_context(agreement)
        if final:
            context |= final_context(agreement)
        html = render_to_string(PRINT_TEMPLATE, context)
    return _print(
        html,
        context,
        author=agreement.practice_name,
        allowed_data_uris=signature_images(context["signatures"]),
        keep_in=keep_in,
    )


def _print(
    html: str,
    context: Mapping[str, Any],
    *,
    author: str,
    allowed_data_uris: list[str],
    keep_in: str | None,
) -> bytes:
    """The PDF of `html`; kept in storage under `keep_in` when given (`draft_pdf`)."""
    options = {
        "title": context["title"],
        "author": author,
        "lang": DOCUMENT_LANGUAGE,
        "allowed_data_uris": allowed_data_uris,
    }
    if keep_in is None:
        return pdf.render_pdf(html, **options)
    return pdf.render_pdf_once(html, folder=keep_in, **options)


# Where `draft_pdf` keeps the PDFs of drafts (avg_portal.pdf.render_pdf_once).
DRAFT_PDFS = "agreement-drafts"


def draft_pdf_folder(document: ConcreteDocument) -> str:
    """Where the drafts of `document` are kept (an agreement or an addendum has drafts)."""
    return f"{DRAFT_PDFS}/{document.public_id}"


def forget_draft_pdfs(drafts: Iterable[Agreement | Addendum]) -> None:
    """Once the transaction commits, remove the kept PDFs of drafts being deleted: they hold
    the client's data (`draft_pdfs_cleanup` would otherwise remove them weeks later)."""
    folders = [draft_pdf_folder(draft) for draft in drafts]

    def forget() -> None:
        for folder in folders:
            pdf.forget_renders(folder)

    transaction.on_commit(forget)


def draft_pdf(document: Agreement | Addendum) -> bytes:
    """A draft's PDF for the coach's download: rendered once per version of the draft and
    kept in storage under the hash of its HTML, so that downloading it again, or after an
    edit that changed nothing printed, reads the stored file instead of laying it out."""
    if isinstance(document, Addendum):
        return render_addendum_pdf(document, keep_in=draft_pdf_folder(document))
    return render_agreement_pdf(document, keep_in=draft_pdf_folder(document))


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
    party: str
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
    # The signer code he confirmed (agreements.signer_codes), when one was asked for.
    code_channel: str = ""
    code_sent_to: str = ""
    code_sent_at: datetime.datetime | None = None
    code_confirmed_at: datetime.datetime | None = None


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
    code = SignerCode.objects.filter(signature=signature, confirmed_at__isnull=False).first()
    return EvidenceSigner(
        role=role,
        party=signature.party,
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
        code_channel=code.channel if code else "",
        code_sent_to=code.sent_to if code else "",
        code_sent_at=code.created_at if code else None,
        code_confirmed_at=code.confirmed_at if code else None,
    )


def timestamp_authorities() -> list[str]:
    """The time-stamping authorities the seal asks, in order, as the evidence page names
    them: their addresses without any credentials."""
    named = []
    for url in getattr(settings, "TSA_URLS", None) or []:
        parts = urllib.parse.urlsplit(str(url))
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        named.append(urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", "")))
    return named


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
        "evidence": evidence_page(
            agreement,
            title=(
                f"Verwerkersovereenkomst {agreement.practice_name} – {agreement.client_name}, "
                f"tekstversie {agreement.template_version}"
                + (
                    f", met Bijlage 4 tekstversie {agreement.supplement_version}"
                    if agreement.with_supplement
                    else ""
                )
            ),
            signers=signers,
            events=events,
        ),
    }


def evidence_page(
    document: ConcreteDocument,
    *,
    title: str,
    signers: list[EvidenceSigner],
    events: list[EvidenceEvent],
) -> dict[str, Any]:
    """What the evidence page (pdf/agreement/evidence.html) prints for any signed document:
    what it is, its hashes, who signed, and its trail, sealed by the dossier's last event."""
    return {
        "title": title,
        "reference": document.public_id,
        "document_sha256": document.document_sha256,
        "text_version": document.text_version,
        "chain_sha256": chain_head(document.dossier),
        "timestamp_authorities": timestamp_authorities(),
        "signers": signers,
        "events": events,
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
            "evidence": evidence_page(
                declaration,
                title=context["title"],
                signers=[
                    evidence_signer("Verwerker", signature, invited_at(declaration, signature))
                ],
                events=evidence_events(events),
            ),
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


# An addendum to Bijlage 1 and 2 --------------------------------------------------------------

ADDENDUM_BODY = "pdf/addendum/addendum.html"
ADDENDUM_PRINT = "pdf/addendum/print.html"


def addendum_context(addendum: Addendum, *, final: bool = False) -> dict[str, Any]:
    agreement = addendum.agreement
    title = (
        f"Addendum {addendum.number} bij de Verwerkersovereenkomst "
        f"{agreement.practice_name} – {agreement.client_name}"
    )
    comparison = annexes.compare(annexes.annexes_before(addendum), annexes.annexes_of(addendum))
    context: dict[str, Any] = {
        "addendum": addendum,
        "agreement": agreement,
        "title": title,
        "comparison": comparison,
        "signatures": {"party1": None, "party2": None},
    }
    if final:
        signatures = {s.party: s for s in addendum.signatures.all()}
        practice, client = signatures[Party.PRACTICE], signatures[Party.CLIENT]
        events = AgreementEvent.objects.filter(document=addendum).order_by("at", "id")
        context |= {
            "signatures": {
                "party1": printed_signature(practice, agreement.practice_name),
                "party2": printed_signature(client, agreement.client_name),
            },
            "evidence": evidence_page(
                addendum,
                title=f"{title}, tekstversie {addendum.text_version}",
                signers=[
                    evidence_signer("Verantwoordelijke", practice),
                    evidence_signer("Verwerker", client, invited_at(addendum, client)),
                ],
                events=evidence_events(events),
            ),
        }
    return context


def render_addendum_html(addendum: Addendum) -> str:
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(ADDENDUM_BODY, addendum_context(addendum))


def render_addendum_pdf(
    addendum: Addendum, *, final: bool = False, keep_in: str | None = None
) -> bytes:
    with translation.override(DOCUMENT_LANGUAGE):
        context = addendum_context(addendum, final=final)
        html = render_to_string(ADDENDUM_PRINT, context)
    return _print(
        html,
        context,
        author=addendum.agreement.practice_name,
        allowed_data_uris=signature_images(context["signatures"]),
        keep_in=keep_in,
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
    Addendum.KIND: (render_addendum_html, render_addendum_pdf),
}
