import datetime
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from agreements.archive import alert_operators
from agreements.evidence_renewal import RenewalGainsNothing, document_renew, due_for_renewal
from agreements.models import SignableDocument
from avg_portal.seal import timestamping_configured

logger = logging.getLogger(__name__)


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
        # Each target with the expiry of its evidence (None: not looked at, on demand).
        targets: list[tuple[SignableDocument, datetime.datetime | None]]
        if options["document"]:
            targets = [(self._document(public_id), None) for public_id in options["document"]]
        else:
            days = options["within_days"] or settings.EVIDENCE_RENEW_WITHIN_DAYS
            targets = list(due_for_renewal(within=datetime.timedelta(days=days)))
        renewed, failed = 0, []
        # Once the timestamp authority's certificate turns out to expire no later than a
        # document's evidence, asking it again for evidence that lasts as long is no use.
        authority_until: datetime.datetime | None = None
        for document, expires in targets:
            name = f"{document.kind} {document.concrete().public_id}"
            why = f"timestamp certificate expires {expires:%Y-%m-%d}" if expires else "on demand"
            if options["dry_run"]:
                self.stdout.write(f"due: {name} ({why})")
                continue
            if expires is not None and expires <= timezone.now():
                failed.append(
                    f"{name}: its evidence expired {expires:%Y-%m-%d} and can no longer be "
                    "renewed (the archive's SHA-256 still identifies the file)"
                )
                continue
            if expires is not None and authority_until is not None and expires >= authority_until:
                failed.append(f"{name}: {RenewalGainsNothing(authority_until)}")
                continue
            try:
                version = document_renew(
                    document=document, reason=why, must_extend=expires is not None
                )
            except RenewalGainsNothing as nothing:
                authority_until = nothing.expires
                failed.append(f"{name}: {nothing}")
                continue
            except Exception as error:
                # One document's failure (the TSA down, a damaged file, evidence that no
                # longer validates) must not keep the others from being renewed.
                logger.exception("Could not renew the evidence of %s", name)
                failed.append(f"{name}: {error}")
                continue
            until = (
                f"{version.evidence_expires_at:%Y-%m-%d}" if version.evidence_expires_at else "?"
            )
            self.stdout.write(
                f"renewed: {name}: version {version.number}, SHA-256 {version.sha256}, "
                f"valid until {until}"
            )
            renewed += 1
        for failure in failed:
            self.stderr.write(f"NOT RENEWED: {failure}")
        self.stdout.write(f"{len(targets)} due, {renewed} renewed, {len(failed)} not renewed")
        if failed:
            alert_operators(
                f"Evidence renewal: {len(failed)} of {len(targets)} not renewed",
                "\n".join(failed[:50]),
            )
            raise CommandError(f"{len(failed)} of {len(targets)} not renewed")

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
