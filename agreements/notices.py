"""The emails of agreements and their signing, one function per message. Each renders and
sends through `avg_portal.emails` and returns what the mail server said; the service that
asked records it on the evidence trail."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils import translation

from avg_portal.emails import Delivery, absolute_url, deliver, render_message
from core.models import Practice

from .models import Agreement, Declaration


def agreement_url(agreement: Agreement) -> str:
    return absolute_url(reverse("agreement_detail", kwargs={"public_id": agreement.public_id}))


def _reply_to(practice: Practice) -> list[str]:
    return [practice.email] if practice.email else []


def send_invitation(
    document: Agreement | Declaration,
    token: str,
    *,
    expires_at: datetime.datetime,
    reminder: bool = False,
) -> Delivery:
    """The client's personal link to read and sign, in his language."""
    agreement = document.dossier
    with translation.override(agreement.client.language):
        message = render_message(
            "signing_invitation",
            {
                "agreement": agreement,
                "declaration": document if isinstance(document, Declaration) else None,
                "link": absolute_url(reverse("signing_open", kwargs={"token": token})),
                "expires_at": expires_at,
                "reminder": reminder,
            },
            to=[agreement.client.email],
            reply_to=_reply_to(agreement.practice),
        )
    return deliver(message)


def send_declined(agreement: Agreement) -> Delivery:
    message = render_message(
        "agreement_declined",
        {"agreement": agreement, "link": agreement_url(agreement)},
        to=agreement.practice.notice_recipients(),
    )
    return deliver(message)


def send_sealed_copies(document: Agreement | Declaration) -> tuple[Delivery, Delivery]:
    """The sealed document to the client (in his language) and to the practice, attached."""
    agreement = document.dossier
    with document.final_pdf.open("rb") as stored:
        pdf = stored.read()
    filename = document.download_name()
    with translation.override(agreement.client.language):
        to_client = render_message(
            document.COMPLETED_EMAIL,
            {"agreement": agreement, "for_client": True},
            to=[agreement.client.email],
            reply_to=_reply_to(agreement.practice),
        )
    to_client.attach(filename, pdf, "application/pdf")
    to_practice = render_message(
        document.COMPLETED_EMAIL,
        {"agreement": agreement, "for_client": False, "link": agreement_url(agreement)},
        to=agreement.practice.notice_recipients(),
    )
    to_practice.attach(filename, pdf, "application/pdf")
    return deliver(to_client), deliver(to_practice)


def send_retention_reminder(
    practice: Practice, rows: Sequence[Any], *, today: datetime.date
) -> Delivery:
    """Tell the coach which Bijlage 1 rows are due for destruction soon or already."""
    message = render_message(
        "retention_reminder",
        {
            "practice": practice,
            "rows": rows,
            "today": today,
            "link": absolute_url(reverse("retention_list")),
        },
        to=practice.notice_recipients(),
    )
    return deliver(message)
