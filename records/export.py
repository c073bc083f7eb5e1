"""The dossier export: one ZIP with the sealed PDFs, their evidence, the record of
processing (art. 30(2) GDPR), the breach register and a manifest of SHA-256 hashes.

The ZIP is written as a stream: each member goes through a small unseekable sink that the
generator empties after every chunk, so memory stays flat however many agreements there
are. Python's zipfile writes data descriptors when it cannot seek back, and the manifest,
whose hashes are computed while the members stream past, is written last.

A sealed file goes in only after its bytes hash to the SHA-256 recorded when it was
archived; one that fails is left out, named in the manifest, and reported: the ZIP is never
silently broken, and never holds altered bytes.
"""

import csv
import hashlib
import io
import zipfile
from collections.abc import Buffer, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify

from agreements import archive
from agreements.models import Agreement, AgreementEvent, AgreementStatus, ProcessingActivity
from agreements.retention import activity_due_date
from avg_portal.pdf import render_pdf
from breaches.documents import register_csv
from breaches.models import Breach
from core.models import Client, Practice

DOCUMENT_LANGUAGE = "nl"
# The sink is emptied once it holds this much; the response sends what it yields.
YIELD_AT = 256 * 1024
# Rows per PDF of the processing record: one PDF of thousands of rows would take minutes
# and hundreds of megabytes to lay out, so a large record is printed in parts.
RECORD_ROWS_PER_PDF = 100
MANIFEST = "manifest.csv"
# The members' names are Dutch: the coach, and whoever she shows the dossier to, reads them.
AGREEMENTS = "verwerkersovereenkomsten"
EVIDENCE = "bewijs"
DECLARATIONS = "verklaringen"
RECORD = "verwerkingsregister"
BREACH_REGISTER = "datalekkenregister.csv"


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that collects what zipfile writes until taken."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self.size += len(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self.size = 0
        return data


@dataclass(frozen=True)
class Omitted:
    """A stored file the dossier should hold but cannot: it is missing, or its bytes no
    longer hash to the SHA-256 recorded when it was archived."""

    name: str
    recorded_sha256: str
    reason: str


Member = tuple[str, Iterable[bytes]] | Omitted

OMITTED_HEADER = ["Niet opgenomen", "SHA-256 volgens archief", "Reden"]


def stream_zip(members: Iterable[Member]) -> Iterator[bytes]:
    """Yield the bytes of a ZIP of `members`, (name, iterable of bytes) pairs, followed by
    manifest.csv listing each member's SHA-256 and size and then, under a header of their
    own, the files that were left out and why. A stored file is checked against its recorded
    SHA-256 before it becomes a member, so for those the manifest lists the recorded hash."""
    sink = _Sink()
    moment = timezone.localtime().timetuple()[:6]
    manifest: list[tuple[str, str, int]] = []
    omitted: list[Omitted] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zip_file:
        for member in members:
            if isinstance(member, Omitted):
                omitted.append(member)
                continue
            name, chunks = member
            info = zipfile.ZipInfo(name, date_time=moment)
            # PDFs are compressed already; deflating them again only costs time.
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".pdf") else (zipfile.ZIP_DEFLATED)
            )
            digest, size = hashlib.sha256(), 0
            with zip_file.open(info, "w", force_zip64=True) as written:
                for chunk in chunks:
                    written.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if sink.size >= YIELD_AT:
                        yield sink.take()
            manifest.append((name, digest.hexdigest(), size))
            yield sink.take()
        info = zipfile.ZipInfo(MANIFEST, date_time=moment)
        info.compress_type = zipfile.ZIP_DEFLATED
        zip_file.writestr(info, _manifest_csv(manifest, omitted))
    yield sink.take()


def _manifest_csv(included: list[tuple[str, str, int]], omitted: list[Omitted]) -> bytes:
    text = _csv_bytes(["Bestand", "SHA-256", "Bytes"], included)
    if not omitted:
        return text
    rows = [(o.name, o.recorded_sha256, o.reason) for o in omitted]
    return text + b"\r\n" + _csv_bytes(OMITTED_HEADER, rows, bom=False)


