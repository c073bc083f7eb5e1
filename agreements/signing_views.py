"""The client's side of signing: public pages, reached only through the emailed link.

The first visit trades the token for a session and redirects to a URL without it, so the
secret never sits in the browser history or in a Referer header.
"""

from typing import cast

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avg_portal.downloads import attachment
from core.exceptions import ActionRefused
from core.origin import Origin, client_ip

from . import documents, signer_codes, signing
from .forms import DeclineForm, SignatureForm
from .models import (
    Agreement,
    AgreementEvent,
    AgreementStatus,
    ConcreteDocument,
    SignableDocument,
    SignerCode,
    SigningLink,
)
from .signer_codes import SignerCodeRefused

SESSION_KEY = "signing_link_id"
VIEWED_KEY = "signing_viewed"
# The signer code this browser session confirmed (agreements.signer_codes).
CODE_KEY = "signing_code_id"
GUESS_WINDOW_SECONDS = 600

# Signer codes, counted in the shared cache like the link guesses: codes sent per link and
# per address in an hour (each one an email to the client), and wrong codes per link and
# per address in ten minutes (on top of the five tries each code allows).
CODE_SEND_WINDOW_SECONDS = 3600
CODE_SENDS_PER_LINK = 5
CODE_SENDS_PER_IP = 20
CODE_MISSES_PER_LINK = 10
CODE_MISSES_PER_IP = 20


def _too_many_guesses(request: HttpRequest) -> bool:
    misses: int = cache.get(_guess_key(request), 0)
    limit: int = settings.SIGNING_LINK_GUESS_LIMIT
    return misses >= limit


def _count_guess(request: HttpRequest) -> None:
    key = _guess_key(request)
    cache.add(key, 0, GUESS_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, GUESS_WINDOW_SECONDS)


def _guess_key(request: HttpRequest) -> str:
    return f"signing-link-misses:{client_ip(request)}"


def _count(key: str, window: int) -> None:
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)


def _code_keys(request: HttpRequest, link: SigningLink, what: str) -> tuple[str, str]:
    return f"signer-code-{what}:link:{link.pk}", f"signer-code-{what}:ip:{client_ip(request)}"


def _over(request: HttpRequest, link: SigningLink, what: str, limits: tuple[int, int]) -> bool:
    counts = [cache.get(key, 0) for key in _code_keys(request, link, what)]
    return any(count >= limit for count, limit in zip(counts, limits, strict=True))


def _count_code(request: HttpRequest, link: SigningLink, what: str, window: int) -> None:
    for key in _code_keys(request, link, what):
        _count(key, window)


def _unavailable(request: HttpRequest, reason: str, status: int = 200) -> HttpResponse:
    """A clear page that shows nothing of any agreement."""
    return render(request, "signing/unavailable.html", {"reason": reason}, status=status)


def _session_link(request: HttpRequest, *, with_pdf: bool = False) -> SigningLink | None:
    link_id = request.session.get(SESSION_KEY)
    if link_id is None:
        return None
    # Without the stored PDF of the document (tens of KB): the page shows its text.
    link = (
        SigningLink.objects.select_related("document")
        .defer("document__document_pdf")
        .filter(pk=link_id)
        .first()
    )
    if link is not None:
        _load_concrete(link.document, with_pdf=with_pdf)
    return link


def _load_concrete(document: SignableDocument, *, with_pdf: bool) -> None:
    """Read the agreement, declaration or addendum that `document.concrete()` returns, with
    the agreement it belongs to and that agreement's practice, in one query; without the PDF
    unless asked. (Read by `concrete()` itself: the whole row with its PDF, and the agreement
    and the practice in two more queries.)"""
    accessor = f"as_{document.kind}"
    model = cast(
        type[ConcreteDocument],
        SignableDocument._meta.get_field(accessor).related_model,
    )
    concrete = model._default_manager.select_related(
        "practice" if model is Agreement else "agreement__practice"
    )
    if not with_pdf:
        concrete = concrete.defer("document_pdf")
    # The reverse one-to-one accessor keeps it: concrete() returns it without a query.
    setattr(document, accessor, concrete.get(document=document))


