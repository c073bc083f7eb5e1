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
import dataclasses
import hashlib
import io
import itertools
import zipfile
from collections.abc import Buffer, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone, translation
from django.utils.text import slugify

from agreements import archive
from agreements.models import Addendum, Agreement, AgreementEvent, SignableDocument
from avg_portal import pdf
from breaches.documents import register_csv
from breaches.models import Breach
from core.models import Client, Practice

from . import art30, batches, pdfjoin, record_entries

DOCUMENT_LANGUAGE = "nl"
# The sink is emptied once it holds this much; the response sends what it yields.
YIELD_AT = 256 * 1024
# Agreements per PDF of the processing record: a PDF of thousands of pages is hard to open
# and to read, so a large record comes in parts. Each agreement's entries are laid out once
# and kept (records.record_entries).
RECORD_AGREEMENTS_PER_PDF = 100
MANIFEST = "manifest.csv"
# The members' names are Dutch: the coach, and whoever she shows the dossier to, reads them.
# The signed documents' folders are each kind's own (SignableDocument.DOSSIER_FOLDER).
EVIDENCE = "bewijs"
RECORD = "verwerkingsregister"
BREACH_REGISTER = "datalekkenregister.csv"
ERASURES = "wissingen.csv"
ERASURES_HEADER = [
    "Gewist op",
    "Door",
    "Overeenkomsten",
    "Bestanden",
    "Datalekmeldingen geanonimiseerd",
    "Eerder vernietigd of teruggegeven (bewaard tot, gedaan op, wat)",
    "Verklaringen verzegeld op",
]


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


@dataclass(frozen=True)
class Archived:
    """A stored file whose bytes were checked against the SHA-256 recorded when it was
    archived as they were read: the manifest lists that hash, computed once."""

    name: str
    chunks: Iterable[bytes]
    sha256: str


Member = tuple[str, Iterable[bytes]] | Archived | Omitted

OMITTED_HEADER = ["Niet opgenomen", "SHA-256 volgens archief", "Reden"]


def stream_zip(members: Iterable[Member]) -> Iterator[bytes]:
    """Yield the bytes of a ZIP of `members`, (name, iterable of bytes) pairs, followed by
    manifest.csv listing each member's SHA-256 and size and then, under a header of their
    own, the files that were left out and why. A stored file is checked against its recorded
    SHA-256 before it becomes a member (`Archived`), so for those the manifest lists the
    recorded hash, not one computed again."""
    sink = _Sink()
    moment = timezone.localtime().timetuple()[:6]
    manifest: list[tuple[str, str, int]] = []
    omitted: list[Omitted] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zip_file:
        for member in members:
            if isinstance(member, Omitted):
                omitted.append(member)
                continue
            if isinstance(member, Archived):
                name, chunks, known = member.name, member.chunks, member.sha256
            else:
                (name, chunks), known = member, None
            info = zipfile.ZipInfo(name, date_time=moment)
            # PDFs are compressed already; deflating them again only costs time.
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".pdf") else (zipfile.ZIP_DEFLATED)
            )
            digest, size = hashlib.sha256(), 0
            with zip_file.open(info, "w", force_zip64=True) as written:
                for chunk in chunks:
                    written.write(chunk)
                    if known is None:
                        digest.update(chunk)
                    size += len(chunk)
                    if sink.size >= YIELD_AT:
                        yield sink.take()
            manifest.append((name, known or digest.hexdigest(), size))
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
    return Archived(name, archive.chunks(verified), sha256)


def _newest(document: SignableDocument) -> tuple[FieldFile, str]:
    """A sealed document's newest file and its hash: the last version `renew_evidence`
    stored (read from the prefetched `sealed_versions`), else the sealed file itself. Each
    version holds the ones before it, so the newest carries the most evidence."""
    versions = list(document.sealed_versions.all())
    if versions:
        newest = max(versions, key=lambda version: version.number)
        return newest.file, newest.sha256
    return document.final_pdf, document.final_sha256


