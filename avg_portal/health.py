"""Health endpoints for the load balancer and the operator's monitoring.

`/healthz`: the process answers. `/readyz`: what this server needs works (database, cache,
storage write and read) and the work behind it gets done (the task queue is not stuck, a
worker was seen lately, the seal certificate is valid). JSON, no login, no data of anyone:
only names of checks, states and numbers.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult

from .middleware import second_factor_not_required

# Work waiting this long means no worker is taking it: signatures are not being sealed.
QUEUE_STALE_AFTER = datetime.timedelta(minutes=30)
# The seal certificate is renewed well before it runs out.
SEAL_WARN_DAYS = 30


@dataclass(frozen=True)
class Check:
    state: str  # "ok", "warn" (look at it soon) or "fail" (not ready)
    detail: str | int | float | None = None


def _database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check("ok")


def _cache() -> Check:
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 30)
    found = cache.get(key)
    cache.delete(key)
    return Check("ok" if found == value else "fail", None if found == value else "read back")


def _storage() -> Check:
    content = uuid.uuid4().hex.encode()
    name = f"health/{uuid.uuid4().hex}.txt"
    try:
        name = default_storage.save(name, ContentFile(content))
    except OSError:
        # A full disk leaves the file it could not write (empty): not one per probe.
        with contextlib.suppress(OSError):
            default_storage.delete(name)
        raise
    try:
        with default_storage.open(name, "rb") as stored:
            same = stored.read() == content
    finally:
        default_storage.delete(name)
    return Check("ok" if same else "fail", None if same else "read back differs")


def _uses_task_database() -> bool:
    return settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db.")


def _queue() -> Check:
    """Seconds the oldest waiting task has waited."""
    if not _uses_task_database():
        return Check("ok", "tasks run inline")
    oldest = DBTaskResult.objects.ready().order_by("enqueued_at").first()
    if oldest is None:
        return Check("ok", 0)
    waited = timezone.now() - oldest.enqueued_at
    return Check("fail" if waited > QUEUE_STALE_AFTER else "ok", int(waited.total_seconds()))


def _worker() -> Check:
    """Seconds since a worker last started or finished a task."""
    if not _uses_task_database():
        return Check("ok", "tasks run inline")
    latest = DBTaskResult.objects.exclude(started_at=None).order_by("-started_at").first()
    if latest is None or latest.started_at is None:
        return Check("warn", "no worker seen yet")
    seen = max(latest.started_at, latest.finished_at or latest.started_at)
    age = timezone.now() - seen
    # A quiet site has no tasks: only a worker that is silent while work waits is a problem.
    waiting = DBTaskResult.objects.ready().exists()
    state = "fail" if waiting and age > QUEUE_STALE_AFTER else "ok"
    return Check(state, int(age.total_seconds()))


def seal_certificate_file() -> Path | None:
    if settings.SEAL_CERT_FILE:
        return Path(settings.SEAL_CERT_FILE)
    development = Path(settings.BASE_DIR) / "var" / "dev-seal" / "seal-cert.pem"
    return development if settings.SEAL_ALLOW_DEV_CERTIFICATE else None


def seal_certificate_validity() -> tuple[datetime.datetime, datetime.datetime] | None:
    """When the seal certificate is valid (from, until, UTC); None when there is none to
    read yet."""
    path = seal_certificate_file()
    if path is None or not path.is_file():
        return None
    from cryptography import x509  # 15 MB: only where a certificate is read (avg_portal.checks)

    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return certificate.not_valid_before_utc, certificate.not_valid_after_utc


def seal_certificate_days_left(now: datetime.datetime | None = None) -> int | None:
    """Days until the seal certificate expires; None when there is none to read yet."""
    validity = seal_certificate_validity()
    if validity is None:
        return None
    now = now or datetime.datetime.now(datetime.UTC)
    return (validity[1] - now).days


def _seal() -> Check:
    validity = seal_certificate_validity()
    if validity is None:
        return Check("ok" if settings.DEBUG else "fail", "no certificate yet")
    now = datetime.datetime.now(datetime.UTC)
    if now < validity[0]:
        return Check("fail", f"not valid until {validity[0]:%Y-%m-%d %H:%M} UTC")
    days = (validity[1] - now).days
    if days < 0:
        return Check("fail", days)
    return Check("warn" if days < SEAL_WARN_DAYS else "ok", days)


CHECKS: dict[str, Callable[[], Check]] = {
    "database": _database,
    "cache": _cache,
    "storage": _storage,
    "oldest_queued_task_seconds": _queue,
    "worker_last_seen_seconds": _worker,
    "seal_certificate_days_left": _seal,
}


def _run(check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:  # a check that cannot run has failed; say what kind
        return Check("fail", type(error).__name__)


@login_not_required
@second_factor_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@login_not_required
@second_factor_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results = {name: _run(check) for name, check in CHECKS.items()}
    ready = all(result.state != "fail" for result in results.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "fail",
            "checks": {
                name: {"state": result.state, "value": result.detail}
                for name, result in results.items()
            },
        },
        status=200 if ready else 503,
    )
