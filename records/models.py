"""What the practice's record-keeping itself leaves behind: that an erasure happened, and the
large dossiers built for download."""

import datetime
import uuid

from django.db import models
from django.utils import timezone

from core.models import Practice


class ErasureRecord(models.Model):
    """That a client's personal data was erased (GDPR art. 17), and what: counts, never the
    data itself, so the practice can show it erased without keeping what it erased."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="erasures")
    erased_at = models.DateTimeField(default=timezone.now)
    erased_by = models.CharField(max_length=254)
    agreements = models.PositiveIntegerField(default=0)
    files = models.PositiveIntegerField(default=0)
    breach_notifications = models.PositiveIntegerField(default=0)
    # What the coach recorded as destroyed or returned before (RetentionDisposal, erased with
    # the agreements), so that she can still show it was done in time: dates and kinds only,
    # never a text that could name the client. [{"kept_until": "2028-11-30",
    # "done_on": "2028-12-01", "disposition": "destroyed"}, ...]
    disposals = models.JSONField(default=list, blank=True)
    # The days the client's signed declarations of return or destruction (clause 9.3) were
    # sealed, ISO dates.
    declarations_sealed_on = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-erased_at"]
        # Made in the agreements app and moved here; the table kept its name.
        db_table = "agreements_erasurerecord"

    def __str__(self) -> str:
        return f"erasure {self.erased_at:%Y-%m-%d}"

    def disposal_facts(self) -> list[tuple[datetime.date | None, datetime.date, str]]:
        """`disposals` as (kept until, done on, the disposition's label), for showing."""
        from agreements.models import RetentionDisposal

        labels = dict(RetentionDisposal.Disposition.choices)
        return [
            (
                datetime.date.fromisoformat(fact["kept_until"]) if fact["kept_until"] else None,
                datetime.date.fromisoformat(fact["done_on"]),
                str(labels.get(fact["disposition"], fact["disposition"])),
            )
            for fact in self.disposals
        ]

    def declaration_dates(self) -> list[datetime.date]:
        return [datetime.date.fromisoformat(day) for day in self.declarations_sealed_on]


class DossierExport(models.Model):
    """A large dossier, built in the background and fetched through an emailed link: a
    practice with hundreds of agreements should not wait on one long request."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="exports")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.EmailField()
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]
        db_table = "agreements_dossierexport"

    def __str__(self) -> str:
        return f"export {self.public_id}"

    def is_ready(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return bool(self.completed_at) and self.expires_at is not None and self.expires_at > now
