"""The archive: sealed documents and dossiers in storage, each with the SHA-256 recorded when
it was stored.

A stored file is trusted only while its bytes hash to the recorded SHA-256. `store_file`
writes, reads back and hashes before anything may record the file, and removes what it wrote
when any of that fails. `open_verified` checks again before every export entry and email,
`check_stored_once` before every download (once per version of the stored file); `manage.py
verify_archive` checks the whole archive. A file that no longer matches, or
is gone, is never served: the coach is told, the security log records it and the operators
are mailed (`report`). In an S3 bucket with Object Lock, a sealed PDF is also locked against
deletion until its retention periods could have run out (`lock_until`).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import tempfile
import zoneinfo
from collections.abc import Iterator
from typing import IO, Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.mail import mail_admins
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from storages.utils import clean_name

from avg_portal import audit
from avg_portal.models import SecurityEventKind, User

from .annexes import signed_addenda
from .models import (
    AgreementEnding,
    ProcessingActivityFields,
    RetentionUnit,
    SealedVersion,
    SignableDocument,
)

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
# A verified copy stays in memory up to this size (every sealed PDF) and spills to a
# temporary file beyond it (a large dossier ZIP).
SPOOL_IN_MEMORY = 16 * 1024 * 1024


class ArchiveProblem(Exception):
    """A stored file that cannot be trusted: `name` is its name in storage."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name or '(no file)'}: {reason}")
        self.name = name
        self.reason = reason


class ArchiveMismatch(ArchiveProblem):
    """The stored bytes do not hash to the recorded SHA-256."""


class ArchiveMissing(ArchiveProblem):
    """The file is not in storage, or cannot be read."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Writing --------------------------------------------------------------------------------


def store_file(field: FieldFile, name: str, content: File, sha256: str) -> str:
    """Write `content` to the storage of `field` under `name` (its `upload_to` applied), read
    it back and check that it hashes to `sha256`; returns the stored name. On any failure (a
    full disk, a short write, bytes that do not read back as written) nothing is left in
    storage and the error is raised: the caller records the file only after this returns."""
    storage = field.storage
    target = field.field.generate_filename(field.instance, name)
    # The names are the document's own, and the caller holds its row: a file already there
    # was left by an attempt that died before its transaction committed (a killed worker
    # runs no clean-up), and no row names it.
    if storage.exists(target):
        storage.delete(target)
    try:
        stored = storage.save(target, content, max_length=field.field.max_length)
        read_back = stored_sha256(storage.open(stored, "rb"), stored)
        if read_back != sha256:
            raise ArchiveMismatch(stored, "the file read back differs from what was written")
    except BaseException:
        # A failed write may leave part of the file under the target name.
        _delete_quietly(field, target)
        raise
    return stored


def discard(field: FieldFile, name: str) -> None:
    """Remove a file that `store_file` wrote when its record could not be saved after all."""
    _delete_quietly(field, name)


def _delete_quietly(field: FieldFile, name: str) -> None:
    try:
        field.storage.delete(name)
    except Exception:  # the original error matters more than this one
        logger.exception("Could not remove %s from storage", name)


def store_sealed(document: SignableDocument, sealed: bytes, *, at: datetime.datetime) -> None:
    """Store the sealed final PDF of `document`, verified, and only then record it, its
    SHA-256 and the moment on the row. The caller holds the row's lock."""
    sha256 = sha256_hex(sealed)
    name = f"{document.concrete().public_id}.pdf"
    stored = store_file(document.final_pdf, name, ContentFile(sealed), sha256)
    document.final_pdf.name = stored
    document.final_sha256 = sha256
    document.completed_at = at
    document.seal_error = ""
    try:
        lock_sealed(document, today=timezone.localdate(at))
        document.save(update_fields=["final_pdf", "final_sha256", "completed_at", "seal_error"])
    except BaseException:
        discard(document.final_pdf, stored)
        raise


def store_version(
    document: SignableDocument,
    data: bytes,
    *,
    number: int,
    reason: str,
    at: datetime.datetime,
    evidence_expires_at: datetime.datetime | None,
) -> SealedVersion:
    """Store a renewed version of the sealed PDF of `document` beside the earlier ones,
    verified, and only then record it. The caller holds the document's row lock."""
    sha256 = sha256_hex(data)
    version = SealedVersion(
        document=document,
        number=number,
        sha256=sha256,
        reason=reason,
        created_at=at,
        evidence_expires_at=evidence_expires_at,
    )
    name = f"{document.concrete().public_id}-v{number}.pdf"
    stored = store_file(version.file, name, ContentFile(data), sha256)
    version.file.name = stored
    try:
        version.full_clean(exclude=["file"])
        version.save(force_insert=True)
    except BaseException:
        discard(version.file, stored)
        raise
    return version


def is_sealed_sha256(sha256: str) -> bool:
    """Whether `sha256` is that of a sealed document in the archive, any version of it."""
    return (
        SignableDocument.objects.filter(final_sha256=sha256).exists()
        or SealedVersion.objects.filter(sha256=sha256).exists()
    )


# S3 Object Lock ---------------------------------------------------------------------------


