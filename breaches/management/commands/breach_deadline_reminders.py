from typing import Any

from django.core.management.base import BaseCommand

from breaches.reminders import send_deadline_reminders


class Command(BaseCommand):
    help = (
        "Email coaches about breach deadlines that are near or have passed "
        "(run from cron every 15 minutes; each reminder is sent once)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_deadline_reminders()
        self.stdout.write(f"{sent} reminder(s) sent")