def base_name(agreement: Agreement) -> str:
    client = slugify(agreement.client_name) or "client"
    return f"{client}-{agreement.agreement_date:%Y-%m-%d}-{str(agreement.public_id)[:8]}"


EVIDENCE_HEADER = ["Tijdstip", "Gebeurtenis", "Door", "Naam", "IP-adres", "Browser", "Toelichting"]


@dataclass(frozen=True)
class _EventLabels:
    """The events' and actors' names in the document language, looked up once an export."""

    kinds: dict[str, str]
    actors: dict[str, str]

    @classmethod
    def load(cls) -> "_EventLabels":
        with translation.override(DOCUMENT_LANGUAGE):
            return cls(
                kinds={value: str(label) for value, label in AgreementEvent.Kind.choices},
                actors={value: str(label) for value, label in AgreementEvent.Actor.choices},
            )


def _evidence_csv(agreement: Agreement, labels: _EventLabels) -> Iterator[bytes]:
    # The events come with the agreement (EVENTS), in order.
    rows = [
        [
            timezone.localtime(event.at).isoformat(),
            labels.kinds.get(event.kind, event.kind),
            labels.actors.get(event.actor, event.actor),
            event.actor_name,
            event.ip_address or "",
            event.user_agent,
            event.detail,
        ]
        for event in agreement.events.all()
    ]
    yield _csv_bytes(EVIDENCE_HEADER, rows)


# The record of processing (art. 30(2)): records.art30 builds its entries from the annexes
# in force, addenda included.
RECORD_HEADER = list(art30.COLUMNS)


@dataclass
class _RecordIndex:
    """What the record's PDFs need of its entries: each agreement's public id and the key
    of what its entries print (records.record_entries), and how many entries there are (the
    cover says so). Gathered while the CSV streams past, so that the entries are built from
    the annexes once an export; the entries themselves are read from storage as they are
    joined, so memory holds only the keys."""

    practice: Practice
    keys: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    total: int = 0
    complete: bool = False

    def add(self, public_id: str, rows: list[list[str]]) -> None:
        self.keys.append((public_id, record_entries.entry_key(self.practice, rows)))
        self.total += len(rows)


def _record_csv(agreements: QuerySet[Agreement], index: _RecordIndex) -> Iterator[bytes]:
    yield _csv_bytes(RECORD_HEADER, [])
    batch: list[list[str]] = []
    for public_id, rows in art30.record_groups(agreements):
        index.add(public_id, rows)
        batch += rows
        if len(batch) >= 500:
            yield _csv_bytes(None, batch, bom=False)
            batch = []
    yield _csv_bytes(None, batch, bom=False)
    index.complete = True


def _record_pdf(
    practice: Practice,
    agreements: QuerySet[Agreement],
    keys: list[tuple[str, str]],
    *,
    part: int,
    parts: int,
    total: int,
) -> Iterator[bytes]:
    """One PDF of the record: a cover with what only this export knows (how many entries,
    which part, when printed), rendered now, then each agreement's entries (`keys`: its
    public id and the key of what they print), kept since it was sealed or laid out now,
    joined as they stream past (records.pdfjoin)."""
    cover = _record_cover(practice, part=part, parts=parts, total=total)
    entries = (
        record_entries.entry_part(practice, public_id, key, agreements) for public_id, key in keys
    )
    pieces = itertools.chain([pdfjoin.part_of(cover)], (p for p in entries if p is not None))
    yield from pdfjoin.join(pieces, title=record_entries.TITLE, author=practice.name)


def _record_cover(practice: Practice, *, part: int, parts: int, total: int) -> bytes:
    html = record_entries.render_html(
        practice, [], cover=True, part=part, parts=parts, total=total, printed_at=timezone.now()
    )
    return pdf.render_pdf(html, title=record_entries.TITLE, author=practice.name)


