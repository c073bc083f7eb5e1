import datetime
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from avg_portal.confirmation import confirmation_page
from avg_portal.downloads import attachment, front_server_link, stored_file_response
from avg_portal.emails import shown_mail_error
from avg_portal.models import User
from core.access import get_practice
from core.exceptions import ActionRefused
from core.origin import Origin

from . import (
    actions,
    addenda,
    archive,
    art28,
    documents,
    evidence_renewal,
    notices,
    signing,
    tally,
)
from .access import get_agreement_for_coach
from .forms import (
    ActivityFormSet,
    AgreementForm,
    DeclarationForm,
    DefaultActivityFormSet,
    EndForm,
    NewAgreementForm,
    PracticeForm,
    PracticeSecurityDefaultsForm,
    SignatureForm,
    VerifyForm,
)
from .models import (
    Addendum,
    AddendumStatus,
    Agreement,
    AgreementStatus,
    ConcreteDocument,
)
from .retention import agreement_keep_until

PAGE_SIZE = 25
# How the archive writes dates (as the template's `date:"j F Y"` did).
DATE_FORMAT = "j F Y"
EVENTS_PAGE_SIZE = 50
# Added to the file name of a document that is not sealed yet (it carries no signatures).
UNSIGNED_COPY = "ongetekende-kopie"


