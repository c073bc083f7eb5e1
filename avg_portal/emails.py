"""Every email the app sends, one function per message.

Each message has three templates under templates/emails/<name>/: subject.txt, body.txt and
body.html. Callers send after the database transaction has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .tokens import make_email_confirmation_token

if TYPE_CHECKING:
    from .models import User

logger = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def render_message(
    name: str,
    context: Mapping[str, object],
    *,
    to: Iterable[str],
    reply_to: Iterable[str] = (),
) -> EmailMultiAlternatives:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}/subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"emails/{name}/body.txt", context),
        to=list(to),
        reply_to=list(reply_to),
    )
    message.attach_alternative(render_to_string(f"emails/{name}/body.html", context), "text/html")
    return message


def send_email_confirmation(user: User) -> None:
    token = make_email_confirmation_token(user)
    link = absolute_url(reverse("confirm_email", kwargs={"token": token}))
    max_age_days = settings.EMAIL_CONFIRMATION_MAX_AGE.days
    render_message(
        "confirm_email",
        {"user": user, "link": link, "max_age_days": max_age_days},
        to=[user.email],
    ).send()


# Delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What the mail server said to one message: accepted, or refused with the reason."""

    accepted: bool
    recipients: tuple[str, ...]
    error: str = ""


def deliver(message: EmailMultiAlternatives) -> Delivery:
    """Send one message and say what happened; the caller records it where it belongs."""
    recipients = tuple(message.to)
    try:
        message.send()
    except Exception as error:  # SMTP refusals, timeouts, DNS: all end up here
        logger.warning("Sending to %s failed: %s", ", ".join(recipients), error)
        return Delivery(accepted=False, recipients=recipients, error=str(error) or repr(error))
    return Delivery(accepted=True, recipients=recipients)
