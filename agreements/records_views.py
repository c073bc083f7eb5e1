"""The practice's records: retention due dates, and the dossier export as a ZIP."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from . import dossier_exports, export, retention
from .access import get_client_for_coach, get_practice
from .models import DossierExport

# Rows due within this many days are announced in the list and the reminder email.
SOON_DAYS = retention.REMIND_DAYS_AHEAD


@require_safe
def retention_list(request):
    practice = get_practice(request)
    today = timezone.localdate()
    return render(
        request,
        "agreements/retention_list.html",
        {
            "rows": retention.due_for_destruction(practice, today=today),
            "today": today,
            "soon_days": SOON_DAYS,
        },
    )


def _zip_response(chunks, name):
    # A download is no state change, so GET. The ZIP streams as it is written: the browser
    # shows the download's progress from the first member on.
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def export_practice(request):
    """Small dossiers stream at once; a large one is built in the background and its link
    emailed (a POST, since it starts work)."""
    practice = get_practice(request)
    if dossier_exports.is_large(practice):
        if request.method == "POST":
            dossier_exports.dossier_export_request(practice=practice, user=request.user)
            messages.success(
                request,
                _("The dossier is being made. We email you a link at %(email)s when it is ready.")
                % {"email": request.user.email},
            )
            return redirect("agreement_list")
        return render(request, "agreements/export_large.html", {"practice": practice})
    if request.method == "POST":
        return HttpResponseNotAllowed(["GET", "HEAD"])
    name = f"dossier-{slugify(practice.name) or 'praktijk'}-{timezone.localdate():%Y-%m-%d}.zip"
    return _zip_response(export.practice_dossier(practice), name)


@require_safe
def export_download(request, public_id):
    practice = get_practice(request)
    job = get_object_or_404(DossierExport, public_id=public_id, practice=practice)
    if not job.is_ready():
        raise Http404("Not ready, or expired")
    response = FileResponse(job.file.open("rb"), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="dossier-{job.completed_at:%Y-%m-%d}.zip"'
    )
    return response


@require_safe
def export_client(request, public_id):
    client = get_client_for_coach(request, public_id)
    name = f"dossier-{slugify(client.name) or 'client'}-{timezone.localdate():%Y-%m-%d}.zip"
    return _zip_response(export.client_dossier(client), name)