def _link_state(link: SigningLink) -> str | None:
    """Why a link cannot be used, or None when it can."""
    document = link.document.concrete()
    agreement = document.dossier
    if document.is_signed:
        return "signed"
    if link.revoked_at is not None or agreement.status == AgreementStatus.WITHDRAWN:
        return "revoked"
    if agreement.status == AgreementStatus.DECLINED and document == agreement:
        return "declined"
    if link.used_at is not None:
        return "used"
    if not link.is_usable() or agreement.status == AgreementStatus.EXPIRED:
        return "expired"
    if not document.awaits_client_signature:
        return "revoked"
    return None


def _client_origin(request: HttpRequest, link: SigningLink) -> Origin:
    return Origin.of_client(request, name=link.document.concrete().dossier.client_name)


@login_not_required
@never_cache
@require_GET
def signing_open(request: HttpRequest, token: str) -> HttpResponse:
    if _too_many_guesses(request):
        return _unavailable(request, "throttled", status=429)
    link = signing.link_for_token(token)
    if link is None:
        _count_guess(request)
        return _unavailable(request, "unknown", status=404)
    state = _link_state(link)
    if state is not None:
        return _unavailable(request, state)
    request.session.cycle_key()
    request.session[SESSION_KEY] = link.pk
    request.session.pop(VIEWED_KEY, None)
    request.session.pop(CODE_KEY, None)
    signing.link_open(link=link, origin=_client_origin(request, link))
    return redirect("signing_page")


def _current(
    request: HttpRequest, *, with_pdf: bool = False
) -> tuple[SigningLink | None, str | None]:
    """The link of this signing session and why it is unusable (None when usable)."""
    link = _session_link(request, with_pdf=with_pdf)
    if link is None:
        return None, "no_session"
    return link, _link_state(link)


def _confirmed_code(request: HttpRequest, link: SigningLink) -> SignerCode | None:
    """The code this session confirmed for its link, while it still serves to sign."""
    code_id = request.session.get(CODE_KEY)
    if code_id is None:
        return None
    code = SignerCode.objects.filter(
        pk=code_id, link=link, confirmed_at__isnull=False, signature=None
    ).first()
    if code is None or code.confirmed_at is None:
        request.session.pop(CODE_KEY, None)
        return None
    if code.confirmed_at + signer_codes.CONFIRMATION_LIFETIME <= timezone.now():
        request.session.pop(CODE_KEY, None)
        return None
    return code


type CodeState = dict[str, object] | None


def _code_state(request: HttpRequest, link: SigningLink) -> CodeState:
    """What the page shows about the signer code; None when the practice asks for none."""
    if not signer_codes.is_required(link):
        return None
    newest = link.signer_codes.order_by("-created_at", "-id").first()
    via = signer_codes.channel()
    email = signer_codes.code_email(newest) if newest else None
    return {
        "confirmed": _confirmed_code(request, link) is not None,
        "newest": newest,
        "shown_to": via.shown_recipient(newest.sent_to if newest else via.recipient(link)),
        "channel": via.name,
        # The mail server did not take the email with the newest code (yet): say so, rather
        # than "we sent a code".
        "not_delivered": bool(email and email.status != email.Status.SENT and email.attempts),
    }


def _signature_form(
    link: SigningLink,
    code: CodeState,
    data: QueryDict | None = None,
    *,
    initial: dict[str, object] | None = None,
) -> SignatureForm:
    document = link.document.concrete()
    return SignatureForm(
        data,
        initial={"name": document.dossier.client_name, "method": "drawn", **(initial or {})},
        words=document.signing_words(),
        # A code is asked for once one was sent, until this session confirmed it.
        ask_code=bool(code and code["newest"] and not code["confirmed"]),
    )