def lock_until(document: SignableDocument, *, today: datetime.date) -> datetime.date | None:
    """The day until which the sealed PDF of `document` stays locked in the bucket; None
    when nothing needs locking.

    The lock is in compliance mode: nobody can lift or shorten it, so it must never outlast
    the day the data may lawfully be erased (records.erasure: the day after the latest due
    date of the agreement's Bijlage 1 rows, `retention.agreement_keep_until`), yet it should
    cover all that is certain. Those due dates run from the end of the coaching agreement,
    which is not known when a document is sealed, except that it cannot lie before the day
    the agreement was made (`signing.agreement_record_end` refuses that). So the lock runs to
    the latest due date computed as if the agreement ended the day it was made (or on the
    end already recorded, for a declaration sealed after it): the earliest the data could
    be due, never later than the real date. Rows with only a free-text period keep the data
    until the coach decides, so they cannot shorten anything; when no row has a structured
    period, the lock runs `S3_OBJECT_LOCK_DEFAULT_YEARS` from today."""
    agreement = document.concrete().dossier
    ending = getattr(agreement, "ending", None) or AgreementEnding(
        agreement=agreement, coaching_ended_on=agreement.agreement_date
    )
    # An addendum may change Bijlage 1, and which version is in force when the agreement
    # ends is not known yet: the lock follows the version that gives the earliest date.
    versions = [agreement.activities.all()] + [
        addendum.activities.all() for addendum in signed_addenda(agreement)
    ]
    until = min(_latest_due(list(rows), ending, today=today) for rows in versions)
    return until if until > today else None


def _latest_due(
    rows: list[ProcessingActivityFields], ending: AgreementEnding, *, today: datetime.date
) -> datetime.date:
    # Imported here: retention imports notices, which imports this module.
    from . import retention

    known = [
        due_on
        for due_on in (retention.activity_due_date(row, ending) for row in rows)
        if due_on is not None
    ]
    if not known:
        return retention.add_period(
            today, settings.S3_OBJECT_LOCK_DEFAULT_YEARS, RetentionUnit.YEAR
        )
    return max(known)


def lock_sealed(document: SignableDocument, *, today: datetime.date) -> None:
    """Give the stored sealed PDF of `document` a COMPLIANCE retention until the start of
    `lock_until`, when `settings.S3_OBJECT_LOCK` is on and the storage is an S3 bucket. A
    bucket without Object Lock refuses, and the error goes up: sealing fails and is retried,
    and the operator is told, rather than a document stored without the protection promised.
    Only sealed PDFs are locked: a dossier ZIP is a copy that goes after a week."""
    # An S3Storage (django-storages), told by its bucket: importing its class needs boto3,
    # which only the `s3` extra installs.
    storage: Any = document.final_pdf.storage
    if not settings.S3_OBJECT_LOCK or not hasattr(storage, "bucket"):
        return
    until = lock_until(document, today=today)
    if until is None:
        return
    retain_until = datetime.datetime.combine(
        until, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )
    storage.bucket.meta.client.put_object_retention(
        Bucket=storage.bucket_name,
        Key=storage._normalize_name(clean_name(document.final_pdf.name)),
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": retain_until},
    )


def note_failure(key: int, error: BaseException) -> None:
    """Write down why storing the sealed document `key` failed, for the coach's page and the
    operator. The transaction that tried was rolled back, so this is written on its own."""
    SignableDocument.objects.filter(pk=key, final_sha256="").update(
        seal_error=f"{type(error).__name__}: {error}"[:500]
    )


# Reading --------------------------------------------------------------------------------


def stored_sha256(opened: IO[bytes], name: str) -> str:
    """The SHA-256 of an opened stored file, read in chunks; closes it."""
    digest = hashlib.sha256()
    try:
        with opened:
            while chunk := opened.read(CHUNK):
                digest.update(chunk)
    except OSError as error:
        raise ArchiveMissing(name, f"could not be read ({error})") from error
    return digest.hexdigest()


def check_stored(field: FieldFile, sha256: str) -> None:
    """Raise ArchiveMissing or ArchiveMismatch unless the stored file hashes to `sha256`."""
    actual = stored_sha256(_open(field), field.name or "")
    if actual != sha256:
        raise ArchiveMismatch(field.name or "", f"SHA-256 is {actual}, recorded {sha256}")


def open_verified(field: FieldFile, sha256: str) -> IO[bytes]:
    """The stored bytes of `field`, checked against `sha256`, as a temporary copy positioned
    at its start. The caller serves the copy, so what goes out is exactly what was hashed,
    whatever happens to the stored file meanwhile: for what goes into an email or an
    export. Downloads use `check_stored_once`, which hashes each version of a file once."""
    name = field.name or ""
    opened = _open(field)
    # Returned open: the caller reads it and closes it.
    copy = cast(IO[bytes], tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY))  # noqa: SIM115
    digest = hashlib.sha256()
    try:
        with opened:
            while chunk := opened.read(CHUNK):
                digest.update(chunk)
                copy.write(chunk)
    except OSError as error:
        copy.close()
        raise ArchiveMissing(name, f"could not be read ({error})") from error
    if digest.hexdigest() != sha256:
        copy.close()
        raise ArchiveMismatch(name, f"SHA-256 is {digest.hexdigest()}, recorded {sha256}")
    copy.seek(0)
    return copy


