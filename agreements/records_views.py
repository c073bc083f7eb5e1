"""The practice's records: retention due dates, and the dossier export as a ZIP."""

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from . import export, retention
from .access import get_client_for_coach, get_practice

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


@require_safe
def export_practice(request):
    practice = get_practice(request)
    name = f"dossier-{slugify(practice.name) or 'praktijk'}-{timezone.localdate():%Y-%m-%d}.zip"
    return _zip_response(export.practice_dossier(practice), name)


@require_safe
def export_client(request, public_id):
    client = get_client_for_coach(request, public_id)
    name = f"dossier-{slugify(client.name) or 'client'}-{timezone.localdate():%Y-%m-%d}.zip"
    return _zip_response(export.client_dossier(client), name)