def _page(
    request: HttpRequest,
    link: SigningLink,
    form: SignatureForm,
    decline_form: DeclineForm,
    *,
    code: CodeState,
    status: int = 200,
    show_decline: bool = False,
    code_notice: str = "",
    code_error: str = "",
) -> HttpResponse:
    document = link.document.concrete()
    return render(
        request,
        "signing/sign.html",
        {
            "agreement": document.dossier,
            "signable": document,
            "words": document.signing_words(),
            "link": link,
            "form": form,
            "decline_form": decline_form,
            "document": _document_text(document),
            "show_decline": show_decline,
            "code": code,
            "code_notice": code_notice,
            "code_error": code_error,
        },
        status=status,
    )


# How long the shared cache keeps a document's text for the signing page.
TEXT_CACHE_SECONDS = 24 * 3600


def _document_text(document: SignableDocument) -> str:
    """The text the client reads and signs. Once sent it cannot change (the hash of its PDF
    names the version), so it is laid out once per version and kept in the shared cache,
    not rendered again on every visit of the page."""
    if not document.document_sha256:
        return documents.render_html(document)
    key = f"signing-text:{document.key}:{document.document_sha256}"
    # render_html's SafeString comes back from the cache as one (the cache pickles it).
    text: str | None = cache.get(key)
    if text is None:
        text = documents.render_html(document)
        cache.set(key, text, TEXT_CACHE_SECONDS)
    return text


