"""The emails of the practice's records. Each renders its message and queues it in the
caller's transaction (`avg_portal.emails.queue`); the outbox sends it after the commit and
keeps its status."""

from django.urls import reverse

from avg_portal.emails import absolute_url, queue, render_message
from avg_portal.models import OutboxMessage

from .models import DossierExport

DOSSIER_READY = "records.dossier_ready"  # about the DossierExport


def send_dossier_ready(job: DossierExport) -> OutboxMessage:
    link = absolute_url(reverse("export_download", kwargs={"public_id": job.public_id}))
    message = render_message(
        "dossier_ready",
        {"job": job, "link": link, "size_mb": round(job.size / 1024 / 1024, 1)},
        to=[job.requested_by],
    )
    return queue(message, purpose=DOSSIER_READY, subject_id=job.pk)
