"""The client's side of signing: public pages, reached only through the emailed link.

The first visit trades the token for a session and redirects to a URL without it, so the
secret never sits in the browser history or in a Referer header.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avg_portal.downloads import attachment
from core.exceptions import ActionRefused
from core.origin import Origin, client_ip

from . import documents, signing
from .forms import DeclineForm, SignatureForm
from .models import AgreementEvent, AgreementStatus, Declaration, SigningLink

SESSION_KEY = "signing_link_id"
VIEWED_KEY = "signing_viewed"
GUESS_WINDOW_SECONDS = 600


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


def _unavailable(request: HttpRequest, reason: str, status: int = 200) -> HttpResponse:
    """A clear page that shows nothing of any agreement."""
    return render(request, "signing/unavailable.html", {"reason": reason}, status=status)


def _session_link(request: HttpRequest) -> SigningLink | None:
    link_id = request.session.get(SESSION_KEY)
    if link_id is None:
        return None
    return SigningLink.objects.select_related("document").filter(pk=link_id).first()


def _link_state(link: SigningLink) -> str | None:
    """Why a link cannot be used, or None when it can."""
    document = link.document.concrete()
    agreement = document.dossier
    if document.is_signed:
        return "signed"
    if link.revoked_at is not None or agreement.status == AgreementStatus.WITHDRAWN:
        return "revoked"
    if link.used_at is not None or agreement.status == AgreementStatus.DECLINED:
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
    signing.link_open(link=link, origin=_client_origin(request, link))
    return redirect("signing_page")


def _current(request: HttpRequest) -> tuple[SigningLink | None, str | None]:
    """The link of this signing session and why it is unusable (None when usable)."""
    link = _session_link(request)
    if link is None:
        return None, "no_session"
    return link, _link_state(link)


def _page(
    request: HttpRequest,
    link: SigningLink,
    form: SignatureForm,
    decline_form: DeclineForm,
    *,
    status: int = 200,
    show_decline: bool = False,
) -> HttpResponse:
    document = link.document.concrete()
    return render(
        request,
        "signing/sign.html",
        {
            "agreement": document.dossier,
            "declaration": document if isinstance(document, Declaration) else None,
            "signable": document,
            "link": link,
            "form": form,
            "decline_form": decline_form,
            "document": documents.render_html(document),
            "show_decline": show_decline,
        },
        status=status,
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def signing_page(request: HttpRequest) -> HttpResponse:
    link, state = _current(request)
    if link is None or state is not None:
        return _unavailable(request, state or "no_session")
    document = link.document.concrete()
    form = SignatureForm(
        request.POST or None,
        initial={"name": document.dossier.client_name, "method": "drawn"},
        declaration=not document.DECLINABLE,
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                signing.client_sign(
                    link=link, signature=form.signature(), origin=_client_origin(request, link)
                )
            except (ActionRefused, IntegrityError):
                # Another tab or device signed first; the first signature stands.
                return _unavailable(request, "signed")
            return redirect("signing_done")
        return _page(request, link, form, DeclineForm(), status=400)
    if not request.session.get(VIEWED_KEY):
        request.session[VIEWED_KEY] = True
        signing.link_record(
            link=link, kind=AgreementEvent.Kind.VIEWED, origin=_client_origin(request, link)
        )
    return _page(request, link, form, DeclineForm())


@login_not_required
@never_cache
@require_GET
def signing_document(request: HttpRequest) -> HttpResponse:
    """The exact PDF the client signs: the stored version, never a new render."""
    link, state = _current(request)
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
        signature_form = SignatureForm(initial={"name": document.dossier.client_name})
        return _page(request, link, signature_form, form, status=400, show_decline=True)
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
            "declaration": document if isinstance(document, Declaration) else None,
        },
    )
