from typing import Any

from django.core.management.base import BaseCommand

from agreements.documents import DRAFT_PDFS
from avg_portal.pdf import remove_old_renders


class Command(BaseCommand):
    help = "Delete kept PDFs of drafts not downloaded for a week (run daily from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{remove_old_renders(DRAFT_PDFS)} kept draft PDF(s) deleted")
