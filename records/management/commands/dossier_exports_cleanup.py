from typing import Any

from django.core.management.base import BaseCommand

from records.dossier_exports import remove_expired


class Command(BaseCommand):
    help = "Delete dossier exports whose download link ran out (run daily from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{remove_expired()} expired dossier(s) deleted")
