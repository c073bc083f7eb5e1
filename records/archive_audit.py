"""The whole archive, checked: every stored file against the SHA-256 recorded for it, every
seal, every agreement's chain of evidence events. `manage.py verify_archive` runs it daily.

Built for tens of thousands of agreements: rows come in chunks with their events and
declaration in the same few queries, files are read one at a time, and only a sealed PDF
(a few hundred kilobytes at most) is held in memory, because its seal is checked on the
bytes that were hashed.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Prefetch
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from agreements import archive
from agreements.evidence import verify_chain
from agreements.models import (
    Addendum,
    Agreement,
    AgreementEvent,
    SealedVersion,
    SignableDocument,
)
from avg_portal.seal import SealInvalid, evidence_expires_at, verify_seal

from .models import DossierExport

CHUNK_ROWS = 200

MISMATCHED = "mismatched"
MISSING = "missing"
SEAL_INVALID = "seal invalid"
# The certificate of the newest version's last timestamp has expired: the file alone no
# longer proves its seal to a validator, and the chain of timestamps can no longer be
# extended. The archive's SHA-256 still identifies the file.
EVIDENCE_EXPIRED = "evidence expired"
CHAIN_BROKEN = "chain broken"
PROBLEMS = (MISMATCHED, MISSING, SEAL_INVALID, EVIDENCE_EXPIRED, CHAIN_BROKEN)


@dataclasses.dataclass(frozen=True)
class Finding:
    problem: str  # one of PROBLEMS
    reference: str  # which record, e.g. "agreement <public id>"
    file: str  # its name in storage, or "" for a chain
    detail: str


@dataclasses.dataclass
class ArchiveReport:
    files: int = 0
    files_ok: int = 0
    chains: int = 0
    findings: list[Finding] = dataclasses.field(default_factory=list)
    # Sealed documents whose evidence is due for renewal (`manage.py renew_evidence`): not a
    # problem yet, but one soon.
    renewal_due: list[str] = dataclasses.field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(finding.problem for finding in self.findings)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_archive(*, now: datetime.datetime | None = None) -> ArchiveReport:
    report = ArchiveReport()
    now = now or timezone.now()
    renew_by = now + datetime.timedelta(days=settings.EVIDENCE_RENEW_WITHIN_DAYS)
    for agreement in _agreements():
        _check_chain(report, agreement)
        for document in agreement.dossier_documents():
            _check_sealed(report, document, now=now, renew_by=renew_by)
    for job in DossierExport.objects.filter(expires_at__gt=timezone.now()).iterator():
        _check_file(report, f"dossier export {job.public_id}", job.file, job.sha256)
    return report


def _agreements() -> Iterator[Agreement]:
    events = AgreementEvent.objects.order_by("id")
    return (
        Agreement.objects.order_by("id")
        .select_related("declaration")
        # The unsigned documents are large and not checked here.
        .defer("document_pdf", "declaration__document_pdf")
        .prefetch_related(
            Prefetch("events", queryset=events),
            Prefetch("addenda", queryset=Addendum.objects.defer("document_pdf")),
        )
        .iterator(chunk_size=CHUNK_ROWS)
    )


def _check_chain(report: ArchiveReport, agreement: Agreement) -> None:
    report.chains += 1
    broken = verify_chain(agreement.events.all())
    if broken is not None:
        report.findings.append(
            Finding(
                CHAIN_BROKEN,
                f"agreement {agreement.public_id}",
                "",
                f"event {broken.event_id}: {broken.reason}",
            )
        )


def _check_sealed(
    report: ArchiveReport,
    document: SignableDocument,
    *,
    now: datetime.datetime,
    renew_by: datetime.datetime,
) -> None:
    """A sealed document's files, every version: its bytes against the recorded SHA-256,
    then its seal; and whether the newest version's evidence has expired or is due for
    renewal. (The seal is checked as of the newest timestamp, which it passes however old
    that is: its expiry is a finding of its own.)"""
    if not document.is_archived:
        return
    concrete = document.concrete()
    reference = f"{concrete.kind} {concrete.public_id}"
    newest = _check_sealed_file(report, reference, document.final_pdf, document.final_sha256)
    for version in SealedVersion.objects.filter(document_id=document.key).order_by("number"):
        newest = _check_sealed_file(
            report, f"{reference} version {version.number}", version.file, version.sha256
        )
    if newest is None:
        return
    expires = evidence_expires_at(newest)
    if expires is None:
        return
    if expires <= now:
        report.findings.append(
            Finding(
                EVIDENCE_EXPIRED,
                reference,
                "",
                f"the certificate of its last timestamp expired {expires:%Y-%m-%d}: the file "
                "alone no longer proves its seal, and it can no longer be renewed",
            )
        )
    elif expires <= renew_by:
        report.renewal_due.append(f"{reference} (timestamp expires {expires:%Y-%m-%d})")


def _check_sealed_file(
    report: ArchiveReport, reference: str, field: FieldFile, sha256: str
) -> bytes | None:
    report.files += 1
    try:
        pdf = archive.read_verified(field, sha256)
    except archive.ArchiveProblem as problem:
        report.findings.append(_finding(problem, reference))
        return None
    try:
        verify_seal(pdf)
    except SealInvalid as invalid:
        report.findings.append(Finding(SEAL_INVALID, reference, field.name or "", str(invalid)))
        return None
    report.files_ok += 1
    return pdf


def _check_file(report: ArchiveReport, reference: str, field: FieldFile, sha256: str) -> None:
    report.files += 1
    try:
        archive.check_stored(field, sha256)
    except archive.ArchiveProblem as problem:
        report.findings.append(_finding(problem, reference))
        return
    report.files_ok += 1


def _finding(problem: archive.ArchiveProblem, reference: str) -> Finding:
    kind = MISSING if isinstance(problem, archive.ArchiveMissing) else MISMATCHED
    return Finding(kind, reference, problem.name, problem.reason)
