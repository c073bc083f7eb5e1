from typing import Any

from django.core.management.base import BaseCommand

from agreements.recovery import recover_unsealed, schedule_sweep


class Command(BaseCommand):
    help = (
        "Queue again the sealing of signed documents whose task was lost or failed, and make "
        "sure the worker's own sweep is scheduled (run from cron, or once at deploy)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        recovery = recover_unsealed()
        scheduled = schedule_sweep()
        self.stdout.write(
            f"{recovery.dead_tasks} dead tasks released, {recovery.queued} documents queued, "
            f"{recovery.alerted} alerts sent, {recovery.timestamps_queued} timestamps asked again, "
            f"{recovery.messages_queued} emails queued again"
            + ("; the worker's sweep is scheduled" if scheduled else "")
        )
