"""The practice's records, across agreements and breaches: the dashboard, the clients and
their erasure, retention due dates, and the dossier export as a ZIP."""

import uuid
from collections.abc import Iterable
from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agreements import actions as agreement_actions
from agreements import archive, retention
from agreements.access import get_agreement_for_coach
from agreements.models import Agreement, AgreementStatus
from avg_portal.confirmation import confirmation_page
from avg_portal.downloads import stored_file_response
from avg_portal.models import User
from core.access import get_client_for_coach, get_practice
from core.exceptions import ActionRefused
from core.origin import Origin

from . import dossier_exports, erasure, export
from .forms import ClientForm, ClientSearchForm, DisposalForm, EraseForm
from .models import DossierExport
from .overview import overview, recent_agreements
from .todo import ENDED, agreement_counts, open_breaches, todo_list

PAGE_SIZE = 25

# Rows due within this many days are announced in the list and the reminder email.
SOON_DAYS = retention.REMIND_DAYS_AHEAD


@require_safe
def retention_list(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    today = timezone.localdate()
    return render(
        request,
        "records/retention_list.html",
        {
            "rows": retention.due_for_destruction(practice, today=today),
            "today": today,
            "soon_days": SOON_DAYS,
            "disposal_form": DisposalForm(),
            "erasures": practice.erasures.all(),
        },
    )


@require_POST
def retention_dispose(
    request: HttpRequest, public_id: uuid.UUID, kind: str, row_id: int
) -> HttpResponse:
    """Record that one Bijlage 1 row's data was destroyed or returned."""
    agreement = get_agreement_for_coach(request, public_id)
    if kind not in ("agreement", "addendum"):
        raise Http404("No such row")
    form = DisposalForm(request.POST)
    if form.is_valid():
        try:
            retention.retention_record_disposal(
                agreement=agreement,
                row=(kind, row_id),
                disposition=form.cleaned_data["disposition"],
                done_on=form.cleaned_data["done_on"],
                method=form.cleaned_data["method"],
                origin=Origin.of_coach(request),
            )
        except ActionRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                _("Recorded that the data was destroyed or returned (%(client)s).")
                % {"client": agreement.client_name},
            )
    else:
        problems = [str(error) for errors in form.errors.values() for error in errors]
        messages.error(request, " ".join(problems))
    return redirect(f"{reverse('retention_list')}#row-{kind}-{row_id}")


def _zip_response(chunks: Iterable[bytes], name: str) -> StreamingHttpResponse:
    # A download is no state change, so GET. The ZIP streams as it is written: the browser
    # shows the download's progress from the first member on.
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def export_practice(request: HttpRequest) -> HttpResponseBase:
    """Small dossiers stream at once; a large one is built in the background and its link
    emailed (a POST, since it starts work)."""
    practice = get_practice(request)
    if dossier_exports.is_large(practice):
        if request.method == "POST":
            email = cast(User, request.user).email
            dossier_exports.dossier_export_request(practice=practice, email=email)
            messages.success(
                request,
                _("The dossier is being made. We email you a link at %(email)s when it is ready.")
                % {"email": email},
            )
            return redirect("agreement_list")
        return render(request, "records/export_large.html", {"practice": practice})
    if request.method == "POST":
        return HttpResponseNotAllowed(["GET", "HEAD"])
    name = f"dossier-{slugify(practice.name) or 'praktijk'}-{timezone.localdate():%Y-%m-%d}.zip"
    return _zip_response(export.practice_dossier(practice), name)


