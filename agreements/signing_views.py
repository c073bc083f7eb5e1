"""The client's side of signing: public pages, reached only through the emailed link.

The first visit trades the token for a session and redirects to a URL without it, so the
secret never sits in the browser history or in a Referer header.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avg_portal.audit import client_ip

from . import documents, signing
from .actions import ActionRefused
from .forms import DeclineForm, SignatureForm
from .models import AgreementEvent, AgreementStatus, Declaration, SigningLink

SESSION_KEY = "signing_link_id"
VIEWED_KEY = "signing_viewed"
GUESS_WINDOW_SECONDS = 600


def _too_many_guesses(request):
    return cache.get(_guess_key(request), 0) >= settings.SIGNING_LINK_GUESS_LIMIT


def _count_guess(request):
    key = _guess_key(request)
    cache.add(key, 0, GUESS_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, GUESS_WINDOW_SECONDS)


def _guess_key(request):
    return f"signing-link-misses:{client_ip(request)}"


def _unavailable(request, reason, status=200):
    """A clear page that shows nothing of any agreement."""
    return render(request, "signing/unavailable.html", {"reason": reason}, status=status)


def _session_link(request):
    link_id = request.session.get(SESSION_KEY)
    if link_id is None:
        return None
    return (
        SigningLink.objects.select_related(
            "agreement", "agreement__practice", "agreement__client", "declaration"
        )
        .filter(pk=link_id)
        .first()
    )


def _link_state(link):
    """Why a link cannot be used, or None when it can."""
    if link.declaration_id:
        if link.declaration.status == Declaration.Status.SIGNED:
            return "signed"
        if link.revoked_at is not None:
            return "revoked"
        if link.used_at is not None:
            return "used"
        return None if link.is_usable() else "expired"
    agreement = link.agreement
    if agreement.status == AgreementStatus.SIGNED:
        return "signed"
    if link.revoked_at is not None or agreement.status == AgreementStatus.WITHDRAWN:
        return "revoked"
    if link.used_at is not None or agreement.status == AgreementStatus.DECLINED:
        return "used"
    if not link.is_usable() or agreement.status == AgreementStatus.EXPIRED:
        return "expired"
    if agreement.status != AgreementStatus.SENT:
        return "revoked"
    return None


@login_not_required
@never_cache
@require_GET
def signing_open(request, token):
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
    signing.link_open(link=link, request=request)
    return redirect("signing_page")


def _current(request):
    """The link of this signing session and why it is unusable (None when usable)."""
    link = _session_link(request)
    if link is None:
        return None, "no_session"
    return link, _link_state(link)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def signing_page(request):
    link, state = _current(request)
    if state is not None:
        return _unavailable(request, state)
    agreement = link.agreement
    form = SignatureForm(
        request.POST or None,
        initial={"name": agreement.client_name, "method": "drawn"},
        declaration=bool(link.declaration_id),
    )
    if request.method == "POST":
        if form.is_valid():
            sign = (
                signing.declaration_client_sign
                if link.declaration_id
                else signing.agreement_client_sign
            )
            try:
                sign(link=link, signature=form.signature(), request=request)
            except (ActionRefused, IntegrityError):
                # Another tab or device signed first; the first signature stands.
                return _unavailable(request, "signed")
            return redirect("signing_done")
    elif not request.session.get(VIEWED_KEY):
        request.session[VIEWED_KEY] = True
        signing.link_record(link=link, kind=AgreementEvent.Kind.VIEWED, request=request)
    return render(
        request,
        "signing/sign.html",
        {
            "agreement": agreement,
            "link": link,
            "form": form,
            "decline_form": DeclineForm(),
            "document": _document_html(link),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_not_required
@never_cache
@require_GET
def signing_document(request):
    """The exact PDF the client signs: the stored version, never a new render."""
    link, state = _current(request)
    if state is not None:
        return _unavailable(request, state)
    signing.link_record(link=link, kind=AgreementEvent.Kind.DOWNLOADED, request=request)
    document = link.declaration or link.agreement
    name = "verklaring-teruggave-vernietiging" if link.declaration_id else "verwerkersovereenkomst"
    response = HttpResponse(bytes(document.document_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@login_not_required
@never_cache
@require_POST
def signing_decline(request):
    link, state = _current(request)
    if state is not None:
        return _unavailable(request, state)
    if link.declaration_id:
        # A declaration is a statement of fact; there is nothing to decline.
        return _unavailable(request, "revoked")
    form = DeclineForm(request.POST)
    if not form.is_valid():
        agreement = link.agreement
        return render(
            request,
            "signing/sign.html",
            {
                "agreement": agreement,
                "link": link,
                "form": SignatureForm(initial={"name": agreement.client_name}),
                "decline_form": form,
                "document": _document_html(link),
                "show_decline": True,
            },
            status=400,
        )
    try:
        signing.agreement_client_decline(
            link=link, reason=form.cleaned_data["reason"], request=request
        )
    except ActionRefused:
        return _unavailable(request, "used")
    return render(request, "signing/declined.html")


@login_not_required
@never_cache
@require_GET
def signing_done(request):
    link = _session_link(request)
    if link is None or _link_state(link) != "signed":
        return _unavailable(request, "no_session")
    return render(
        request,
        "signing/done.html",
        {"agreement": link.agreement, "declaration": link.declaration},
    )


def _document_html(link):
    if link.declaration_id:
        return documents.render_declaration_html(link.declaration)
    return documents.render_agreement_html(link.agreement)
