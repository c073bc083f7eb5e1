import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .health import (
    seal_certificate_days_left,
    seal_certificate_file,
    seal_certificate_validity,
)

# Warn this long before the seal certificate runs out.
SEAL_RENEW_DAYS = 60


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
    validity = seal_certificate_validity()
    now = datetime.datetime.now(datetime.UTC)
    if validity is not None and not validity[0] <= now <= validity[1]:
        return [
            Error(
                f"The seal certificate is valid from {validity[0]:%Y-%m-%d} until "
                f"{validity[1]:%Y-%m-%d}, not now: nothing can be sealed with it.",
                hint="Install a valid certificate (DJANGO_SEAL_CERT_FILE/DJANGO_SEAL_KEY_FILE); "
                "documents signed meanwhile are sealed once it is there (README, The seal "
                "certificate).",
                id="avg_portal.E005",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_production_services(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[Warning]:
    """Settings that work on a laptop and fail quietly on a real site."""
    warnings = []
    if not settings.SITE_URL_IS_SET:
        warnings.append(
            Warning(
                "DJANGO_SITE_URL is not set: emailed links point at http://127.0.0.1:8000.",
                hint="Set it to the public address, e.g. https://avg.example.nl.",
                id="avg_portal.W001",
            )
        )
    if settings.TASKS["default"]["BACKEND"] == "django.tasks.backends.immediate.ImmediateBackend":
        warnings.append(
            Warning(
                "Background work runs inside web requests (the immediate task backend).",
                hint="Set DJANGO_TASKS_BACKEND=django_tasks_db.DatabaseBackend and run "
                "`manage.py db_worker`.",
                id="avg_portal.W002",
            )
        )
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        warnings.append(
            Warning(
                "The cache is each process's own memory: rate limits do not hold across "
                "workers and servers.",
                hint="Set DJANGO_CACHE_URL=redis://127.0.0.1:6379/0 (or db://cache_table).",
                id="avg_portal.W003",
            )
        )
    days = seal_certificate_days_left()
    if days is not None and 0 <= days < SEAL_RENEW_DAYS:
        warnings.append(
            Warning(
                f"The seal certificate expires in {days} days.",
                hint="Get a new certificate and set DJANGO_SEAL_CERT_FILE/DJANGO_SEAL_KEY_FILE; "
                "list the old one in DJANGO_SEAL_PREVIOUS_CERT_FILES unless its root is in "
                "DJANGO_SEAL_TRUST_ROOTS (README, The seal certificate).",
                id="avg_portal.W004",
            )
        )
    warnings += _seal_evidence_warnings()
    return warnings


def _seal_evidence_warnings() -> list[Warning]:
    """A seal that proves nothing to anyone but us: a self-signed certificate, or no
    trusted timestamp (the seal then dies with its certificate)."""
    warnings = []
    path = seal_certificate_file()
    if path is not None and path.is_file():
        # cryptography's x509 adds some 15 MB to every process that imports it; web workers
        # never read a certificate, so it is imported here, not with the module.
        from cryptography import x509

        certificate = x509.load_pem_x509_certificate(path.read_bytes())
        if certificate.issuer == certificate.subject:
            warnings.append(
                Warning(
                    "The seal certificate is self-signed: nobody outside this service can "
                    "check the seals.",
                    hint="Get an organisation-validated or qualified electronic seal "
                    "certificate from a trust service provider (README, The seal certificate).",
                    id="avg_portal.W005",
                )
            )
    if not settings.TSA_URLS:
        warnings.append(
            Warning(
                "No time-stamping authority: seals carry no trusted time and no long-term "
                "validation data, and stop being verifiable when the seal certificate expires.",
                hint="Set DJANGO_TSA_URL to one or more RFC 3161 services (a qualified one for "
                "qualified timestamps), separated by commas.",
                id="avg_portal.W006",
            )
        )
    return warnings
