"""The coach's pages for the sub-processor register (under the practice settings), the
objections clients send to its change notices, and adding Bijlage 4 to a draft."""

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.access import get_practice
from core.exceptions import ActionRefused
from core.origin import Origin

from . import art28, subprocessors
from .access import get_agreement_for_coach
from .forms import ConsentForm, ObjectionForm, SubprocessorEndForm, SubprocessorForm
from .models import SubprocessorChange, SubprocessorNotice

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Each change lists the notice of every client told, so the notices come a page at a time.
CHANGES_PAGE_SIZE = 10


@require_safe
def subprocessor_list(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    changes = Paginator(
        SubprocessorChange.objects.filter(practice=practice)
        .select_related("subprocessor")
        .prefetch_related("notices__client"),
        CHANGES_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "agreements/subprocessor_list.html",
        {
            "practice": practice,
            "entries": practice.subprocessors.all(),
            "changes": changes,
            "active_count": subprocessors.active_agreements(practice).count(),
            "objection_form": ObjectionForm(),
            "consent_form": ConsentForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def subprocessor_add(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    form = SubprocessorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = subprocessors.subprocessor_add(
                practice=practice,
                values=form.values(),
                effective_on=form.cleaned_data["effective_on"],
                origin=Origin.of_coach(request),
            )
        except ActionRefused as refusal:
            form.add_error("effective_on", str(refusal))
        else:
            _told(request, change)
            return redirect("subprocessor_list")
    return render(
        request,
        "agreements/subprocessor_form.html",
        {"form": form, "entry": None, "active_count": _active_count(request)},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def subprocessor_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    entry = subprocessors.get_subprocessor_for_coach(request, public_id)
    if entry.ended_on is not None:
        messages.info(request, _("This sub-processor has been ended and can no longer change."))
        return redirect("subprocessor_list")
    form = SubprocessorForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        try:
            change = subprocessors.subprocessor_update(
                subprocessor=entry,
                values=form.values(),
                effective_on=form.cleaned_data["effective_on"],
                origin=Origin.of_coach(request),
            )
        except ActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            _told(request, change)
            return redirect("subprocessor_list")
    entry.refresh_from_db()  # the form's cleaning changed it in memory
    return render(
        request,
        "agreements/subprocessor_form.html",
        {"form": form, "entry": entry, "active_count": _active_count(request)},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def subprocessor_end(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    entry = subprocessors.get_subprocessor_for_coach(request, public_id)
    if entry.ended_on is not None:
        messages.info(request, _("This sub-processor has already been ended."))
        return redirect("subprocessor_list")
    form = SubprocessorEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = subprocessors.subprocessor_end(
                subprocessor=entry,
                ended_on=form.cleaned_data["ended_on"],
                origin=Origin.of_coach(request),
            )
        except ActionRefused as refusal:
            form.add_error("ended_on", str(refusal))
        else:
            _told(request, change)
            return redirect("subprocessor_list")
    return render(
        request,
        "agreements/subprocessor_end.html",
        {"form": form, "entry": entry, "active_count": _active_count(request)},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def notice_answer(request: HttpRequest, public_id: uuid.UUID, answer: str) -> HttpResponse:
    """The coach records a client's answer to a change she told him of: his objection, or,
    where his agreement has no Bijlage 4, his consent (`answer`, from the URL)."""
    notice = subprocessors.get_notice_for_coach(request, public_id)
    form_class, record, recorded = ANSWERS[answer]
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("subprocessor_list")
    try:
        record(
            notice=notice,
            received_on=form.cleaned_data[f"{answer}_received_on"],
            origin=Origin.of_coach(request),
            **{answer: form.cleaned_data[answer]},
        )
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, str(recorded) % {"name": notice.client.name})
    return redirect("subprocessor_list")


# What each answer is recorded with, and what the coach reads once it is.
Answer = tuple[
    type[forms.ModelForm[SubprocessorNotice]],
    Callable[..., SubprocessorNotice],
    "StrOrPromise",
]
ANSWERS: dict[str, Answer] = {
    "objection": (
        ObjectionForm,
        subprocessors.notice_record_objection,
        gettext_lazy("The objection of %(name)s is recorded in the history of the agreement."),
    ),
    "consent": (
        ConsentForm,
        subprocessors.notice_record_consent,
        gettext_lazy("The consent of %(name)s is recorded in the history of the agreement."),
    ),
}


@require_POST
def agreement_supplement(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Add Bijlage 4 to a draft with one click (or take it out), back to the send page."""
    agreement = get_agreement_for_coach(request, public_id)
    add = request.POST.get("add") == "1"
    try:
        art28.agreement_set_supplement(agreement=agreement, add=add)
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("agreement_detail", public_id=agreement.public_id)
    messages.success(
        request,
        _("Bijlage 4 is added to the agreement.")
        if add
        else _("Bijlage 4 is taken out of the agreement."),
    )
    return redirect("agreement_send", public_id=agreement.public_id)


def _active_count(request: HttpRequest) -> int:
    return subprocessors.active_agreements(get_practice(request)).count()


def _told(request: HttpRequest, change: SubprocessorChange) -> None:
    count = change.notices.count()
    if count:
        messages.success(
            request,
            _(
                "Saved. %(count)s client(s) with a signed agreement get an email about it; "
                "it takes effect on %(date)s."
            )
            % {"count": count, "date": date_format(change.effective_on, "j F Y")},
        )
    else:
        messages.success(
            request, _("Saved. No client has a signed agreement now, so no one needs to be told.")
        )
