"""Every email the app sends goes through here: rendered from templates, written to the
outbox in the caller's transaction, and sent by a task after the commit.

Each message has three templates under templates/emails/<name>/: subject.txt, body.txt and
body.html. Each app's `notices.py` renders its messages and `queue`s them with a purpose
(e.g. "agreements.invitation"); the app registers a handler for that purpose (`on_delivery`,
in its `AppConfig.ready()`) that writes what the mail server said into its own evidence.

A message is never lost: the row is committed with what it tells about, a refusal is tried
again with growing pauses, and `deliver_due_messages` (the `deliver_outbox` command, run from
cron) picks up whatever a dead worker left behind. Sending holds the row's lock, so two
senders never send the same message; the price is the rare duplicate when a worker dies
between the mail server's "accepted" and the commit that records it.
"""

from __future__ import annotations

import datetime
import email.policy
import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.mime.base import MIMEBase
from email.policy import Policy
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .models import OutboxMessage
from .tokens import make_email_confirmation_token

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from .models import User

logger = logging.getLogger(__name__)

EMAIL_CONFIRMATION = "accounts.email_confirmation"
AUTHENTICATOR_REPLACED = "accounts.authenticator_replaced"
PASSWORD_RESET = "accounts.password_reset"  # noqa: S105 - a purpose, not a secret

# The pause after each failed attempt; when they run out, the message has been tried for
# about a day and is given up.
RETRY_PAUSES = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)


class Email(EmailMultiAlternatives):
    """A message whose headers are not folded below the 998 characters RFC 5322 allows.
    Python's email folds a long header at an encoded word (a name with an ë, an en dash) so
    that every reader shows two spaces there: "Coachpraktijk De Linde  – Bram"."""

    def message(self, *, policy: Policy | None = None) -> Any:
        return super().message(policy=(policy or email.policy.default).clone(max_line_length=998))


# What a message is given up with when it is no longer wanted (`wanted_while`).
NO_LONGER_WANTED = "no longer wanted: not sent"

# What the mail server or the network said, as the coach reads it: the stored error is the
# exception's own text ("[Errno 111] Connection refused"), kept for the operator and the
# evidence; pages show what it means, in the coach's language.
_SMTP_REPLY = re.compile(
    r"\((?P<code>[45]\d\d), b?['\"](?P<text>[^'\"]*)['\"]|^(?P<bare>[45]\d\d)[ -](?P<said>.+)$"
)
_MAIL_ERRORS = (
    (("Connection refused", "Errno 111"), gettext_lazy("the mail server could not be reached")),
    (("timed out", "timeout"), gettext_lazy("the mail server did not answer in time")),
    (
        ("Name or service not known", "name resolution", "getaddrinfo", "Errno -2", "Errno -3"),
        gettext_lazy("the mail server was not found"),
    ),
    (
        ("unexpectedly closed", "not connected", "Connection reset", "Broken pipe"),
        gettext_lazy("the connection to the mail server broke off"),
    ),
    (("SSL", "CERTIFICATE"), gettext_lazy("the secure connection to the mail server failed")),
    ((NO_LONGER_WANTED,), gettext_lazy("no longer valid by the time it could be sent")),
)


# Mail server replies that say the address itself is wrong (RFC 5321: no such mailbox, not
# local, not a valid name): trying again for a day sends nothing, and the coach should know
# now. A refused login (530, 535) is the app's own configuration and is tried again.
_WRONG_ADDRESS = frozenset({"550", "551", "553"})


def refused_for_good(error: str) -> bool:
    """Whether the mail server refused the message for a reason no retry mends."""
    reply = _SMTP_REPLY.search(error.strip())
    return reply is not None and (reply["code"] or reply["bare"]) in _WRONG_ADDRESS


def shown_mail_error(error: str) -> str:
    """An email's delivery error as a page shows it: what happened, in plain words; a mail
    server's refusal with its own code and words."""
    if not error:
        return ""
    if reply := _SMTP_REPLY.search(error.strip()):
        code = reply["code"] or reply["bare"]
        text = " ".join((reply["text"] or reply["said"]).split())
        if code in ("530", "534", "535"):
            return gettext("the mail server refused the app's login (%(reply)s)") % {
                "reply": f"{code} {text}"
            }
        return gettext("the mail server refused the email (%(reply)s)") % {
            "reply": f"{code} {text}"
        }
    for markers, meaning in _MAIL_ERRORS:
        if any(marker.lower() in error.lower() for marker in markers):
            return str(meaning)
    return gettext("the mail server gave an error")


