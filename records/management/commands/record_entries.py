from typing import Any

from django.core.management.base import BaseCommand

from records.record_entries import record_entries_keep_all


class Command(BaseCommand):
    help = (
        "Lay out the processing-record entries of every signed agreement that has none kept"
        " as it is now (once after upgrading; a later run finds nothing to do)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{record_entries_keep_all()} agreement(s) laid out")
