"""Evidence that outlives its certificates: the timestamp of the document the parties sign,
and the renewal of a sealed PDF's long-term validation data.

A sealed PDF (PAdES B-LTA, avg_portal.seal) stays verifiable as long as its last document
timestamp does, that is until the certificate of the TSA that made it expires (or its
algorithms weaken). Before then `manage.py renew_evidence` adds fresh validation data and a
new document timestamp over everything. The result is stored as a new version beside the
old (`SealedVersion`): the original is never overwritten, every version verifies at
/verify/, and the evidence trail records each renewal with both hashes.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Iterator

from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.tasks import task
from django.utils import timezone

from core.exceptions import ActionRefused
from core.origin import Origin

from . import archive
from .models import AgreementEvent, DocumentTimestamp, SealedVersion, SignableDocument

# avg_portal.seal (pyHanko and aiohttp: some 35 MB and a second to import) is imported in the
# functions below that make or read a seal, not here: every download of a sealed PDF asks
# this module for the latest version, and no web worker should load pyHanko for that.

logger = logging.getLogger(__name__)

Kind = AgreementEvent.Kind


# The document the parties sign -----------------------------------------------------------


@task
def timestamp_sent_document(key: int) -> None:
    document_timestamp(key)


def document_timestamp(key: int) -> DocumentTimestamp | None:
    """Obtain an RFC 3161 timestamp over the SHA-256 of the document sent for signing and
    keep the token, so that its existence at that moment is provable. Nothing when no TSA
    is configured or the token is already there; TimestampUnavailable when none answers
    (the sending stands; the seal will carry its own timestamp)."""
    from avg_portal import seal

    document = SignableDocument.objects.get(pk=key)
    sha256 = document.document_sha256
    if not sha256 or document.timestamps.filter(sha256=sha256).exists():
        return None
    obtained = seal.timestamp_token(bytes(document.document_pdf))
    if obtained is None:
        return None
    token, authority = obtained
    at = seal.token_time(token)
    with transaction.atomic():
        stamp = DocumentTimestamp.objects.create(
            document=document,
            sha256=sha256,
            token=token,
            authority=authority.name[:300],
            timestamped_at=at,
        )
        document.concrete().dossier.log(
            Kind.TIMESTAMPED,
            Origin.system(),
            document=document,
            detail=f"SHA-256 {sha256}; RFC 3161 time {at.isoformat()} from {authority.name}",
        )
    return stamp


# Renewal ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Latest:
    """The newest version of a sealed document's file."""

    file: FieldFile
    sha256: str
    number: int
    evidence_expires_at: datetime.datetime | None = None


def latest_version(document: SignableDocument) -> Latest:
    version = document.sealed_versions.order_by("-number").first()
    if version is not None:
        return Latest(version.file, version.sha256, version.number, version.evidence_expires_at)
    return Latest(document.final_pdf, document.final_sha256, 1)


def evidence_expiry(document: SignableDocument) -> datetime.datetime | None:
    """When the newest version's last timestamp certificate expires; None for a seal
    without timestamps (made before a TSA was configured)."""
    latest = latest_version(document)
    if latest.number > 1:
        return latest.evidence_expires_at
    from avg_portal import seal

    return seal.evidence_expires_at(archive.read_verified(latest.file, latest.sha256))


def due_for_renewal(
    *, within: datetime.timedelta, now: datetime.datetime | None = None
) -> Iterator[tuple[SignableDocument, datetime.datetime]]:
    """Every sealed document whose evidence expires within `within`, with that moment."""
    cutoff = (now or timezone.now()) + within
    documents = (
        SignableDocument.objects.exclude(final_sha256="").defer("document_pdf").order_by("pk")
    )
    for document in documents.iterator(chunk_size=200):
        expires = evidence_expiry(document)
        if expires is not None and expires <= cutoff:
            yield document, expires


class RenewalGainsNothing(Exception):
    """The new document timestamp's certificate expires no later than the evidence it was to
    renew: the timestamp authority must be given a newer certificate, or another one used."""

    def __init__(self, expires: datetime.datetime | None) -> None:
        self.expires = expires
        until = f"{expires:%Y-%m-%d}" if expires else "unknown"
        super().__init__(
            f"the timestamp authority's certificate expires {until}, no later than the "
            "evidence it would renew; give it a newer certificate or configure another "
            "(DJANGO_TSA_URL)"
        )


def document_renew(
    *, document: SignableDocument, reason: str, must_extend: bool = False
) -> SealedVersion:
    """Add fresh validation data and a new document timestamp to the newest version of the
    sealed PDF, and store the result as the next version. What is stored verifies first.
    `must_extend`: store it only if its timestamp outlives the newest version's (the
    scheduled renewal; on demand, fresh validation data alone may be the point)."""
    from avg_portal import seal

    with transaction.atomic():
        locked = SignableDocument.objects.select_for_update().get(pk=document.pk)
        if not locked.is_archived:
            raise ActionRefused("Only a sealed document has evidence to renew.")
        latest = latest_version(locked)
        pdf = archive.read_verified(latest.file, latest.sha256)
        # The TSA is asked while the row is locked: one renewal per document at a time.
        renewed = seal.renew(pdf)
        seal.verify_seal(renewed)
        expires = seal.evidence_expires_at(renewed)
        if must_extend:
            before = seal.evidence_expires_at(pdf)
            if before is not None and (expires is None or expires <= before):
                raise RenewalGainsNothing(expires)
        version = archive.store_version(
            locked,
            renewed,
            number=latest.number + 1,
            reason=reason[:200],
            at=timezone.now(),
            evidence_expires_at=expires,
        )
        until = f"{expires:%Y-%m-%d}" if expires else "unknown"
        locked.concrete().dossier.log(
            Kind.EVIDENCE_RENEWED,
            Origin.system(),
            document=locked,
            detail=(
                f"version {version.number}: SHA-256 {version.sha256}; previous version "
                f"{latest.number}: SHA-256 {latest.sha256}; timestamp valid until {until}"
            ),
        )
    return version