# How the outcome of a delivery is written on a timeline, in the code's words (a timeline
# entry is evidence, written once): "<what> → <recipients>" when the mail server took it,
# "<what> → <recipients>: <error> (tried again|given up)" when it did not.
_DELIVERY_THEN = {"tried again": gettext_lazy("tried again"), "given up": gettext_lazy("given up")}


def delivery_detail(what: str, delivery: Delivery, message: OutboxMessage) -> str:
    recipients = ", ".join(delivery.recipients)
    if delivery.accepted:
        return f"{what} → {recipients}"
    then = "tried again" if message.status == message.Status.QUEUED else "given up"
    return f"{what} → {recipients}: {delivery.error} ({then})"


def shown_delivery(detail: str, names: Mapping[str, StrOrPromise]) -> str | None:
    """A `delivery_detail` as a timeline shows it, in the reader's language: `names` gives
    the words for each <what>. None when `detail` is not one."""
    pattern = re.compile(
        rf"(?P<what>{'|'.join(map(re.escape, names))}) → (?P<to>[^:]*)"
        rf"(?:: (?P<error>.*) \((?P<then>{'|'.join(map(re.escape, _DELIVERY_THEN))})\))?",
        re.DOTALL,
    )
    match = pattern.fullmatch(detail)
    if match is None:
        return None
    shown = f"{names[match['what']]} → {match['to']}"
    if match["then"]:
        shown += f": {shown_mail_error(match['error'])} ({_DELIVERY_THEN[match['then']]})"
    return shown


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def render_message(
    name: str,
    context: Mapping[str, object],
    *,
    to: Iterable[str],
    reply_to: Iterable[str] = (),
    on_behalf_of: str = "",
) -> EmailMultiAlternatives:
    """The message `name` (templates/emails/<name>/). With `on_behalf_of` (a practice's name)
    it comes "From: <practice> via AVG Portal", so a client sees who writes to him."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}/subject.txt", context)
    message = Email(
        subject=" ".join(subject.split()),
        body=render_to_string(f"emails/{name}/body.txt", context),
        from_email=sender(on_behalf_of) if on_behalf_of else None,
        to=list(to),
        reply_to=list(reply_to),
    )
    message.attach_alternative(render_to_string(f"emails/{name}/body.html", context), "text/html")
    return message


def sender(practice_name: str) -> str:
    """'Coachpraktijk De Linde via AVG Portal <noreply@…>': the practice's name, the
    platform's address (only the platform may send from its domain)."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    # Header-safe: no line breaks or quotes from a practice name can reach the header.
    name = " ".join(practice_name.replace('"', "'").split())[:150]
    return formataddr((f"{name} via {settings.SITE_NAME}", address))


def send_email_confirmation(user: User) -> OutboxMessage:
    token = make_email_confirmation_token(user)
    link = absolute_url(reverse("confirm_email", kwargs={"token": token}))
    max_age_days = settings.EMAIL_CONFIRMATION_MAX_AGE.days
    message = render_message(
        "confirm_email",
        {"user": user, "link": link, "max_age_days": max_age_days},
        to=[user.email],
    )
    return queue(message, purpose=EMAIL_CONFIRMATION, subject_id=user.pk)


def queue_password_reset(message: EmailMultiAlternatives, user_pk: int | str) -> OutboxMessage:
    """Django's password reset email, through the outbox as every other one: the page
    answers at once whatever the mail server does, and the email is tried again until the
    link in it has expired (`password_reset_wanted`)."""
    return queue(message, purpose=PASSWORD_RESET, subject_id=user_pk)


def password_reset_wanted(message: OutboxMessage) -> bool:
    return timezone.now() < message.created_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def send_authenticator_replaced(user: User) -> OutboxMessage:
    """Tell the coach that a new authenticator app now logs her in: if it was not her, she
    knows at once."""
    message = render_message(
        "authenticator_replaced",
        {"user": user, "link": absolute_url(reverse("security_log"))},
        to=[user.email],
    )
    return queue(message, purpose=AUTHENTICATOR_REPLACED, subject_id=user.pk)


# Delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What the mail server said to one message: accepted, or refused with the reason."""

    accepted: bool
    recipients: tuple[str, ...]
    error: str = ""


def deliver(message: EmailMultiAlternatives) -> Delivery:
    """Send one message now and say what happened."""
    recipients = tuple(message.to)
    try:
        message.send()
    except Exception as error:  # SMTP refusals, timeouts, DNS: all end up here
        logger.warning("Sending to %s failed: %s", ", ".join(recipients), error)
        return Delivery(accepted=False, recipients=recipients, error=str(error) or repr(error))
    return Delivery(accepted=True, recipients=recipients)


