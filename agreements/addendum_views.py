"""The coach's pages for addenda: draft one from a signed agreement, edit Bijlage 1 and 2,
preview what changes, sign and send, withdraw, download. The client signs on the common
signing pages (agreements.signing_views)."""

import functools
import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from avg_portal.downloads import attachment
from core.exceptions import ActionRefused
from core.origin import Origin

from . import addenda, documents
from .access import get_addendum_for_coach, get_agreement_for_coach
from .annexes import annexes_before, annexes_of, compare
from .forms import AddendumActivityFormSet, AddendumForm
from .views import (
    SendPage,
    _document_pdf,
    sign_and_send_page,
    stored_pdf,
)


@require_POST
def addendum_create(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A new draft addendum of a signed agreement, prefilled with the annexes in force."""
    agreement = get_agreement_for_coach(request, public_id)
    try:
        addendum = addenda.addendum_create_draft(
            agreement=agreement, origin=Origin.of_coach(request)
        )
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("agreement_detail", public_id=agreement.public_id)
    return redirect("addendum_edit", public_id=addendum.public_id)


@require_http_methods(["GET", "POST"])
def addendum_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    addendum = get_addendum_for_coach(request, public_id)
    if not addendum.is_draft:
        messages.info(request, _("This addendum is no longer a draft and cannot be changed."))
        return redirect("addendum_detail", public_id=addendum.public_id)
    data = request.POST if request.method == "POST" else None
    form = AddendumForm(data, instance=addendum)
    formset = AddendumActivityFormSet(data, instance=addendum, prefix="activities")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            addenda.addendum_save_draft(
                addendum=addendum, values=form.values(), activities=formset.rows()
            )
        except ActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("The draft addendum is saved."))
            if "preview" in request.POST:
                return redirect("addendum_detail", public_id=addendum.public_id)
            return redirect("addendum_edit", public_id=addendum.public_id)
    return render(
        request,
        "agreements/addendum_form.html",
        {"addendum": addendum, "agreement": addendum.agreement, "form": form, "formset": formset},
        status=400 if request.method == "POST" else 200,
    )


@require_safe
def addendum_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The addendum as the client will read it: old and new side by side."""
    addendum = get_addendum_for_coach(request, public_id)
    comparison = compare(annexes_before(addendum), annexes_of(addendum))
    return render(
        request,
        "agreements/addendum_detail.html",
        {
            "addendum": addendum,
            "agreement": addendum.agreement,
            "comparison": comparison,
            "document": documents.render_html(addendum),
            "events": addendum.document_events.all(),
            "latest_link": addendum.signing_links.first(),
            "pdf": stored_pdf(
                request, addendum, reverse("addendum_pdf", args=[addendum.public_id])
            ),
        },
    )


@require_safe
def addendum_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """A draft is rendered once per version and kept; once sent, the version both sign;
    once sealed, the stored file, checked first."""
    addendum = get_addendum_for_coach(request, public_id)
    if addendum.document_sha256:
        return _document_pdf(request, addendum)
    return HttpResponse(
        documents.draft_pdf(addendum),
        content_type="application/pdf",
        headers={"Content-Disposition": attachment(addendum.download_name())},
    )


@require_http_methods(["GET", "POST"])
def addendum_send(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The coach signs the addendum and sends it to the client."""
    addendum = get_addendum_for_coach(request, public_id)
    page = SendPage(
        template="agreements/addendum_send.html",
        detail="addendum_detail",
        no_longer_draft=_("This addendum is no longer a draft."),
        sent=_("Addendum signed and sent to %(email)s."),
        not_emailed=_(
            "The addendum is signed by you, but the email to %(email)s could not be "
            "sent: %(error)s."
        ),
    )
    return sign_and_send_page(
        request,
        addendum,
        page,
        functools.partial(addenda.addendum_sign_and_send, addendum=addendum),
        {"addendum": addendum, "agreement": addendum.agreement},
    )


@require_POST
def addendum_withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    addendum = get_addendum_for_coach(request, public_id)
    try:
        addenda.addendum_withdraw(addendum=addendum, origin=Origin.of_coach(request))
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, _("The addendum is withdrawn; the client's link no longer works.")
        )
    return redirect("addendum_detail", public_id=addendum.public_id)


@require_POST
def addendum_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    addendum = get_addendum_for_coach(request, public_id)
    agreement = addendum.agreement
    try:
        addenda.addendum_delete_draft(addendum=addendum, origin=Origin.of_coach(request))
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("addendum_detail", public_id=addendum.public_id)
    messages.success(request, _("The draft addendum is deleted."))
    return redirect("agreement_detail", public_id=agreement.public_id)
