import uuid
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from avg_portal.models import User
from core.access import get_practice
from core.origin import Origin

from . import actions, display, documents, notices
from .access import breaches_for_coach, get_breach_for_coach
from .forms import (
    SECTIONS,
    AuthorityDecisionForm,
    AuthorityFollowUpForm,
    AuthorityWithdrawalForm,
    CloseForm,
    NewBreachForm,
    NotifyClientsForm,
    ReopenForm,
    SubjectsDecisionForm,
    now_for_input,
    section_fields,
)
from .models import Breach, BreachUpdate, ClientNotification

# The browser keeps what was typed in a form under this key until the server has it
# (static/js/breach-autosave.js); after a successful save the next page tells it to forget.
AUTOSAVE_DONE = "breach_autosave_done"


def _coach(request: HttpRequest) -> User:
    """The logged-in coach; the login middleware lets no one else reach these views."""
    return cast(User, request.user)


def _autosave_done(request: HttpRequest, key: str) -> None:
    request.session[AUTOSAVE_DONE] = key


# Breaches on one page of the register.
REGISTER_PAGE_SIZE = 25


def breach_list(request: HttpRequest) -> HttpResponse:
    """The breach register: every breach, open or closed, notified or not; a page at a
    time, with the same number of queries whatever the number of breaches."""
    page = Paginator(breaches_for_coach(request), REGISTER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    rows = [(breach, breach.deadlines(now=now)) for breach in page]
    return render(request, "breaches/breach_list.html", {"rows": rows, "page": page})


@require_http_methods(["GET", "POST"])
def breach_create(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    form = NewBreachForm(
        request.POST or None, practice=practice, initial={"discovered_at": now_for_input()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            breach = actions.breach_create(
                practice=practice,
                origin=Origin.of_coach(request),
                summary=form.cleaned_data["summary"],
                system_name=form.cleaned_data["system_name"],
                discovered_at=form.cleaned_data["discovered_at"],
                clients=form.cleaned_data["clients"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except actions.BreachActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            _autosave_done(request, "breach-new")
            messages.success(
                request,
                _("The breach is logged. The deadlines are below; complete the report next."),
            )
            return redirect("breach_detail", public_id=breach.public_id)
    return render(request, "breaches/breach_new.html", {"form": form})


def _detail_context(request: HttpRequest, breach: Breach, **forms: Form) -> dict[str, object]:
    now = timezone.now()
    sections = [
        (slug, title, display.answers(breach, section_fields(form_class)))
        for slug, (title, form_class) in SECTIONS.items()
    ]
    updates = list(breach.updates.all())
    context = {
        "breach": breach,
        "deadlines": breach.deadlines(now=now),
        "sections": sections,
        "timeline": [(update, display.change_rows(update)) for update in updates],
        "notifications": breach.notifications.all(),
        "linked_clients": list(breach.clients.all()),
        "notify_form": NotifyClientsForm(breach=breach),
        "authority_form": AuthorityDecisionForm(
            initial={"notified_at": now_for_input(), "decision": None}
        ),
        "followup_form": AuthorityFollowUpForm(
            initial={"sent_at": now_for_input(), "reference": breach.authority_reference}
        ),
        "withdrawal_form": AuthorityWithdrawalForm(
            initial={"withdrawn_at": now_for_input(), "reference": breach.authority_reference}
        ),
        "followups": [u for u in updates if u.kind == BreachUpdate.Kind.AUTHORITY_FOLLOWUP],
        "art34_missing": actions.art34_missing(breach),
        "subjects_form": SubjectsDecisionForm(),
        "close_form": CloseForm(initial={"measures": breach.measures}),
        "unanswered": display.unanswered_facts(breach),
        "reopen_form": ReopenForm(),
        "autosave_done": request.session.pop(AUTOSAVE_DONE, ""),
        "ap_breach_form_url": settings.AP_BREACH_FORM_URL,
    }
    return context | forms


def breach_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    return render(request, "breaches/breach_detail.html", _detail_context(request, breach))


@require_http_methods(["GET", "POST"])
def breach_edit(request: HttpRequest, public_id: uuid.UUID, section: str) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    if section not in SECTIONS:
        raise Http404("No such section")
    if not breach.is_open:
        messages.info(request, _("This breach is closed. Reopen it to change it."))
        return redirect("breach_detail", public_id=breach.public_id)
    title, form_class = SECTIONS[section]
    form = form_class(request.POST or None, instance=breach, practice=breach.practice)
    if request.method == "POST" and form.is_valid():
        try:
            actions.breach_update(
                breach=breach,
                origin=Origin.of_coach(request),
                changes=form.changes(),
                clients=form.chosen_clients(),
            )
        except actions.BreachActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            _autosave_done(request, f"breach-{breach.public_id}-{section}")
            messages.success(request, _("Saved: %(section)s.") % {"section": title})
            slugs = list(SECTIONS)
            position = slugs.index(section)
            if "next" in request.POST and position + 1 < len(slugs):
                return redirect(
                    "breach_edit", public_id=breach.public_id, section=slugs[position + 1]
                )
            return redirect("breach_detail", public_id=breach.public_id)
    slugs = list(SECTIONS)
    return render(
        request,
        "breaches/breach_edit.html",
        {
            "breach": breach,
            "form": form,
            "section": section,
            "title": title,
            "step": slugs.index(section) + 1,
            "steps": [(slug, SECTIONS[slug][0]) for slug in slugs],
            "has_next": slugs.index(section) + 1 < len(slugs),
        },
    )


def _refused(
    request: HttpRequest, breach: Breach, refusal: str | Exception, **forms: Form
) -> HttpResponse:
    messages.error(request, str(refusal))
    return render(request, "breaches/breach_detail.html", _detail_context(request, breach, **forms))


@require_POST
def breach_notify(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """With `preview` in the form: the exact email, shown before anything is sent. Without:
    send it (the preview page's button)."""
    breach = get_breach_for_coach(request, public_id)
    form = NotifyClientsForm(request.POST, breach=breach)
    if not form.is_valid():
        return _refused(request, breach, _("Choose the clients to inform."), notify_form=form)
    if "preview" in request.POST:
        # What art. 34(2) requires in the email comes first: no preview of an email that
        # could not be sent.
        try:
            actions.check_art34_content(breach)
        except actions.BreachActionRefused as refusal:
            return _refused(request, breach, refusal, notify_form=form)
        clients = list(form.cleaned_data["clients"])
        example = ClientNotification(
            breach=breach,
            client=clients[0],
            client_name=clients[0].name,
            email=clients[0].email,
            message=form.cleaned_data["message"],
        )
        email = notices.render_breach_notification(example)
        return render(
            request,
            "breaches/notify_preview.html",
            {
                "breach": breach,
                "clients": clients,
                "message": form.cleaned_data["message"],
                "subject": email.subject,
                "body": email.body,
            },
        )
    try:
        notifications = actions.breach_notify_clients(
            breach=breach,
            origin=Origin.of_coach(request),
            clients=form.cleaned_data["clients"],
            message=form.cleaned_data["message"],
        )
    except actions.BreachActionRefused as refusal:
        return _refused(request, breach, refusal, notify_form=form)
    # The outbox tried the emails when the transaction committed (or the worker will soon);
    # what the mail server said is on the rows.
    for notification in notifications:
        notification.refresh_from_db()
    failed = [n for n in notifications if n.sent_at and not n.delivered]
    if failed:
        messages.error(
            request,
            _("The email to %(names)s could not be sent. Check the address and try again.")
            % {"names": ", ".join(n.client_name for n in failed)},
        )
    elif all(n.delivered for n in notifications):
        messages.success(request, _("The clients are informed by email."))
    else:
        messages.info(request, _("The emails to the clients are waiting to be sent."))
    return redirect("breach_detail", public_id=breach.public_id)


@require_POST
def breach_authority_decision(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    form = AuthorityDecisionForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, breach, _("The decision is not recorded: see below."), authority_form=form
        )
    try:
        actions.breach_record_authority_decision(
            breach=breach,
            origin=Origin.of_coach(request),
            notified=form.cleaned_data["decision"] == AuthorityDecisionForm.NOTIFIED,
            notified_at=form.cleaned_data["notified_at"],
            reference=form.cleaned_data["reference"],
            reason=form.cleaned_data["reason"],
        )
    except actions.BreachActionRefused as refusal:
        return _refused(request, breach, refusal, authority_form=form)
    messages.success(request, _("The decision on notifying the AP is recorded."))
    return redirect("breach_detail", public_id=breach.public_id)


@require_POST
def breach_authority_followup(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    form = AuthorityFollowUpForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, breach, _("The follow-up is not recorded: see below."), followup_form=form
        )
    try:
        actions.breach_record_authority_followup(
            breach=breach,
            origin=Origin.of_coach(request),
            sent_at=form.cleaned_data["sent_at"],
            reference=form.cleaned_data["reference"],
            text=form.cleaned_data["text"],
        )
    except actions.BreachActionRefused as refusal:
        return _refused(request, breach, refusal, followup_form=form)
    messages.success(request, _("The follow-up to the AP is recorded."))
    return redirect("breach_detail", public_id=breach.public_id)


@require_POST
def breach_authority_withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    form = AuthorityWithdrawalForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, breach, _("The withdrawal is not recorded: see below."), withdrawal_form=form
        )
    try:
        actions.breach_withdraw_authority_notification(
            breach=breach,
            origin=Origin.of_coach(request),
            withdrawn_at=form.cleaned_data["withdrawn_at"],
            reference=form.cleaned_data["reference"],
            reason=form.cleaned_data["reason"],
        )
    except actions.BreachActionRefused as refusal:
        return _refused(request, breach, refusal, withdrawal_form=form)
    messages.success(request, _("The withdrawal of the notification to the AP is recorded."))
    return redirect("breach_detail", public_id=breach.public_id)


@require_POST
def breach_subjects_decision(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    form = SubjectsDecisionForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, breach, _("The decision is not recorded: see below."), subjects_form=form
        )
    try:
        actions.breach_record_data_subjects_decision(
            breach=breach,
            origin=Origin.of_coach(request),
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
        )
    except actions.BreachActionRefused as refusal:
        return _refused(request, breach, refusal, subjects_form=form)
    messages.success(request, _("The decision on informing the persons is recorded."))
    return redirect("breach_detail", public_id=breach.public_id)


@require_POST
def breach_close(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _refused(request, breach, _("The breach is not closed: see below."), close_form=form)
    try:
        actions.breach_close(
            breach=breach, origin=Origin.of_coach(request), measures=form.cleaned_data["measures"]
        )
    except actions.BreachActionRefused as refusal:
        return _refused(request, breach, refusal, close_form=form)
    messages.success(request, _("The breach is closed. It stays in the register."))
    return redirect("breach_detail", public_id=breach.public_id)


@require_POST
def breach_reopen(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, breach, _("The breach is not reopened: see below."), reopen_form=form
        )
    try:
        actions.breach_reopen(
            breach=breach, origin=Origin.of_coach(request), reason=form.cleaned_data["reason"]
        )
    except actions.BreachActionRefused as refusal:
        return _refused(request, breach, refusal, reopen_form=form)
    messages.success(request, _("The breach is open again."))
    return redirect("breach_detail", public_id=breach.public_id)


def breach_report_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    breach = get_breach_for_coach(request, public_id)
    response = HttpResponse(documents.render_report_pdf(breach), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="datalek-{breach.reference}.pdf"'
    return response


def register_csv(request: HttpRequest) -> HttpResponse:
    breaches = breaches_for_coach(request)
    response = HttpResponse(
        documents.register_csv(breaches), content_type="text/csv; charset=utf-8"
    )
    filename = f"register-datalekken-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def register_pdf(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    breaches = breaches_for_coach(request)
    response = HttpResponse(
        documents.render_register_pdf(practice, breaches), content_type="application/pdf"
    )
    filename = f"register-datalekken-{timezone.localdate():%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
