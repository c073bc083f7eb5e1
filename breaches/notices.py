"""The emails of data breaches, one function per message. Each renders and sends through
`avg_portal.emails` and returns what the mail server said; the service that asked records
it on the breach."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from avg_portal.emails import Delivery, absolute_url, deliver, render_message

from .deadlines import Deadline
from .models import Breach, ClientNotification


def breach_url(breach: Breach) -> str:
    return absolute_url(reverse("breach_detail", kwargs={"public_id": breach.public_id}))


def send_breach_notification(notification: ClientNotification) -> Delivery:
    """Tell one affected client about the breach (clause 7.1), in his language."""
    breach = notification.breach
    practice = breach.practice
    language = notification.client.language if notification.client else settings.LANGUAGE_CODE
    reply_to = practice.breach_contact_email or practice.email
    with translation.override(language):
        message = render_message(
            "breach_notification",
            {
                "breach": breach,
                "practice": practice,
                "notification": notification,
                "categories": breach.category_labels(),
            },
            to=[notification.email],
            reply_to=[reply_to] if reply_to else [],
        )
    return deliver(message)


def send_breach_deadline_reminder(breach: Breach, deadline: Deadline, *, overdue: bool) -> Delivery:
    """Remind the coach of a deadline that is near or has passed."""
    message = render_message(
        "breach_deadline_reminder",
        {"breach": breach, "deadline": deadline, "overdue": overdue, "link": breach_url(breach)},
        to=breach.practice.notice_recipients(),
    )
    return deliver(message)