# The outbox -------------------------------------------------------------------------------

DeliveryHandler = Callable[[OutboxMessage, Delivery], None]
_handlers: dict[str, DeliveryHandler] = {}


_still_wanted: dict[str, Callable[[OutboxMessage], bool]] = {}


def wanted_while(purpose: str, still_wanted: Callable[[OutboxMessage], bool]) -> None:
    """Register when messages of this purpose are still worth sending: one that is not when
    its turn comes (a signer code that expired or was replaced while the mail server was
    down) is given up, not sent, and its handler hears so (error NO_LONGER_WANTED)."""
    _still_wanted[purpose] = still_wanted


def on_delivery(purpose: str, handler: DeliveryHandler) -> None:
    """Register what records the outcome of messages queued with this purpose. The handler
    hears of the first attempt and of the end (accepted, or given up: `message.status` says
    which, and QUEUED means it will be tried again); the retries in between are only counted
    on the outbox row. It runs in the transaction that records the attempt."""
    registered = _handlers.setdefault(purpose, handler)
    if registered is not handler:
        raise ImproperlyConfigured(f"Two delivery handlers for {purpose!r}.")


def queue(
    message: EmailMultiAlternatives, *, purpose: str, subject_id: str | int = ""
) -> OutboxMessage:
    """Write the rendered message to the outbox in the current transaction; it is sent once
    that commits. `subject_id` lets the purpose's handler find the row it is about."""
    attachment_name, attachment, attachment_type = _the_attachment(message)
    row = OutboxMessage.objects.create(
        purpose=purpose,
        subject_id=str(subject_id),
        sender=message.from_email,
        to=list(message.to),
        reply_to=list(message.reply_to),
        subject=str(message.subject),
        body_text=str(message.body),
        body_html=_html_body(message),
        attachment=attachment,
        attachment_name=attachment_name,
        attachment_type=attachment_type,
    )
    # robust: a queue that cannot take the task now leaves the row to deliver_due_messages.
    transaction.on_commit(
        functools.partial(deliver_outbox_message.enqueue, row.pk),
        robust=True,
    )
    return row


def _the_attachment(message: EmailMultiAlternatives) -> tuple[str, bytes, str]:
    if not message.attachments:
        return "", b"", ""
    if len(message.attachments) > 1 or isinstance(message.attachments[0], MIMEBase):
        raise ValueError("The outbox keeps at most one attachment, given as name and bytes.")
    name, content, mimetype = message.attachments[0]
    data = content.encode() if isinstance(content, str) else content
    return name or "", data, mimetype or "application/octet-stream"


def _html_body(message: EmailMultiAlternatives) -> str:
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    return str(html[0]) if html else ""


def latest_message(purposes: Iterable[str], subject_id: str | int) -> OutboxMessage | None:
    """The newest message queued for one of these purposes about this subject."""
    return (
        OutboxMessage.objects.filter(purpose__in=list(purposes), subject_id=str(subject_id))
        .order_by("-created_at", "-id")
        .first()
    )


def is_pending(purpose: str, subject_id: str | int) -> bool:
    """Whether a message for this purpose and subject is still waiting to be sent."""
    return OutboxMessage.objects.filter(
        purpose=purpose, subject_id=str(subject_id), status=OutboxMessage.Status.QUEUED
    ).exists()


# Sending ----------------------------------------------------------------------------------


OUTCOME_FIELDS = [
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "sent_at",
    "to",
    "reply_to",
    "subject",
    "body_text",
    "body_html",
    "attachment",
    "attachment_name",
]


@task
def deliver_outbox_message(message_id: int) -> None:
    send_queued(message_id)


# A queued message's delivery task runs within seconds; one due this long ago has none.
LOST_AFTER = datetime.timedelta(minutes=2)


def requeue_lost_messages(*, now: datetime.datetime | None = None) -> int:
    """Queue the delivery again of every message due for longer than LOST_AFTER: its task
    was lost (the worker died between the commit that queued the message and queueing the
    task, or while running it). For the worker's recovery sweep, so that mail does not
    wait for cron's `deliver_outbox`. Returns how many; queueing one twice costs a no-op
    (send_queued takes each message under its row's lock, once)."""
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now - LOST_AFTER
    ).values_list("pk", flat=True)
    # Not those whose task still waits for a worker (busy with a long export, say): every
    # sweep would queue another.
    waiting = _waiting_deliveries()
    lost = [message_id for message_id in due if message_id not in waiting]
    for message_id in lost:
        deliver_outbox_message.enqueue(message_id)
    return len(lost)


