"""What needs the coach now, most urgent first: the dashboard's to-do list.

Each item says what is the matter, since when or until when, and links to the page where it
is dealt with. The order follows the law's clock: breach deadlines first (24 and 72 hours),
then what stops the record from being complete (a seal that failed, an email that did not
arrive, a refusal), then what merely waits for the client or the calendar.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from agreements.models import Agreement, AgreementStatus, Declaration, SigningLink
from agreements.retention import REMIND_DAYS_AHEAD, due_for_destruction
from avg_portal.emails import shown_mail_error
from breaches.models import Breach, BreachStatus
from core.models import Practice

# In `todo_list(present=...)`: the practice has ended agreements.
ENDED = "ended"

# Links that run out within this many days are announced.
EXPIRING_WITHIN = datetime.timedelta(days=3)


class Urgency:
    OVERDUE = 0  # a legal deadline has passed
    DUE_SOON = 1  # a legal deadline is near
    BROKEN = 2  # the record is not complete: sealing failed, an email bounced
    ANSWER = 3  # the client answered: a refusal to look at
    WAITING = 4  # waiting for the client or the calendar


@dataclass(frozen=True)
class Todo:
    urgency: int
    when: datetime.datetime | datetime.date | None
    title: str
    detail: str
    url: str
    action: str

    @property
    def sort_key(self) -> tuple[int, str]:
        when = self.when.isoformat() if self.when else "9999"
        return self.urgency, when

    @property
    def tone(self) -> str:
        """A Bootstrap colour for the item's badge."""
        return {
            Urgency.OVERDUE: "danger",
            Urgency.DUE_SOON: "warning",
            Urgency.BROKEN: "danger",
            Urgency.ANSWER: "warning",
        }.get(self.urgency, "secondary")


def _agreement_url(agreement: Agreement) -> str:
    return reverse("agreement_detail", kwargs={"public_id": agreement.public_id})


def open_breaches(practice: Practice) -> list[Breach]:
    """The practice's open breaches, newest first, with what their deadlines need."""
    return list(
        practice.breaches.filter(status=BreachStatus.OPEN).prefetch_related(
            "clients", "notifications"
        )
    )


def _breach_items(breaches: list[Breach], now: datetime.datetime) -> list[Todo]:
    items = []
    for breach in breaches:
        url = reverse("breach_detail", kwargs={"public_id": breach.public_id})
        for deadline in breach.deadlines(now=now):
            if deadline.is_met:
                continue
            if deadline.is_overdue:
                urgency, detail = Urgency.OVERDUE, _("The deadline has passed.")
            else:
                urgency = Urgency.DUE_SOON
                detail = _("Still %(time)s.") % {"time": deadline.remaining_text}
            items.append(
                Todo(
                    urgency=urgency,
                    when=deadline.due_at,
                    title=f"{deadline.label}: {breach.reference}",
                    detail=detail,
                    url=url,
                    action=_("Open the breach"),
                )
            )
    return items


def _sealing_items(practice: Practice) -> list[Todo]:
    stuck = (
        practice.agreements.filter(status=AgreementStatus.SIGNED, final_sha256="")
        .exclude(seal_attempts=0)
        .defer("document_pdf")
    )
    return [
        Todo(
            urgency=Urgency.BROKEN,
            when=agreement.seal_retry_at,
            title=_("The signed agreement with %(name)s is not sealed yet")
            % {"name": agreement.client_name},
            detail=_("It is tried again automatically; the operator is told if it keeps failing."),
            url=_agreement_url(agreement),
            action=_("View the agreement"),
        )
        for agreement in stuck
    ]