@require_safe
def export_download(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    practice = get_practice(request)
    job = get_object_or_404(DossierExport, public_id=public_id, practice=practice)
    if not job.is_ready():
        raise Http404("Not ready, or expired")
    # Checked against the SHA-256 taken when it was stored, as every archived file is.
    try:
        archive.check_stored_once(job.file, job.sha256)
    except archive.ArchiveProblem as problem:
        return archive.damaged_response(request, problem, what=f"dossier export {job.public_id}")
    return stored_file_response(
        job.file,
        filename=f"dossier-{job.completed_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )


@require_safe
def export_client(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    client = get_client_for_coach(request, public_id)
    name = f"dossier-{slugify(client.name) or 'client'}-{timezone.localdate():%Y-%m-%d}.zip"
    return _zip_response(export.client_dossier(client), name)


def client_list(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    search = ClientSearchForm(request.GET or None)
    # Counted by a subquery per client shown, not by grouping all of the practice's clients
    # and agreements before the page is cut. annotate() drops Meta.ordering: order again, or
    # pages could repeat or skip clients.
    counts = (
        Agreement.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(n=Count("id"))
        .values("n")
    )
    clients = practice.clients.annotate(agreement_count=Coalesce(Subquery(counts), 0)).order_by(
        "name", "id"
    )
    if search.is_valid() and search.cleaned_data["q"]:
        query = search.cleaned_data["q"]
        clients = clients.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(residence__icontains=query)
        )
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "records/client_list.html", {"page": page, "search": search})


@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    form = ClientForm(request.POST or None, instance=None)
    if request.method == "POST":
        form.instance.practice = practice
        if form.is_valid():
            client = form.save()
            messages.success(request, _("Client %(name)s is added.") % {"name": client.name})
            if "and_agreement" in request.POST:
                return redirect(f"{reverse('agreement_create')}?client={client.public_id}")
            return redirect("client_list")
    return render(request, "records/client_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    client = get_client_for_coach(request, public_id)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The client's details are saved."))
        return redirect("client_list")
    agreements = client.agreements.all()
    return render(
        request,
        "records/client_form.html",
        {
            "form": form,
            "client": client,
            "agreements": agreements,
            "holds": erasure.holds(client),
            "erase_form": EraseForm(client=client),
        },
    )


@require_safe
def client_delete_confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    client = get_client_for_coach(request, public_id)
    drafts = client.agreements.filter(status=AgreementStatus.DRAFT).count()
    return confirmation_page(
        request,
        title=_("Delete %(name)s?") % {"name": client.name},
        consequences=[
            _("The client's details are deleted; this cannot be undone."),
            ngettext(
                "The client's %(count)s draft agreement is deleted too.",
                "The client's %(count)s draft agreements are deleted too.",
                drafts,
            )
            % {"count": drafts}
            if drafts
            else _("She has no draft agreements."),
            _("A client with a sent or signed agreement cannot be deleted: it is evidence."),
        ],
        action_url=reverse("client_delete", args=[client.public_id]),
        button=_("Delete the client"),
        cancel_url=reverse("client_edit", args=[client.public_id]),
    )


@require_POST
def client_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    client = get_client_for_coach(request, public_id)
    try:
        agreement_actions.client_delete(client=client, origin=Origin.of_coach(request))
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("client_edit", public_id=client.public_id)
    messages.success(request, _("Client %(name)s is deleted.") % {"name": client.name})
    return redirect("client_list")


@require_POST
def client_erase(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    client = get_client_for_coach(request, public_id)
    form = EraseForm(request.POST, client=client)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("client_edit", public_id=client.public_id)
    try:
        erasure.client_erase(client=client, origin=Origin.of_coach(request))
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("client_edit", public_id=client.public_id)
    messages.success(request, _("The client's personal data is erased."))
    return redirect("client_list")


def dashboard(request: HttpRequest) -> HttpResponse:
    practice = cast(User, request.user).practice
    context: dict[str, object] = {"practice": practice}
    if practice is not None:
        numbers = overview(practice)
        # Read once for the card and the to-do list, which skips what these say is empty.
        breaches = open_breaches(practice) if numbers.open_breaches else []
        present = set(numbers.agreements)
        if numbers.signed_and_ended:
            present.add(ENDED)
        context |= {
            "recent_agreements": recent_agreements(practice, any_ended=numbers.any_ended),
            "agreement_counts": agreement_counts(
                numbers.agreements, ended=numbers.signed_and_ended
            ),
            "client_count": numbers.clients,
            "open_breaches": [(breach, breach.deadlines()) for breach in breaches[:10]],
            "todos": todo_list(practice, breaches=breaches, present=present),
        }
    return render(request, "records/dashboard.html", context)
