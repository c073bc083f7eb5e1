"""Every email the app sends, one function per message.

Each message has three templates under templates/emails/<name>/: subject.txt, body.txt and
body.html. Callers send after the database transaction has committed.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .tokens import make_email_confirmation_token

logger = logging.getLogger(__name__)


def absolute_url(path):
    return f"{settings.SITE_URL}{path}"


def render_message(name, context, *, to, reply_to=()):
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


def send_email_confirmation(user):
    token = make_email_confirmation_token(user)
    link = absolute_url(reverse("confirm_email", kwargs={"token": token}))
    max_age_days = settings.EMAIL_CONFIRMATION_MAX_AGE.days
    render_message(
        "confirm_email",
        {"user": user, "link": link, "max_age_days": max_age_days},
        to=[user.email],
    ).send()


# Signing ---------------------------------------------------------------------------------


def _record_delivery(agreement, message, *, what, link=None):
    """Send, and write down whether the mail server took it: a failure is shown to the
    coach, never reported as success."""
    from django.utils import timezone

    from agreements.models import AgreementEvent

    now = timezone.now()
    try:
        message.send()
    except Exception as error:  # SMTP refusals, timeouts, DNS: all end up here
        logger.warning("Sending %s for agreement %s failed: %s", what, agreement.pk, error)
        AgreementEvent.objects.create(
            agreement=agreement,
            kind=AgreementEvent.Kind.EMAIL_FAILED,
            actor=AgreementEvent.Actor.SYSTEM,
            actor_name=settings.SITE_NAME,
            detail=f"{what} → {', '.join(message.to)}: {error}"[:1000],
        )
        if link is not None:
            link.email_failed_at = now
            link.email_error = str(error)[:500]
            link.save(update_fields=["email_failed_at", "email_error"])
        return False
    AgreementEvent.objects.create(
        agreement=agreement,
        kind=AgreementEvent.Kind.EMAIL_ACCEPTED,
        actor=AgreementEvent.Actor.SYSTEM,
        actor_name=settings.SITE_NAME,
        detail=f"{what} → {', '.join(message.to)}"[:1000],
    )
    if link is not None:
        link.last_emailed_at = now
        link.email_failed_at = None
        link.email_error = ""
        link.save(update_fields=["last_emailed_at", "email_failed_at", "email_error"])
    return True


def send_invitation(link, token, *, reminder=False):
    agreement = link.agreement
    client = agreement.client
    with translation.override(client.language):
        message = render_message(
            "signing_invitation",
            {
                "agreement": agreement,
                "declaration": link.declaration,
                "link": absolute_url(reverse("signing_open", kwargs={"token": token})),
                "expires_at": link.expires_at,
                "reminder": reminder,
            },
            to=[client.email],
            reply_to=[agreement.practice.email] if agreement.practice.email else [],
        )
    what = "reminder" if reminder else "invitation"
    return _record_delivery(agreement, message, what=what, link=link)


def send_declined(agreement):
    practice = agreement.practice
    recipients = _practice_recipients(practice)
    message = render_message(
        "agreement_declined",
        {"agreement": agreement, "link": absolute_url(agreement_url(agreement))},
        to=recipients,
    )
    return _record_delivery(agreement, message, what="declined notice")


def send_completed(agreement_id):
    """The sealed agreement to both parties, each in their own message."""
    from agreements.models import Agreement

    agreement = Agreement.objects.select_related("practice", "client").get(pk=agreement_id)
    filename = f"verwerkersovereenkomst-{agreement.agreement_date:%Y-%m-%d}.pdf"
    _send_sealed_copies(agreement, agreement.final_pdf, "agreement_completed", filename, "PDF")


def _send_sealed_copies(agreement, stored_file, template, filename, what):
    """A sealed document to the client (in his language) and to the practice, attached."""
    with stored_file.open("rb") as stored:
        pdf = stored.read()
    with translation.override(agreement.client.language):
        to_client = render_message(
            template,
            {"agreement": agreement, "for_client": True},
            to=[agreement.client.email],
            reply_to=[agreement.practice.email] if agreement.practice.email else [],
        )
    to_client.attach(filename, pdf, "application/pdf")
    to_practice = render_message(
        template,
        {
            "agreement": agreement,
            "for_client": False,
            "link": absolute_url(agreement_url(agreement)),
        },
        to=_practice_recipients(agreement.practice),
    )
    to_practice.attach(filename, pdf, "application/pdf")
    _record_delivery(agreement, to_client, what=f"signed {what} to client")
    _record_delivery(agreement, to_practice, what=f"signed {what} to coach")


def agreement_url(agreement):
    return reverse("agreement_detail", kwargs={"public_id": agreement.public_id})


def _practice_recipients(practice):
    addresses = list(practice.members.values_list("email", flat=True))
    if practice.email and practice.email not in addresses:
        addresses.insert(0, practice.email)
    return addresses


# Data breaches ---------------------------------------------------------------------------


def breach_url(breach):
    return reverse("breach_detail", kwargs={"public_id": breach.public_id})


def _breach_email_failed(breach, message, error, *, what):
    from breaches.models import BreachUpdate

    logger.warning("Sending %s for breach %s failed: %s", what, breach.pk, error)
    BreachUpdate.objects.create(
        breach=breach,
        kind=BreachUpdate.Kind.EMAIL_FAILED,
        author_name=settings.SITE_NAME,
        text=f"{what} → {', '.join(message.to)}: {error}"[:1000],
    )


def send_breach_notification(notification):
    """Tell one affected client about the breach (clause 7.1), in his language, and write on
    the notification when it went out and whether the mail server took it."""
    from django.utils import timezone

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
    notification.sent_at = timezone.now()
    try:
        message.send()
    except Exception as error:  # SMTP refusals, timeouts, DNS: all end up here
        notification.delivered = False
        notification.error = str(error)[:500]
        notification.save(update_fields=["sent_at", "delivered", "error"])
        _breach_email_failed(breach, message, error, what="breach notification")
        return False
    notification.delivered = True
    notification.error = ""
    notification.save(update_fields=["sent_at", "delivered", "error"])
    return True


def send_breach_deadline_reminder(breach, deadline, *, overdue):
    """Remind the coach of a deadline that is near or has passed."""
    message = render_message(
        "breach_deadline_reminder",
        {
            "breach": breach,
            "deadline": deadline,
            "overdue": overdue,
            "link": absolute_url(breach_url(breach)),
        },
        to=_practice_recipients(breach.practice),
    )
    try:
        message.send()
    except Exception as error:  # SMTP refusals, timeouts, DNS: all end up here
        _breach_email_failed(breach, message, error, what="deadline reminder")
        return False
    return True


def send_declaration_completed(declaration_id):
    """The sealed declaration of return or destruction to the client and the practice."""
    from agreements.models import Declaration

    declaration = Declaration.objects.select_related(
        "agreement", "agreement__practice", "agreement__client"
    ).get(pk=declaration_id)
    filename = f"verklaring-teruggave-vernietiging-{declaration.done_on:%Y-%m-%d}.pdf"
    _send_sealed_copies(
        declaration.agreement,
        declaration.final_pdf,
        "declaration_completed",
        filename,
        "declaration",
    )


# Retention ---------------------------------------------------------------------------------


def send_retention_reminder(practice, rows, *, today):
    """Tell the coach which Bijlage 1 rows are due for destruction soon or already."""
    message = render_message(
        "retention_reminder",
        {
            "practice": practice,
            "rows": rows,
            "today": today,
            "link": absolute_url(reverse("retention_list")),
        },
        to=_practice_recipients(practice),
    )
    try:
        message.send()
    except Exception as error:  # SMTP refusals, timeouts, DNS: all end up here
        logger.warning(
            "Sending the retention reminder to practice %s failed: %s", practice.pk, error
        )
        return False
    return True


def send_dossier_ready(job):
    link = absolute_url(reverse("export_download", kwargs={"public_id": job.public_id}))
    message = render_message(
        "dossier_ready",
        {"job": job, "link": link, "size_mb": round(job.size / 1024 / 1024, 1)},
        to=[job.requested_by],
    )
    message.send()
