"""Background work: with the database backend these run in `manage.py db_worker`; schedule
`send_breach_deadline_reminders` (or the management command) every 15 minutes."""

from django.tasks import task

from . import reminders


@task
def send_breach_deadline_reminders() -> int:
    return reminders.send_deadline_reminders()