def _confirm_code(request: HttpRequest, link: SigningLink, form: SignatureForm) -> None:
    """Check the code the client typed, if the form asks for one and it has six digits; a
    refusal goes on the form, a confirmation into the session."""
    if "code" not in form.fields or not form.is_bound:
        return
    form.is_valid()  # runs the field checks; the code's own check follows
    if "code" not in form.cleaned_data:
        return
    if _over(request, link, "misses", (CODE_MISSES_PER_LINK, CODE_MISSES_PER_IP)):
        form.add_error("code", _("Too many wrong codes. Wait 10 minutes and try again."))
        return
    try:
        code = signer_codes.signer_code_confirm(
            link=link, entered=form.cleaned_data["code"], origin=_client_origin(request, link)
        )
    except SignerCodeRefused as refusal:
        _count_code(request, link, "misses", GUESS_WINDOW_SECONDS)
        form.add_error("code", str(refusal))
        return
    request.session[CODE_KEY] = code.pk


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def signing_page(request: HttpRequest) -> HttpResponse:
    link, state = _current(request)
    if link is None or state is not None:
        return _unavailable(request, state or "no_session")
    code = _code_state(request, link)
    form = _signature_form(link, code, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        _confirm_code(request, link, form)
        if form.is_valid():
            try:
                signing.client_sign(
                    link=link,
                    signature=form.signature(),
                    origin=_client_origin(request, link),
                    signer_code=_confirmed_code(request, link),
                )
            except SignerCodeRefused as refusal:
                if _signed_meanwhile(link):
                    return _unavailable(request, "signed")
                form.add_error(None, str(refusal))
                return _page(
                    request, link, form, DeclineForm(), code=_code_state(request, link), status=400
                )
            except (ActionRefused, IntegrityError):
                # Another tab or device signed first; the first signature stands.
                return _unavailable(request, "signed")
            request.session.pop(CODE_KEY, None)
            return redirect("signing_done")
        if _signed_meanwhile(link):
            return _unavailable(request, "signed")
        # _confirm_code may have confirmed the code since: its state is read again.
        return _page(
            request, link, form, DeclineForm(), code=_code_state(request, link), status=400
        )
    if not request.session.get(VIEWED_KEY):
        request.session[VIEWED_KEY] = True
        signing.link_record(
            link=link, kind=AgreementEvent.Kind.VIEWED, origin=_client_origin(request, link)
        )
    return _page(request, link, form, DeclineForm(), code=code)


def _signed_meanwhile(link: SigningLink) -> bool:
    """Whether the document got signed while this request ran: the second click of a double
    click finds the code used by the first. The first signature stands; the client reads
    that it is signed, not that his code was used."""
    return bool(SignableDocument.objects.get(pk=link.document_id).concrete().is_signed)


# What the client filled in before asking for a code: shown again, so nothing is lost.
KEPT_FIELDS = ("name", "function", "place", "method", "signature_image", "typed_signature")


@login_not_required
@never_cache
@require_POST
def signing_send_code(request: HttpRequest) -> HttpResponse:
    """Send the client a new signer code (a button in the signing form, so what he filled in
    comes along and is shown again). POST only: a mail scanner opening URLs sends nothing."""
    link, state = _current(request)
    if link is None or state is not None:
        return _unavailable(request, state or "no_session")
    if not signer_codes.is_required(link):
        return redirect("signing_page")
    kept: dict[str, object] = {
        name: request.POST[name] for name in KEPT_FIELDS if name in request.POST
    }
    kept["consent"] = request.POST.get("consent") == "on"
    if _over(request, link, "sends", (CODE_SENDS_PER_LINK, CODE_SENDS_PER_IP)):
        state_now = _code_state(request, link)
        form = _signature_form(link, state_now, initial=kept)
        refusal = _(
            "You asked for many codes in a short time. Wait an hour, or use the last code"
            " you received."
        )
        return _page(
            request, link, form, DeclineForm(), code=state_now, status=429, code_error=refusal
        )
    _count_code(request, link, "sends", CODE_SEND_WINDOW_SECONDS)
    try:
        code = signer_codes.signer_code_send(link=link, origin=_client_origin(request, link))
    except ActionRefused:
        return _unavailable(request, "revoked")
    request.session.pop(CODE_KEY, None)
    # Said before the worker has sent it: "we are sending", not "we sent".
    notice = _(
        "We are sending a code to %(recipient)s. It is valid for 10 minutes and usually"
        " arrives within a minute."
    ) % {"recipient": signer_codes.channel().shown_recipient(code.sent_to)}
    code_state = _code_state(request, link)
    form = _signature_form(link, code_state, initial=kept)
    return _page(request, link, form, DeclineForm(), code=code_state, code_notice=notice)


@login_not_required
@never_cache
@require_GET
def signing_document(request: HttpRequest) -> HttpResponse:
    """The exact PDF the client signs: the stored version, never a new render."""
    link, state = _current(request, with_pdf=True)
    if link is None or state is not None:
        return _unavailable(request, state or "no_session")
    signing.link_record(
        link=link, kind=AgreementEvent.Kind.DOWNLOADED, origin=_client_origin(request, link)
    )
    document = link.document.concrete()
    response = HttpResponse(bytes(document.document_pdf), content_type="application/pdf")
    response["Content-Disposition"] = attachment(document.download_name())
    return response


@login_not_required
@never_cache
@require_POST
def signing_decline(request: HttpRequest) -> HttpResponse:
    link, state = _current(request)
    if link is None or state is not None:
        return _unavailable(request, state or "no_session")
    document = link.document.concrete()
    if not document.DECLINABLE:
        # A declaration is a statement of fact; there is nothing to decline.
        return _unavailable(request, "revoked")
    form = DeclineForm(request.POST)
    if not form.is_valid():
        code = _code_state(request, link)
        signature_form = _signature_form(link, code)
        return _page(request, link, signature_form, form, code=code, status=400, show_decline=True)
    try:
        signing.agreement_client_decline(
            link=link, reason=form.cleaned_data["reason"], origin=_client_origin(request, link)
        )
    except ActionRefused:
        return _unavailable(request, "used")
    return render(request, "signing/declined.html")


@login_not_required
@never_cache
@require_GET
def signing_done(request: HttpRequest) -> HttpResponse:
    link = _session_link(request)
    if link is None or _link_state(link) != "signed":
        return _unavailable(request, "no_session")
    document = link.document.concrete()
    return render(
        request,
        "signing/done.html",
        {
            "agreement": document.dossier,
            "words": document.signing_words(),
        },
    )