def _record_pdfs(
    practice: Practice, agreements: QuerySet[Agreement], index: _RecordIndex
) -> Iterator[tuple[str, Iterator[bytes]]]:
    if not index.complete:  # the CSV was not written first
        for _chunk in _record_csv(agreements, index):
            pass
    keys, total = index.keys, index.total
    per_pdf = RECORD_AGREEMENTS_PER_PDF
    parts = max(1, -(-len(keys) // per_pdf))
    for part in range(1, parts + 1):
        chunk = keys[(part - 1) * per_pdf : part * per_pdf]
        name = f"{RECORD}.pdf" if parts == 1 else f"{RECORD}-{part:03d}.pdf"
        yield (
            name,
            _record_pdf(practice, agreements, chunk, part=part, parts=parts, total=total),
        )


# The sealed addenda of an agreement go in beside it.
SEALED_ADDENDA = Addendum.objects.exclude(final_sha256="").defer("document_pdf").order_by("number")
# Its evidence, in order, fetched a few hundred agreements at a time.
EVENTS = AgreementEvent.objects.order_by("at", "id")


def dossier_members(
    practice: Practice, agreements: QuerySet[Agreement], breaches: QuerySet[Breach]
) -> Iterator[Member]:
    """The members of a dossier of `agreements` and `breaches`, all of `practice`."""
    archived = (
        agreements.exclude(final_sha256="")
        .select_related("declaration")
        .prefetch_related(
            "sealed_versions",
            "declaration__sealed_versions",
            Prefetch("addenda", queryset=SEALED_ADDENDA),
            "addenda__sealed_versions",
            Prefetch("events", queryset=EVENTS),
        )
        .order_by("client_name", "agreement_date", "id")
        # The unsigned document is a few hundred kilobytes per row, and not exported.
        .defer("document_pdf", "declaration__document_pdf")
    )
    labels = _EventLabels.load()
    for agreement in archived.iterator(chunk_size=200):
        name = base_name(agreement)
        yield _archived_file(
            agreement.dossier_member(name),
            *_newest(agreement),
            what=f"agreement {agreement.public_id}",
        )
        yield f"{EVIDENCE}/{name}.csv", _evidence_csv(agreement, labels)
        for document in agreement.dossier_documents()[1:]:
            if document.is_archived:
                yield _archived_file(
                    document.dossier_member(name),
                    *_newest(document),
                    what=f"{document.kind} {document.public_id}",
                )
        # Its members are written: memory stays flat however many agreements follow.
        batches.release(agreement)
    # The CSV is streamed before the PDFs are started: the index is complete by then.
    index = _RecordIndex(practice)
    yield f"{RECORD}.csv", _record_csv(agreements, index)
    yield from _record_pdfs(practice, agreements, index)
    registered = breaches.prefetch_related("clients", "notifications").order_by("discovered_at")
    yield BREACH_REGISTER, iter([register_csv(registered)])


def practice_dossier(practice: Practice) -> Iterator[bytes]:
    return stream_zip(
        itertools.chain(
            dossier_members(
                practice,
                Agreement.objects.filter(practice=practice),
                Breach.objects.filter(practice=practice),
            ),
            [(ERASURES, iter([_erasures_csv(practice)]))],
        )
    )


def _erasures_csv(practice: Practice) -> bytes:
    """What remains of the clients whose data was erased (records.erasure): no personal data."""
    with translation.override("nl"):
        return _csv_bytes(ERASURES_HEADER, _erasure_rows(practice))


def _erasure_rows(practice: Practice) -> list[list[object]]:
    return [
        [
            timezone.localtime(erasure.erased_at).strftime("%Y-%m-%d %H:%M"),
            erasure.erased_by,
            erasure.agreements,
            erasure.files,
            erasure.breach_notifications,
            " | ".join(
                f"{kept_until or '?'}, {done_on}, {disposition}"
                for kept_until, done_on, disposition in erasure.disposal_facts()
            ),
            ", ".join(day.isoformat() for day in erasure.declaration_dates()),
        ]
        for erasure in practice.erasures.order_by("erased_at")
    ]


def client_dossier(client: Client) -> Iterator[bytes]:
    """One client's agreements, and the breaches that name him."""
    return stream_zip(
        dossier_members(
            client.practice,
            Agreement.objects.filter(practice=client.practice_id, client=client),
            Breach.objects.filter(practice=client.practice_id, clients=client),
        )
    )
