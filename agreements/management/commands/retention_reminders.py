from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from agreements.retention import send_reminders


class Command(BaseCommand):
    help = "Remind coaches of personal data due for destruction (run daily from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_reminders(today=timezone.localdate())
        self.stdout.write(f"{sent} {'reminder' if sent == 1 else 'reminders'} sent")