def _waiting_deliveries() -> set[int]:
    """The messages whose delivery task waits in the database queue."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(deliver_outbox_message.get_backend(), DatabaseBackend):
        return set()
    waiting = DBTaskResult.objects.filter(
        task_path=deliver_outbox_message.module_path, status=TaskResultStatus.READY
    ).values_list("args_kwargs", flat=True)
    return {arguments["args"][0] for arguments in waiting if arguments.get("args")}


def deliver_due_messages(*, now: datetime.datetime | None = None) -> int:
    """Send every queued message whose attempt is due; returns how many the mail server
    accepted. Safe beside the worker and beside another run: each message is sent under its
    row's lock, and one that another sender holds is skipped."""
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now
    ).values_list("pk", flat=True)
    outcomes = [send_queued(message_id, now=now) for message_id in list(due)]
    return sum(1 for delivery in outcomes if delivery is not None and delivery.accepted)


def send_queued(message_id: int, *, now: datetime.datetime | None = None) -> Delivery | None:
    """One attempt at a queued message whose time has come; None if it was not due, already
    sent, or being sent by someone else right now."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        wanted = _still_wanted.get(message.purpose)
        if wanted is not None and not wanted(message):
            delivery = Delivery(
                accepted=False, recipients=tuple(message.to), error=NO_LONGER_WANTED
            )
            message.status = message.Status.FAILED
            message.last_error = NO_LONGER_WANTED
        else:
            delivery = deliver(_as_email(message))
            _record_attempt(message, delivery, now)
        if delivery.accepted or message.attempts == 1 or message.status != message.Status.QUEUED:
            _tell_handler(message, delivery)
        if message.status != message.Status.QUEUED:
            _forget_content(message)
        message.save(update_fields=OUTCOME_FIELDS)
        if message.status == message.Status.QUEUED:
            retry = functools.partial(_schedule_retry, message.pk, message.next_attempt_at)
            transaction.on_commit(retry, robust=True)
    return delivery


def message_id(message: OutboxMessage) -> str:
    """The same Message-ID each time the outbox sends this message: when a worker dies after
    the mail server took it and before that was written down, the message goes again, and
    mail programs that see the same ID show it once."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "avg-portal.invalid"
    return f"<outbox-{message.pk}-{message.created_at:%Y%m%d%H%M%S%f}@{domain}>"


def _as_email(message: OutboxMessage) -> EmailMultiAlternatives:
    rebuilt = Email(
        subject=message.subject,
        body=message.body_text,
        from_email=message.sender,
        to=message.to,
        reply_to=message.reply_to,
        headers={"Message-ID": message_id(message)},
    )
    if message.body_html:
        rebuilt.attach_alternative(message.body_html, "text/html")
    if message.attachment_name:
        rebuilt.attach(message.attachment_name, bytes(message.attachment), message.attachment_type)
    return rebuilt


def _record_attempt(message: OutboxMessage, delivery: Delivery, now: datetime.datetime) -> None:
    message.attempts += 1
    if delivery.accepted:
        message.status = message.Status.SENT
        message.sent_at = now
        message.last_error = ""
    elif message.attempts > len(RETRY_PAUSES) or refused_for_good(delivery.error):
        message.status = message.Status.FAILED
        message.last_error = delivery.error[:500]
    else:
        message.next_attempt_at = now + RETRY_PAUSES[message.attempts - 1]
        message.last_error = delivery.error[:500]


def _tell_handler(message: OutboxMessage, delivery: Delivery) -> None:
    handler = _handlers.get(message.purpose)
    if handler is None:
        return
    try:
        with transaction.atomic():
            handler(message, delivery)
    except Exception:
        # The mail server has answered: failing to write that down must not make the outbox
        # send the message again.
        logger.exception("Recording the delivery of outbox message %s failed", message.pk)


def _forget_content(message: OutboxMessage) -> None:
    """Once a message has left the outbox (sent or given up), what it said and to whom goes:
    signing links and personal data must not outlive their purpose (nor a client's erasure).
    The evidence of what was sent, and to whom, lives with the app that sent it; the row
    keeps its purpose, subject and outcome."""
    message.to, message.reply_to = [], []
    message.subject = message.body_text = message.body_html = ""
    message.attachment, message.attachment_name = b"", ""


def _schedule_retry(message_id: int, at: datetime.datetime) -> None:
    """Ask the worker to try again at `at`. A backend that cannot defer (the immediate one of
    development and tests) leaves the retry to deliver_due_messages."""
    if deliver_outbox_message.get_backend().supports_defer:
        deliver_outbox_message.using(run_after=at).enqueue(message_id)
