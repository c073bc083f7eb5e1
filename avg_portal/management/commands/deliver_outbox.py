from typing import Any

from django.core.management.base import BaseCommand

from avg_portal.emails import deliver_due_messages


class Command(BaseCommand):
    help = (
        "Send the queued emails whose (next) attempt is due: the ones a dead worker left "
        "behind, and every retry when the task backend cannot defer (run every few minutes "
        "from cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        accepted = deliver_due_messages()
        self.stdout.write(f"{accepted} emails accepted by the mail server")