def _csv_bytes(
    header: Sequence[str] | None, rows: Iterable[Sequence[object]], *, bom: bool = True
) -> bytes:
    """CSV for Dutch Excel: semicolons, and a byte-order mark so that Excel reads UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    if header:
        writer.writerow(header)
    for row in rows:
        # Excel runs a cell that starts with = + - @ as a formula: quote it as text.
        writer.writerow([_defuse(str(cell)) for cell in row])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def _defuse(cell: str) -> str:
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _archived_file(name: str, field: FieldFile, sha256: str, *, what: str) -> Member:
    """The member for a sealed file, checked against its recorded SHA-256 before a byte of
    it enters the ZIP; or, when the check fails, the note that it was left out (the
    operators are told). The ZIP itself stays whole either way."""
    try:
        verified = archive.open_verified(field, sha256)
    except archive.ArchiveMissing as problem:
        archive.report(problem, what=what)
        return Omitted(name, sha256, "ontbreekt in de opslag")
    except archive.ArchiveMismatch as problem:
        archive.report(problem, what=what)
        return Omitted(name, sha256, "komt niet overeen met de SHA-256 in het archief")
    return name, archive.chunks(verified)


def base_name(agreement: Agreement) -> str:
    client = slugify(agreement.client_name) or "client"
    return f"{client}-{agreement.agreement_date:%Y-%m-%d}-{str(agreement.public_id)[:8]}"


EVIDENCE_HEADER = ["Tijdstip", "Gebeurtenis", "Door", "Naam", "IP-adres", "Browser", "Toelichting"]


def _evidence_csv(agreement: Agreement) -> Iterator[bytes]:
    events = AgreementEvent.objects.filter(agreement=agreement).order_by("at", "id")
    with translation.override(DOCUMENT_LANGUAGE):
        rows = [
            [
                timezone.localtime(event.at).isoformat(),
                event.get_kind_display(),
                event.get_actor_display(),
                event.actor_name,
                event.ip_address or "",
                event.user_agent,
                event.detail,
            ]
            for event in events
        ]
    yield _csv_bytes(EVIDENCE_HEADER, rows)


RECORD_COLUMNS: tuple[tuple[str, Callable[[ProcessingActivity], str]], ...] = (
    ("Verwerkingsverantwoordelijke", lambda a: a.controller),
    ("Cliënt", lambda a: a.agreement.client_name),
    ("Overeenkomst van", lambda a: f"{a.agreement.agreement_date:%d-%m-%Y}"),
    ("Verwerker", lambda a: a.processor),
    ("Subverwerkers", lambda a: a.sub_processors),
    ("Verwerking", lambda a: a.description),
    ("Doeleinden", lambda a: a.purposes),
    ("Persoonsgegevens", lambda a: a.personal_data),
    ("Locatie", lambda a: a.location),
    ("Bewaartermijn", lambda a: a.retention),
    ("Overeenkomst beëindigd op", lambda a: _ended_on(a.agreement)),
    ("Bewaren tot", lambda a: _due(a)),
)


def _ended_on(agreement: Agreement) -> str:
    ending = getattr(agreement, "ending", None)
    return f"{ending.coaching_ended_on:%d-%m-%Y}" if ending else ""


def _due(activity: ProcessingActivity) -> str:
    due = activity_due_date(activity, getattr(activity.agreement, "ending", None))
    return f"{due:%d-%m-%Y}" if due else ""


def record_activities(agreements: QuerySet[Agreement]) -> QuerySet[ProcessingActivity]:
    """Every Bijlage 1 row of the signed agreements, by controller (art. 30(2))."""
    return (
        ProcessingActivity.objects.filter(
            agreement__in=agreements.filter(status=AgreementStatus.SIGNED)
        )
        .select_related("agreement", "agreement__ending")
        .defer("agreement__document_pdf")
        .order_by("controller", "agreement__client_name", "agreement__agreement_date", "position")
    )


def _record_row(activity: ProcessingActivity) -> list[str]:
    return [read(activity) for _name, read in RECORD_COLUMNS]


def _record_csv(activities: QuerySet[ProcessingActivity]) -> Iterator[bytes]:
    header = [name for name, _read in RECORD_COLUMNS]
    yield _csv_bytes(header, [])
    batch: list[list[str]] = []
    for activity in activities.iterator(chunk_size=500):
        batch.append(_record_row(activity))
        if len(batch) == 500:
            yield _csv_bytes(None, batch, bom=False)
            batch = []
    yield _csv_bytes(None, batch, bom=False)


def _record_pdf(
    practice: Practice, rows: list[list[str]], *, part: int, parts: int, total: int
) -> Iterator[bytes]:
    header = [name for name, _read in RECORD_COLUMNS]
    with translation.override(DOCUMENT_LANGUAGE):
        html = render_to_string(
            "pdf/processing_record.html",
            {
                "practice": practice,
                "entries": [list(zip(header, row, strict=True)) for row in rows],
                "part": part,
                "parts": parts,
                "total": total,
                "printed_at": timezone.now(),
            },
        )
    yield render_pdf(html, title="Register van verwerkingen", author=practice.name)


def _record_pdfs(
    practice: Practice, activities: QuerySet[ProcessingActivity]
) -> Iterator[tuple[str, Iterator[bytes]]]:
    total = activities.count()
    parts = max(1, -(-total // RECORD_ROWS_PER_PDF))
    iterator = activities.iterator(chunk_size=RECORD_ROWS_PER_PDF)
    for part in range(1, parts + 1):
        rows: list[list[str]] = []
        for activity in iterator:
            rows.append(_record_row(activity))
            if len(rows) == RECORD_ROWS_PER_PDF:
                break
        name = f"{RECORD}.pdf" if parts == 1 else f"{RECORD}-{part:03d}.pdf"
        yield name, _record_pdf(practice, rows, part=part, parts=parts, total=total)


def dossier_members(
    practice: Practice, agreements: QuerySet[Agreement], breaches: QuerySet[Breach]
) -> Iterator[Member]:
    """The members of a dossier of `agreements` and `breaches`, all of `practice`."""
    archived = (
        agreements.exclude(final_sha256="")
        .select_related("declaration")
        .order_by("client_name", "agreement_date", "id")
        # The unsigned document is a few hundred kilobytes per row, and not exported.
        .defer("document_pdf", "declaration__document_pdf")
    )
    for agreement in archived.iterator(chunk_size=200):
        name = base_name(agreement)
        yield _archived_file(
            f"{AGREEMENTS}/{name}.pdf",
            agreement.final_pdf,
            agreement.final_sha256,
            what=f"agreement {agreement.public_id}",
        )
        yield f"{EVIDENCE}/{name}.csv", _evidence_csv(agreement)
        declaration = getattr(agreement, "declaration", None)
        if declaration is not None and declaration.is_archived:
            yield _archived_file(
                f"{DECLARATIONS}/{name}.pdf",
                declaration.final_pdf,
                declaration.final_sha256,
                what=f"declaration {declaration.public_id}",
            )
    activities = record_activities(agreements)
    yield f"{RECORD}.csv", _record_csv(activities)
    yield from _record_pdfs(practice, activities)
    registered = breaches.prefetch_related("clients", "notifications").order_by("discovered_at")
    yield BREACH_REGISTER, iter([register_csv(registered)])


def practice_dossier(practice: Practice) -> Iterator[bytes]:
    return stream_zip(
        dossier_members(
            practice,
            Agreement.objects.filter(practice=practice),
            Breach.objects.filter(practice=practice),
        )
    )


def client_dossier(client: Client) -> Iterator[bytes]:
    """One client's agreements, and the breaches that name him."""
    return stream_zip(
        dossier_members(
            client.practice,
            Agreement.objects.filter(practice=client.practice_id, client=client),
            Breach.objects.filter(practice=client.practice_id, clients=client),
        )
    )