# How long the shared cache remembers that a version of a stored file hashed right. The
# key names that exact version, so a changed file never matches an old entry.
VERIFIED_SECONDS = 24 * 3600


def check_stored_once(field: FieldFile, sha256: str) -> None:
    """Raise ArchiveMissing or ArchiveMismatch unless the stored file hashes to `sha256`,
    hashing each version of the stored object once.

    Why remembered rather than hashed on every download: a download handed to the front
    server (X-Accel-Redirect, a presigned S3 URL) or streamed from storage is fast only when
    Django does not read the whole file first; hashing it again on every request made the
    signed PDF 30 times slower than the same file served as a static one. So the shared
    cache remembers that this version of the object (on disk its inode, size, modification
    and change times; in S3 its size, ETag and version) hashed to the recorded SHA-256. Any
    write to the file makes a new version, hashed again before it is served: restoring the
    change time as well takes root on the server. And `verify_archive` hashes every file
    every night, whatever the cache says."""
    version = stored_version(field)
    material = f"{field.name}\0{version}\0{sha256}"
    key = "archive-verified:" + hashlib.sha256(material.encode()).hexdigest()
    if cache.get(key):
        return
    check_stored(field, sha256)
    cache.set(key, True, VERIFIED_SECONDS)


def stored_version(field: FieldFile) -> str:
    """What changes whenever the stored file's bytes could have: see `check_stored_once`."""
    if not field.name:
        raise ArchiveMissing("", "no file is recorded")
    storage: Any = field.storage
    if hasattr(storage, "bucket"):  # an S3Storage
        try:
            head = storage.bucket.meta.client.head_object(
                Bucket=storage.bucket_name, Key=storage._normalize_name(clean_name(field.name))
            )
        except Exception as error:  # botocore's ClientError: 404, 403
            raise ArchiveMissing(field.name, f"not in storage ({error})") from error
        return f"s3:{head['ContentLength']}:{head['ETag']}:{head.get('VersionId', '')}"
    try:
        stat = os.stat(storage.path(field.name))
    except OSError as error:
        raise ArchiveMissing(field.name, f"not in storage ({error})") from error
    return f"fs:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"


def read_verified(field: FieldFile, sha256: str) -> bytes:
    with open_verified(field, sha256) as verified:
        return verified.read()


def chunks(opened: IO[bytes]) -> Iterator[bytes]:
    """The bytes of an open file in chunks; closes it at the end."""
    with opened:
        while chunk := opened.read(CHUNK):
            yield chunk


def _open(field: FieldFile) -> IO[bytes]:
    if not field.name:
        raise ArchiveMissing("", "no file is recorded")
    try:
        return cast(IO[bytes], field.storage.open(field.name, "rb"))
    except OSError as error:  # FileNotFoundError, and S3's "does not exist"
        raise ArchiveMissing(field.name, f"not in storage ({error})") from error


# Telling ---------------------------------------------------------------------------------


def report(problem: ArchiveProblem, *, what: str, request: HttpRequest | None = None) -> None:
    """A stored file failed its check: the security log records it and the operators are
    mailed. `what` names the record it belongs to, for the operator."""
    user = cast(User, request.user) if request is not None else None
    audit.record(SecurityEventKind.ARCHIVE_MISMATCH, request=request, user=user)
    logger.error("Archive check failed for %s: %s", what, problem)
    # One mail per file an hour, however often it is asked for (the security log has each).
    if not _first_alert_in_a_while(f"archive-alert:{what}:{problem.name}"):
        return
    alert_operators(
        f"Archive: a stored file failed its check ({what})",
        f"{what}\nFile: {problem.name or '(none recorded)'}\nProblem: {problem.reason}\n\n"
        "The file was not served. Restore it from a backup and run "
        "`manage.py verify_archive`.",
    )


ALERT_EVERY = 3600


def _first_alert_in_a_while(key: str) -> bool:
    """True the first time in ALERT_EVERY seconds for `key`, in the shared cache; True as
    well when the cache cannot be reached (better two mails than none)."""
    try:
        return bool(cache.add(hashlib.sha256(key.encode()).hexdigest(), 1, ALERT_EVERY))
    except Exception:
        logger.exception("The cache could not limit an archive alert")
        return True


def alert_operators(subject: str, message: str) -> None:
    """Mail settings.ADMINS. Never raises: the alert must not turn into the outage it
    reports (a 500 for the coach, a task that fails)."""
    try:
        mail_admins(subject, message)
    except Exception:
        logger.exception("Could not mail the operators: %s", subject)


def damaged_response(request: HttpRequest, problem: ArchiveProblem, *, what: str) -> HttpResponse:
    """What a download answers when the stored file failed its check: a clear page, never the
    bytes and never a 500; the problem is reported first."""
    report(problem, what=what, request=request)
    return render(request, "agreements/archive_damaged.html", status=409)
