import datetime
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agreements.evidence_renewal import document_renew, due_for_renewal
from agreements.models import SignableDocument
from avg_portal.seal import timestamping_configured


class Command(BaseCommand):
    help = (
        "Add fresh validation data and a new document timestamp to every sealed PDF whose "
        "last timestamp's certificate expires within DJANGO_EVIDENCE_RENEW_WITHIN_DAYS (or "
        "to the documents named), stored as a new version beside the old (run monthly)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--within-days",
            type=int,
            default=None,
            help="Renew what expires within this many days (default: the setting).",
        )
        parser.add_argument(
            "--document",
            action="append",
            default=[],
            metavar="PUBLIC_ID",
            help="Renew this document now, whatever its expiry (repeatable).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only list what would be renewed."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not timestamping_configured():
            if options["document"]:
                raise CommandError("No time-stamping authority: set DJANGO_TSA_URL.")
            # Seals made without a TSA carry no timestamp to renew (check --deploy warns).
            self.stdout.write("No time-stamping authority configured: nothing to renew.")
            return
        if options["document"]:
            targets = [
                (self._document(public_id), "on demand") for public_id in options["document"]
            ]
        else:
            days = options["within_days"] or settings.EVIDENCE_RENEW_WITHIN_DAYS
            within = datetime.timedelta(days=days)
            targets = [
                (document, f"timestamp certificate expires {expires:%Y-%m-%d}")
                for document, expires in due_for_renewal(within=within)
            ]
        renewed = 0
        for document, why in targets:
            name = f"{document.kind} {document.concrete().public_id}"
            if options["dry_run"]:
                self.stdout.write(f"due: {name} ({why})")
                continue
            version = document_renew(document=document, reason=why)
            until = (
                f"{version.evidence_expires_at:%Y-%m-%d}" if version.evidence_expires_at else "?"
            )
            self.stdout.write(
                f"renewed: {name}: version {version.number}, SHA-256 {version.sha256}, "
                f"valid until {until}"
            )
            renewed += 1
        self.stdout.write(f"{len(targets)} due, {renewed} renewed")

    def _document(self, public_id: str) -> SignableDocument:
        try:
            uuid.UUID(public_id)
        except ValueError:
            raise CommandError(f"Not a document id: {public_id}.") from None
        for kind in SignableDocument.Kind.values:
            match = SignableDocument.objects.filter(
                kind=kind, **{f"as_{kind}__public_id": public_id}
            ).first()
            if match is not None:
                return match
        raise CommandError(f"No document {public_id}.")
