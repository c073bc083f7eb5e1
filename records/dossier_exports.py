"""Large dossiers: built by a task into storage and announced by email with a link that
works for a week. Small ones stream straight to the browser (records_views.export_practice)."""

import datetime
import hashlib
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from agreements import archive
from core.models import Practice

from . import export, notices
from .models import DossierExport

LINK_DAYS = 7


def is_large(practice: Practice) -> bool:
    return practice.agreements.exclude(final_sha256="").count() > settings.EXPORT_EMAIL_ABOVE


# A request while an export of the same practice is still being made within this time gets
# that export (one email with its link), not a second build of the whole dossier. An older
# unfinished one is taken for stuck: a new request starts afresh.
PENDING_FOR = timedelta(hours=1)


def dossier_export_request(*, practice: Practice, email: str) -> DossierExport:
    with transaction.atomic():
        # The practice's row serialises two requests sent at once (a double click).
        Practice.objects.select_for_update().get(pk=practice.pk)
        pending = (
            practice.exports.filter(
                completed_at=None, requested_at__gte=timezone.now() - PENDING_FOR
            )
            .order_by("-requested_at")
            .first()
        )
        if pending is not None:
            return pending
        job = DossierExport.objects.create(practice=practice, requested_by=email)
        job_id = job.pk
        transaction.on_commit(lambda: build_dossier_export.enqueue(job_id))
    return job


def dossier_export_build(job_id: int) -> DossierExport:
    """Write the ZIP to a temporary file chunk by chunk (memory stays flat), store it, and
    email the link."""
    job = DossierExport.objects.select_related("practice").get(pk=job_id)
    if job.completed_at:
        return job
    digest = hashlib.sha256()
    with tempfile.TemporaryFile() as spool:
        for chunk in export.practice_dossier(job.practice):
            digest.update(chunk)
            spool.write(chunk)
        size = spool.tell()
        spool.seek(0)
        # Written, read back and hashed before the row says it is complete; a failed or
        # partial write leaves no file behind.
        stored = archive.store_file(
            job.file, f"{job.public_id}.zip", File(spool), digest.hexdigest()
        )
    now = timezone.now()
    job.file.name = stored
    job.sha256 = digest.hexdigest()
    job.size = size
    job.completed_at = now
    job.expires_at = now + timedelta(days=LINK_DAYS)
    try:
        # The row and the email that announces it commit together.
        with transaction.atomic():
            job.save(update_fields=["file", "sha256", "size", "completed_at", "expires_at"])
            notices.send_dossier_ready(job)
    except BaseException:
        archive.discard(job.file, stored)
        raise
    return job


@task
def build_dossier_export(job_id: int) -> None:
    dossier_export_build(job_id)


def remove_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete dossiers whose link ran out, file and row; returns how many."""
    now = now or timezone.now()
    expired = list(DossierExport.objects.filter(expires_at__lte=now))
    for job in expired:
        if job.file:
            job.file.delete(save=False)
        job.delete()
    return len(expired)
