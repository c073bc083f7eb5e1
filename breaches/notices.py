"""The emails of data breaches, one function per message. Each renders its message and
queues it in the caller's transaction (`avg_portal.emails.queue`) under a purpose below;
what the mail server says reaches the handler registered for that purpose
(breaches/apps.py), which writes it on the breach."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation

from avg_portal.emails import absolute_url, queue, render_message
from avg_portal.models import OutboxMessage

from .deadlines import Deadline
from .models import Breach, ClientNotification

# What each message is for; the handler finds its row by the message's subject_id.
NOTIFICATION = "breaches.notification"  # the ClientNotification
DEADLINE_REMINDER = "breaches.deadline_reminder"  # the Breach


def breach_url(breach: Breach) -> str:
    return absolute_url(reverse("breach_detail", kwargs={"public_id": breach.public_id}))


def render_breach_notification(notification: ClientNotification) -> EmailMultiAlternatives:
    """The email one affected client gets about the breach (clause 7.1), in his language:
    what the coach previews is what is sent."""
    breach = notification.breach
    practice = breach.practice
    language = notification.client.language if notification.client else settings.LANGUAGE_CODE
    reply_to = practice.breach_contact_email or practice.email
    # Clause 7.1 promises word within 24 hours: the email says so only when it keeps that
    # promise, to a client whose signed agreement makes it (a signed agreement stays signed
    # after it ended, and clause 2.4 keeps the duty).
    keeps_promise = (
        notification.created_at <= breach.client_deadline
        and notification.client is not None
        and notification.client.agreements.filter(status="signed").exists()
    )
    with translation.override(language):
        # Art. 34(2) GDPR: the nature of the breach, a contact point, the likely consequences
        # and the measures taken or proposed (breaches.actions.art34_missing checks them).
        return render_message(
            "breach_notification",
            {
                "breach": breach,
                "practice": practice,
                "notification": notification,
                "keeps_promise": keeps_promise,
                "categories": breach.category_labels(),
                "incident": breach.incident_labels(),
                "nature": breach.nature_labels(),
                "contact_email": reply_to,
                "contact_phone": practice.breach_contact_phone or practice.phone,
            },
            to=[notification.email],
            reply_to=[reply_to] if reply_to else [],
            on_behalf_of=practice.name,
        )


def send_breach_notification(notification: ClientNotification) -> OutboxMessage:
    message = render_breach_notification(notification)
    notification.text = str(message.body)
    notification.save(update_fields=["text"])
    return queue(message, purpose=NOTIFICATION, subject_id=notification.pk)


def send_breach_deadline_reminder(
    breach: Breach, deadline: Deadline, *, overdue: bool
) -> OutboxMessage:
    """Remind the coach of a deadline that is near or has passed."""
    message = render_message(
        "breach_deadline_reminder",
        {"breach": breach, "deadline": deadline, "overdue": overdue, "link": breach_url(breach)},
        to=breach.practice.notice_recipients(),
    )
    return queue(message, purpose=DEADLINE_REMINDER, subject_id=breach.pk)
