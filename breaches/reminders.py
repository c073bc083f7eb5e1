"""Deadline reminders to the coach: one before each deadline, one when it has passed, and
only while the obligation is not met. Run by a task or `manage.py breach_deadline_reminders`
from cron; what was sent is written on the breach, so running it again sends nothing twice."""

import datetime

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone, translation

from avg_portal.emails import Delivery
from avg_portal.models import OutboxMessage
from core.origin import Origin

from . import notices
from .actions import record_delivery
from .deadlines import State
from .models import Breach, BreachStatus, BreachUpdate

# Per deadline: the field for "due soon" and the field for "passed".
SENT_FIELDS = {
    "clients": ("client_reminder_sent_at", "client_overdue_sent_at"),
    "authority": ("authority_reminder_sent_at", "authority_overdue_sent_at"),
}


def send_deadline_reminders(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    sent = 0
    for breach_id in Breach.objects.filter(status=BreachStatus.OPEN).values_list("pk", flat=True):
        with transaction.atomic():
            breach = Breach.objects.select_for_update().select_related("practice").get(pk=breach_id)
            if breach.status != BreachStatus.OPEN:
                continue
            for deadline in breach.deadlines(now=now):
                soon_field, overdue_field = SENT_FIELDS[deadline.kind]
                if deadline.state == State.OVERDUE and getattr(breach, overdue_field) is None:
                    overdue = True
                    # A missed "due soon" is not sent after the deadline has passed.
                    fields = [overdue_field, soon_field]
                elif deadline.state == State.DUE_SOON and getattr(breach, soon_field) is None:
                    overdue = False
                    fields = [soon_field]
                else:
                    continue
                for field in fields:
                    if getattr(breach, field) is None:
                        setattr(breach, field, now)
                breach.save(update_fields=fields)
                breach.log(
                    BreachUpdate.Kind.REMINDER,
                    Origin.system(),
                    changes={"deadline": deadline.kind, "overdue": "ja" if overdue else "nee"},
                    at=now,
                )
                with translation.override(settings.LANGUAGE_CODE):
                    notices.send_breach_deadline_reminder(breach, deadline, overdue=overdue)
                sent += 1
    return sent


def record_reminder_email(message: OutboxMessage, delivery: Delivery) -> None:
    """A deadline reminder that the mail server refused goes on the breach's timeline."""
    if not delivery.accepted:
        breach = Breach.objects.get(pk=message.subject_id)
        record_delivery(breach, message, delivery, what="deadline reminder")


@task
def send_breach_deadline_reminders() -> int:
    """The same, in the worker: schedule it (or the management command) every 15 minutes."""
    return send_deadline_reminders()
