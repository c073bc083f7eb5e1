from typing import Any

from django.core.management.base import BaseCommand

from agreements.signing import expire_and_remind


class Command(BaseCommand):
    help = "Expire unsigned agreements whose links ran out and remind clients (run from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        expired, reminded = expire_and_remind()
        self.stdout.write(f"{expired} expired, {reminded} reminded")