def _link_items(practice: Practice, now: datetime.datetime) -> list[Todo]:
    """Invitations that did not arrive, and links that run out before the client signed."""
    items = []
    links = (
        SigningLink.objects.filter(
            document__as_agreement__practice=practice,
            document__as_agreement__status=AgreementStatus.SENT,
            used_at=None,
            revoked_at=None,
        )
        .select_related("document__as_agreement")
        .defer("document__document_pdf", "document__as_agreement__document_pdf")
        .order_by("document", "-created_at", "-id")
    )
    newest: dict[int, SigningLink] = {}
    for link in links:
        newest.setdefault(link.document_id, link)
    for link in newest.values():
        agreement = link.document.as_agreement
        if link.email_failed_at:
            items.append(
                Todo(
                    urgency=Urgency.BROKEN,
                    when=link.email_failed_at,
                    title=_("The invitation to %(name)s did not arrive")
                    % {"name": agreement.client_name},
                    detail=shown_mail_error(link.email_error) or _("The mail server refused it."),
                    url=_agreement_url(agreement),
                    action=_("Check the address and send again"),
                )
            )
        elif link.expires_at - now <= EXPIRING_WITHIN:
            items.append(
                Todo(
                    urgency=Urgency.WAITING,
                    when=link.expires_at,
                    title=_("The link of %(name)s runs out soon") % {"name": agreement.client_name},
                    detail=_("Not signed yet; the link works until %(date)s.")
                    % {"date": date_format(timezone.localtime(link.expires_at), "j F Y H:i")},
                    url=_agreement_url(agreement),
                    action=_("Send a new link"),
                )
            )
        elif link.reminders_sent >= settings.SIGNING_MAX_REMINDERS:
            items.append(
                Todo(
                    urgency=Urgency.WAITING,
                    when=link.created_at,
                    title=_("%(name)s has not signed after the reminders")
                    % {"name": agreement.client_name},
                    detail=_("No more reminders are sent automatically."),
                    url=_agreement_url(agreement),
                    action=_("View the agreement"),
                )
            )
    return items


def _declined_items(practice: Practice) -> list[Todo]:
    declined = (
        practice.agreements.filter(status=AgreementStatus.DECLINED)
        .annotate(declined_at=Max("events__at", filter=Q(events__kind="declined")))
        .defer("document_pdf")
    )
    return [
        Todo(
            urgency=Urgency.ANSWER,
            when=agreement.declined_at,
            title=_("%(name)s did not sign") % {"name": agreement.client_name},
            detail=_("Reason: %(reason)s") % {"reason": agreement.decline_reason}
            if agreement.decline_reason
            else _("No reason given."),
            url=_agreement_url(agreement),
            action=_("Change and send again"),
        )
        for agreement in declined
    ]


def _ending_items(practice: Practice, *, ended: bool = True) -> list[Todo]:
    """Declarations the client has not signed, and ended agreements without one. Both need
    an ended agreement (a declaration is sent only once the end is recorded, see
    `signing.declaration_send`), so neither is looked for unless `ended`: the practice may
    have ended agreements."""
    if not ended:
        return []
    items = [
        Todo(
            urgency=Urgency.WAITING,
            when=declaration.sent_at,
            title=_("%(name)s has not signed the declaration of return or destruction yet")
            % {"name": declaration.agreement.client_name},
            detail=_("Sent on %(date)s.")
            % {"date": date_format(timezone.localtime(declaration.sent_at), "j F Y")}
            if declaration.sent_at
            else "",
            url=_agreement_url(declaration.agreement),
            action=_("View the agreement"),
        )
        for declaration in Declaration.objects.filter(
            agreement__practice=practice, status=Declaration.Status.SENT
        )
        .select_related("agreement")
        .defer("document_pdf", "agreement__document_pdf")
    ]
    without_declaration = (
        practice.agreements.filter(
            status=AgreementStatus.SIGNED, ending__isnull=False, declaration__isnull=True
        )
        .select_related("ending")
        .defer("document_pdf")
    )
    items += [
        Todo(
            urgency=Urgency.WAITING,
            when=agreement.ending.coaching_ended_on,
            title=_("Ask %(name)s for the declaration of return or destruction")
            % {"name": agreement.client_name},
            detail=_("The agreement ended; clause 9.3 asks for a written declaration."),
            url=_agreement_url(agreement),
            action=_("Send the declaration"),
        )
        for agreement in without_declaration
    ]
    return items


