"""The emails of the practice's records."""

from django.urls import reverse

from avg_portal.emails import Delivery, absolute_url, deliver, render_message

from .models import DossierExport


def send_dossier_ready(job: DossierExport) -> Delivery:
    link = absolute_url(reverse("export_download", kwargs={"public_id": job.public_id}))
    message = render_message(
        "dossier_ready",
        {"job": job, "link": link, "size_mb": round(job.size / 1024 / 1024, 1)},
        to=[job.requested_by],
    )
    return deliver(message)
