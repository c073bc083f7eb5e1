from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_seal_certificate(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    """Signed agreements are sealed with the service's certificate; production needs one."""
    cert, key = settings.SEAL_CERT_FILE, settings.SEAL_KEY_FILE
    if not cert or not key:
        return [
            Error(
                "No seal certificate: set DJANGO_SEAL_CERT_FILE and DJANGO_SEAL_KEY_FILE (PEM).",
                hint="Signed agreements are sealed with it; without it no agreement completes.",
                id="avg_portal.E001",
            )
        ]
    missing = [path for path in (cert, key) if not Path(path).is_file()]
    if missing:
        return [
            Error(f"Seal file not found: {', '.join(missing)}.", id="avg_portal.E002"),
        ]
    return []