def _retention_items(practice: Practice, today: datetime.date) -> list[Todo]:
    horizon = today + datetime.timedelta(days=REMIND_DAYS_AHEAD)
    rows = [
        row
        for row in due_for_destruction(practice, today=today)
        if row.due_on and row.due_on <= horizon and row.disposal is None
    ]
    if not rows:
        return []
    overdue = [row for row in rows if row.due_on and row.due_on < today]
    return [
        Todo(
            urgency=Urgency.WAITING,
            when=rows[0].due_on,
            title=ngettext(
                "A retention period runs out: %(count)s row of Bijlage 1",
                "Retention periods run out: %(count)s rows of Bijlage 1",
                len(rows),
            )
            % {"count": len(rows)},
            detail=ngettext(
                "%(overdue)s of them is overdue: destroy or return the data.",
                "%(overdue)s of them are overdue: destroy or return the data.",
                len(overdue),
            )
            % {"overdue": len(overdue)}
            if overdue
            else _("Destroy or return the data when they run out."),
            url=reverse("retention_list"),
            action=_("View the retention periods"),
        )
    ]


def todo_list(
    practice: Practice,
    *,
    now: datetime.datetime | None = None,
    breaches: list[Breach] | None = None,
    present: Collection[str] | None = None,
) -> list[Todo]:
    """`breaches`: the practice's `open_breaches`, and `present`: the agreement statuses it
    has (with ENDED when it has ended agreements), when the caller has them already. A list
    that these say must be empty is not asked of the database."""
    now = now or timezone.now()
    today = timezone.localdate(now)

    def has(status: str) -> bool:
        return present is None or status in present

    items = [
        *_breach_items(open_breaches(practice) if breaches is None else breaches, now),
        *(_sealing_items(practice) if has(AgreementStatus.SIGNED) else []),
        *(_link_items(practice, now) if has(AgreementStatus.SENT) else []),
        *(_declined_items(practice) if has(AgreementStatus.DECLINED) else []),
        *_ending_items(practice, ended=has(ENDED)),
        *(_retention_items(practice, today) if has(ENDED) else []),
    ]
    return sorted(items, key=lambda item: item.sort_key)


# Lazy, with the number named: the plural is chosen when the count is filled in.
COUNT_LABELS = {
    AgreementStatus.DRAFT: ngettext_lazy("%(count)s draft", "%(count)s drafts", "count"),
    AgreementStatus.SENT: ngettext_lazy(
        "%(count)s awaiting signature", "%(count)s awaiting signature", "count"
    ),
    AgreementStatus.SIGNED: ngettext_lazy("%(count)s signed", "%(count)s signed", "count"),
    "ended": ngettext_lazy("%(count)s ended", "%(count)s ended", "count"),
    AgreementStatus.DECLINED: ngettext_lazy("%(count)s declined", "%(count)s declined", "count"),
    AgreementStatus.WITHDRAWN: ngettext_lazy("%(count)s withdrawn", "%(count)s withdrawn", "count"),
    AgreementStatus.EXPIRED: ngettext_lazy("%(count)s expired", "%(count)s expired", "count"),
}


def agreement_counts(by_status: dict[str, int], *, ended: int) -> list[str]:
    """'2 concepten · 1 ondertekend · 1 beëindigd': the practice's agreements by state, in
    words with the right plural; an ended agreement counts as ended, not as signed."""
    counts = dict(by_status)
    counts[AgreementStatus.SIGNED] = counts.get(AgreementStatus.SIGNED, 0) - ended
    counts["ended"] = ended
    return [
        str(label % {"count": counts[status]})
        for status, label in COUNT_LABELS.items()
        if counts.get(status)
    ]
