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

    class Meta:
        ordering = ["-erased_at"]
        # Made in the agreements app and moved here; the table kept its name.
        db_table = "agreements_erasurerecord"

    def __str__(self) -> str:
        return f"erasure {self.erased_at:%Y-%m-%d}"


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