@require_http_methods(["GET", "POST"])
def practice_edit(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    # A new practice's address starts as the one the coach signed up with.
    initial = {"email": cast(User, request.user).email} if not practice.email else None
    form = PracticeForm(request.POST or None, instance=practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your practice details are saved."))
        return redirect("dashboard")
    return render(request, "agreements/practice_form.html", {"form": form, "practice": practice})


@require_http_methods(["GET", "POST"])
def practice_defaults(request: HttpRequest) -> HttpResponse:
    """The Bijlage 1 rows and Bijlage 2 choices every new agreement starts with."""
    practice = get_practice(request)
    data = request.POST if request.method == "POST" else None
    form = PracticeSecurityDefaultsForm(data, instance=practice)
    formset = DefaultActivityFormSet(data, instance=practice, prefix="activities")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        actions.practice_save_defaults(
            practice=practice, values=form.values(), activities=formset.rows()
        )
        messages.success(request, _("The defaults for new agreements are saved."))
        return redirect("practice_defaults")
    return render(
        request,
        "agreements/practice_defaults.html",
        {"form": form, "formset": formset, "practice": practice},
    )


def url_for_each(viewname: str) -> Callable[[uuid.UUID], str]:
    """`reverse(viewname, args=[public_id])` for the rows of a list: reversed once, filled in
    per row. A reverse() for each link of each row was a third of the archive page's time."""
    placeholder = str(uuid.UUID(int=0))
    head, tail = reverse(viewname, args=[placeholder]).split(placeholder)
    return lambda public_id: f"{head}{public_id}{tail}"


@dataclass(frozen=True)
class ArchiveRow:
    """One row of the archive, ready to print: the template only writes these out (looking
    up and formatting the same values in the template cost a third of the page)."""

    url: str
    client_name: str
    agreement_date: str  # "j F Y", as the date filter writes it
    status: str
    # get_status_display() evaluates every lazy label of the choices on each call.
    status_label: str
    completed_on: str  # "j F Y" in local time, or "" while not signed
    edit_url: str  # empty unless it is a draft
    addenda: list["ArchiveAddendum"]


@dataclass(frozen=True)
class ArchiveAddendum:
    url: str
    number: int
    status: str
    status_label: str


@functools.lru_cache(maxsize=4096)
def _in_words(day: datetime.date, language: str | None) -> str:
    """'30 november 2026', formatted once per date and language (the key only: it is the
    active one): Django's formatting cost more than the rest of an archive row."""
    return date_format(day, DATE_FORMAT)


def agreement_list(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    agreements = practice.agreements.all()
    status = request.GET.get("status")
    if status in AgreementStatus.values:
        agreements = agreements.filter(status=status)
    # A NUL cannot be in any name (PostgreSQL refuses it even in a search): left out.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    if query:
        agreements = agreements.filter(client_name__icontains=query)
    paginator = Paginator(agreements, PAGE_SIZE)
    if not query and status not in AgreementStatus.values:
        # All of them: the number the database keeps (agreements.tally), not a count of
        # every row for every page.
        paginator.__dict__["count"] = tally.agreements_of(practice.pk)
    page = paginator.get_page(request.GET.get("page"))
    detail, edit, addendum_detail = map(
        url_for_each, ("agreement_detail", "agreement_edit", "addendum_detail")
    )
    # Counted on the agreements' own table; the page's rows read only the values they show,
    # as tuples: building the query for every column of two joined models, and a model
    # instance per row, cost more than running the query. (The values' joins are not in the
    # count: counting through them took the database 10 times as long.)
    on_page: list[tuple[int, uuid.UUID, str, datetime.date, datetime.datetime | None, str]] = list(
        cast("QuerySet[Agreement]", page.object_list).values_list(
            "pk", "public_id", "status", "agreement_date", "completed_at", "client__name"
        )
    )
    # The addenda of the page's agreements, in one query of our own: prefetch_related's
    # machinery cost more than the query and the page's rows together.
    addenda: dict[int, list[ArchiveAddendum]] = {}
    if on_page:
        addendum_labels = {value: str(label) for value, label in AddendumStatus.choices}
        # Each agreement's in number order (Meta.ordering would also join the agreements).
        for agreement_id, addendum_id, number, addendum_status in (
            Addendum.objects.filter(agreement__in=[row[0] for row in on_page])
            .order_by("number")
            .values_list("agreement_id", "public_id", "number", "status")
        ):
            addenda.setdefault(agreement_id, []).append(
                ArchiveAddendum(
                    url=addendum_detail(addendum_id),
                    number=number,
                    status=addendum_status,
                    status_label=addendum_labels[addendum_status],
                )
            )
    labels = {value: str(label) for value, label in AgreementStatus.choices}
    language = get_language()
    rows = [
        ArchiveRow(
            url=detail(public_id),
            client_name=client_name,
            agreement_date=_in_words(agreement_date, language),
            status=row_status,
            status_label=labels[row_status],
            completed_on=_in_words(timezone.localdate(completed_at), language)
            if completed_at
            else "",
            edit_url=edit(public_id) if row_status == AgreementStatus.DRAFT else "",
            addenda=addenda.get(pk, []),
        )
        for pk, public_id, row_status, agreement_date, completed_at, client_name in on_page
    ]
    return render(
        request,
        "agreements/agreement_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "query": query,
            "statuses": AgreementStatus.choices,
        },
    )


@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest) -> HttpResponse:
    practice = get_practice(request)
    if not practice.is_complete:
        messages.info(
            request, _("Fill in your practice details first: they go into every agreement.")
        )
        return redirect("practice_edit")
    if not practice.clients.exists():
        messages.info(request, _("Add the client first; then draft the agreement."))
        return redirect("client_create")
    initial = {}
    if request.GET.get("client"):
        client_id = _uuid_or_none(request.GET["client"])
        client = practice.clients.filter(public_id=client_id).first() if client_id else None
        initial["client"] = client
    form = NewAgreementForm(request.POST or None, practice=practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        agreement = actions.agreement_create_draft(
            practice=practice,
            client=form.cleaned_data["client"],
            coaching_agreement_date=form.cleaned_data["coaching_agreement_date"],
            origin=Origin.of_coach(request),
        )
        return redirect("agreement_edit", public_id=agreement.public_id)
    return render(request, "agreements/agreement_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = get_agreement_for_coach(request, public_id)
    if not agreement.is_draft:
        messages.info(request, _("This agreement is no longer a draft and cannot be changed."))
        return redirect("agreement_detail", public_id=agreement.public_id)
    data = request.POST if request.method == "POST" else None
    form = AgreementForm(data, instance=agreement)
    formset = ActivityFormSet(data, instance=agreement, prefix="activities")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            actions.agreement_save_draft(
                agreement=agreement, values=form.values(), activities=formset.rows()
            )
        except ActionRefused as refusal:
            messages.error(request, str(refusal))
            return redirect("agreement_detail", public_id=agreement.public_id)
        messages.success(request, _("The draft is saved."))
        if "preview" in request.POST:
            return redirect("agreement_detail", public_id=agreement.public_id)
        return redirect("agreement_edit", public_id=agreement.public_id)
    return render(
        request,
        "agreements/agreement_form.html",
        {"agreement": agreement, "form": form, "formset": formset},
    )


def agreement_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The agreement as the client will read it (an HTML preview), its state and timeline."""
    agreement = get_agreement_for_coach(request, public_id)
    latest_link = agreement.signing_links.first()
    ending = getattr(agreement, "ending", None)
    declaration = getattr(agreement, "declaration", None)
    return render(
        request,
        "agreements/agreement_detail.html",
        {
            "agreement": agreement,
            "document": documents.render_html(agreement),
            # Paged: an agreement that was reminded and resent for years has hundreds.
            "events": Paginator(agreement.events.all(), EVENTS_PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "latest_link": latest_link,
            "link_email": notices.link_email(latest_link) if latest_link else None,
            "ending": ending,
            "keep_until": agreement_keep_until(agreement) if ending else None,
            "end_form": EndForm(),
            "declaration": declaration,
            "pdf": stored_pdf(
                request, agreement, reverse("agreement_pdf", args=[agreement.public_id])
            ),
            "declaration_pdf_url": declaration
            and download_url(
                request, declaration, reverse("declaration_pdf", args=[agreement.public_id])
            ),
            "declaration_form": DeclarationForm(),
            "addenda": agreement.addenda.all(),
            "open_addendum": addenda.open_addendum(agreement),
            # Before sending: what art. 28 GDPR asks that the draft does not say yet.
            "art28": art28.check_agreement(agreement) if agreement.is_draft else None,
        },
    )


def _checked_latest(document: ConcreteDocument) -> evidence_renewal.Latest:
    """The newest version of a sealed document (the same document with the freshest
    evidence, after a renewal), once its stored file hashed to what was recorded; raises
    `archive.ArchiveProblem` otherwise."""
    latest = evidence_renewal.latest_version(document)
    archive.check_stored_once(latest.file, latest.sha256)
    return latest


@dataclass(frozen=True)
class StoredPdf:
    """Where a page links a document's PDF, and whether its stored file failed its check
    (the page then says so rather than call it unchangeable; the download refuses it and
    tells the operator, and so does the nightly `verify_archive`)."""

    url: str
    damaged: bool = False


def stored_pdf(request: HttpRequest, document: ConcreteDocument, path: str) -> StoredPdf:
    """`document`'s PDF for its page, its view at `path`. Once it is sealed, its stored file
    is checked (hashed once per version); where nginx checks signed links
    (DJANGO_SENDFILE_LINK_SECRET), the link is one nginx answers without the app, made only
    after the checks `_document_pdf` makes before it serves the file."""
    if not document.is_archived:
        return StoredPdf(path)
    try:
        latest = _checked_latest(document)
    except archive.ArchiveProblem:
        return StoredPdf(path, damaged=True)  # the view says what is wrong
    if not settings.SENDFILE_LINK_SECRET:
        return StoredPdf(path)
    link = front_server_link(
        path,
        latest.file.name or "",
        filename=document.download_name(),
        session_key=request.session.session_key,
    )
    return StoredPdf(link or path)


def download_url(request: HttpRequest, document: ConcreteDocument, path: str) -> str:
    """`stored_pdf`'s link alone: `path` itself unless nginx answers signed links."""
    if not (settings.SENDFILE_LINK_SECRET and document.is_archived):
        return path
    return stored_pdf(request, document, path).url


def agreement_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """A draft is rendered once per version and kept; once sent, the version the parties sign
    is served (named as an unsigned copy); once sealed, the stored file, checked first, never
    a new render."""
    agreement = get_agreement_for_coach(request, public_id)
    if agreement.document_sha256:
        return _document_pdf(request, agreement)
    pdf = documents.draft_pdf(agreement)
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": attachment(agreement.download_name())},
    )


def _document_pdf(request: HttpRequest, document: ConcreteDocument) -> HttpResponseBase:
    """The sealed file once it exists, served only after its bytes hash to the SHA-256
    recorded when it was stored. Before that, the text the parties sign, named so that it
    cannot pass for the signed document: the sealed PDF may be delayed, never replaced."""
    if not document.is_archived:
        stem = document.download_name().removesuffix(".pdf")
        return HttpResponse(
            bytes(document.document_pdf),
            content_type="application/pdf",
            headers={"Content-Disposition": attachment(f"{stem}-{UNSIGNED_COPY}.pdf")},
        )
    try:
        latest = _checked_latest(document)
    except archive.ArchiveProblem as problem:
        what = f"{document.kind} {document.public_id}"
        return archive.damaged_response(request, problem, what=what)
    return stored_file_response(
        latest.file, filename=document.download_name(), content_type="application/pdf"
    )


@dataclass(frozen=True)
class SendPage:
    """What the coach's sign-and-send page says for one kind of signable document. The
    messages are filled in with the client's `email` and the mail server's `error`."""

    template: str
    detail: str  # the URL name of the document's own page
    no_longer_draft: str
    sent: str
    not_emailed: str


def sign_and_send_page(
    request: HttpRequest,
    document: Agreement | Addendum,
    page: SendPage,
    send: Callable[..., object],
    context: dict[str, object],
) -> HttpResponse:
    """The coach signs a draft and the client is emailed his link: one page for every kind
    of signable document. `send(signature=..., origin=...)` is the kind's service."""
    detail = redirect(page.detail, public_id=document.public_id)
    if not document.is_draft:
        messages.info(request, page.no_longer_draft)
        return detail
    agreement = document.dossier
    coach = cast(User, request.user)
    initial = {
        # Her own name, as she signed last time (the practice's name is not a person's).
        "name": coach.full_name,
        "function": _("Coach"),
        "place": agreement.practice_seat,
    }
    form = SignatureForm(request.POST or None, initial=initial, words=document.signing_words())
    if request.method == "POST" and form.is_valid():
        try:
            send(signature=form.signature(), origin=Origin.of_coach(request))
        except ActionRefused as refusal:
            messages.error(request, str(refusal))
            return detail
        if not coach.full_name:
            User.objects.filter(pk=coach.pk, full_name="").update(
                full_name=form.cleaned_data["name"][:150]
            )
        link = document.signing_links.first()
        if link and link.email_failed_at:
            failed = {"email": agreement.client.email, "error": shown_mail_error(link.email_error)}
            messages.error(request, page.not_emailed % failed)
        else:
            messages.success(request, page.sent % {"email": agreement.client.email})
        return detail
    return render(
        request,
        page.template,
        context | {"form": form, "is_coach": True},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def agreement_send(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The coach signs the draft and sends it to the client."""
    agreement = get_agreement_for_coach(request, public_id)
    page = SendPage(
        template="agreements/agreement_send.html",
        detail="agreement_detail",
        no_longer_draft=_("This agreement is no longer a draft."),
        sent=_("Signed and sent to %(email)s."),
        not_emailed=_(
            "The agreement is signed by you, but the email to %(email)s could not be "
            "sent: %(error)s. Check the address and send it again."
        ),
    )
    return sign_and_send_page(
        request,
        agreement,
        page,
        functools.partial(signing.agreement_sign_and_send, agreement=agreement),
        {"agreement": agreement, "art28": art28.check_agreement(agreement)},
    )


def _transition(
    request: HttpRequest,
    public_id: uuid.UUID,
    action: Callable[..., object],
    success_message: str,
) -> Agreement:
    agreement = get_agreement_for_coach(request, public_id)
    try:
        action(agreement=agreement, origin=Origin.of_coach(request))
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, success_message)
    return agreement


@require_safe
def agreement_withdraw_confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = get_agreement_for_coach(request, public_id)
    if agreement.status != AgreementStatus.SENT:
        return redirect("agreement_detail", public_id=agreement.public_id)
    return confirmation_page(
        request,
        title=_("Withdraw the agreement with %(name)s?") % {"name": agreement.client_name},
        consequences=[
            _("The client's link stops working at once; he can no longer sign."),
            _("Your signature is kept with the agreement until you make it a draft again."),
            _("The withdrawal is written in the agreement's history."),
        ],
        action_url=reverse("agreement_withdraw", args=[agreement.public_id]),
        button=_("Withdraw the agreement"),
        cancel_url=reverse("agreement_detail", args=[agreement.public_id]),
    )


@require_POST
def agreement_withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = _transition(
        request,
        public_id,
        signing.agreement_withdraw,
        _("The agreement is withdrawn; the client's link no longer works."),
    )
    return redirect("agreement_detail", public_id=agreement.public_id)


@require_POST
def agreement_resend(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = _transition(
        request,
        public_id,
        signing.agreement_resend,
        _("A new link is on its way to the client; earlier links no longer work."),
    )
    return redirect("agreement_detail", public_id=agreement.public_id)


@require_POST
def agreement_reopen(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = _transition(
        request, public_id, signing.agreement_reopen, _("The agreement is a draft again.")
    )
    if agreement.is_draft:
        agreement.refresh_from_db()
    return redirect(
        "agreement_edit" if agreement.is_draft else "agreement_detail",
        public_id=agreement.public_id,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Anyone may check whether a PDF is an unaltered agreement sealed by this service;
    the answer says nothing else about it."""
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = signing.verify_document(form.cleaned_data["document"].read())
    return render(request, "agreements/verify.html", {"form": form, "result": result})


@require_safe
def agreement_delete_confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = get_agreement_for_coach(request, public_id)
    if not agreement.is_draft:
        return redirect("agreement_detail", public_id=agreement.public_id)
    return confirmation_page(
        request,
        title=_("Delete the draft for %(name)s?") % {"name": agreement.client_name},
        consequences=[
            _("The draft and its Bijlage 1 rows are deleted; this cannot be undone."),
            _("The client and your other agreements stay as they are."),
        ],
        action_url=reverse("agreement_delete", args=[agreement.public_id]),
        button=_("Delete the draft"),
        cancel_url=reverse("agreement_detail", args=[agreement.public_id]),
    )


@require_POST
def agreement_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = get_agreement_for_coach(request, public_id)
    try:
        actions.agreement_delete_draft(agreement=agreement, origin=Origin.of_coach(request))
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("agreement_detail", public_id=agreement.public_id)
    messages.success(request, _("The draft is deleted."))
    return redirect("agreement_list")


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@require_POST
def agreement_end(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = get_agreement_for_coach(request, public_id)
    form = EndForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("agreement_detail", public_id=agreement.public_id)
    try:
        signing.agreement_record_end(
            agreement=agreement,
            ended_on=form.cleaned_data["coaching_ended_on"],
            origin=Origin.of_coach(request),
        )
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The end of the agreement is recorded."))
    return redirect("agreement_detail", public_id=agreement.public_id)


@require_POST
def declaration_send(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    agreement = get_agreement_for_coach(request, public_id)
    form = DeclarationForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "agreements/declaration_form.html",
            {"agreement": agreement, "form": form},
            status=400,
        )
    try:
        signing.declaration_send(
            agreement=agreement, origin=Origin.of_coach(request), **form.cleaned_data
        )
    except ActionRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("The declaration is sent to %(email)s for signing.")
            % {"email": agreement.client.email},
        )
    return redirect("agreement_detail", public_id=agreement.public_id)


def declaration_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponseBase:
    """The declaration as sent (an unsigned copy), or once sealed the stored file, checked."""
    agreement = get_agreement_for_coach(request, public_id)
    declaration = getattr(agreement, "declaration", None)
    if declaration is None:
        raise Http404("No declaration")
    return _document_pdf(request, declaration)
