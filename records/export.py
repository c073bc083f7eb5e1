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
import itertools
import zipfile
from collections.abc import Buffer, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify

from agreements import archive
from agreements.models import Addendum, Agreement, AgreementEvent
from avg_portal import pdf
from breaches.documents import register_csv
from breaches.models import Breach
from core.models import Client, Practice

from . import art30

DOCUMENT_LANGUAGE = "nl"
# The sink is emptied once it holds this much; the response sends what it yields.
YIELD_AT = 256 * 1024
# Agreements per PDF of the processing record: one PDF of thousands of entries would take
# hundreds of megabytes to join, so a large record is printed in parts. Each agreement's
# entries are a PDF of their own, laid out once and kept in storage (`_record_entries`).
RECORD_AGREEMENTS_PER_PDF = 100
# Where the entries are kept: one folder per agreement (its public id).
RECORD_ENTRIES = "processing-record"
MANIFEST = "manifest.csv"
# The members' names are Dutch: the coach, and whoever she shows the dossier to, reads them.
AGREEMENTS = "verwerkersovereenkomsten"
EVIDENCE = "bewijs"
DECLARATIONS = "verklaringen"
ADDENDA = "addenda"
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


# The record of processing (art. 30(2)): records.art30 builds its entries from the annexes
# in force, addenda included.
RECORD_HEADER = list(art30.COLUMNS)


def _record_csv(agreements: QuerySet[Agreement]) -> Iterator[bytes]:
    yield _csv_bytes(RECORD_HEADER, [])
    batch: list[list[str]] = []
    for row in art30.record_rows(agreements):
        batch.append(row)
        if len(batch) == 500:
            yield _csv_bytes(None, batch, bom=False)
            batch = []
    yield _csv_bytes(None, batch, bom=False)


def _record_pdf(
    practice: Practice, groups: list[list[list[str]]], *, part: int, parts: int, total: int
) -> Iterator[bytes]:
    """One PDF of the record: a cover with what only this export knows (how many entries,
    which part, when printed), rendered now, then each agreement's entries, each rendered
    once and kept (`_record_entries`), joined with pypdf."""
    from pypdf import PdfReader, PdfWriter  # only an export needs it

    writer = PdfWriter()
    # Page by page: a third cheaper than PdfWriter.append, which also copies outlines and
    # forms these pieces do not have.
    cover = _record_cover(practice, part=part, parts=parts, total=total)
    pieces = itertools.chain([cover], (_record_entries(practice, rows) for rows in groups))
    for piece in pieces:
        for page in PdfReader(io.BytesIO(piece)).pages:
            writer.add_page(page)
    writer.add_metadata({"/Title": "Register van verwerkingen", "/Author": practice.name})
    joined = io.BytesIO()
    writer.write(joined)
    yield joined.getvalue()


def _render_record(practice: Practice, rows: list[list[str]], **context: object) -> str:
    header = RECORD_HEADER
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(
            "pdf/processing_record.html",
            {
                "practice": practice,
                "entries": [list(zip(header, row, strict=True)) for row in rows],
                **context,
            },
        )


def _record_cover(practice: Practice, *, part: int, parts: int, total: int) -> bytes:
    html = _render_record(
        practice, [], cover=True, part=part, parts=parts, total=total, printed_at=timezone.now()
    )
    return pdf.render_pdf(html, title="Register van verwerkingen", author=practice.name)


def _record_entries(practice: Practice, rows: list[list[str]]) -> bytes:
    """The entries of one agreement, kept in storage under the hash of their HTML: rendered
    once, and again only when what they print changes (an ending, a new column)."""
    agreement_id, rows = rows[0][0], [row[1:] for row in rows]
    return pdf.render_pdf_once(
        _render_record(practice, rows),
        folder=f"{RECORD_ENTRIES}/{agreement_id}",
        title="Register van verwerkingen",
        author=practice.name,
    )


def _record_pdfs(
    practice: Practice, agreements: QuerySet[Agreement]
) -> Iterator[tuple[str, Iterator[bytes]]]:
    signed = art30.signed_agreements(agreements)
    total = art30.record_count(agreements)
    parts = max(1, -(-signed.count() // RECORD_AGREEMENTS_PER_PDF))
    # By agreement, so that each agreement's entries are one kept PDF; each row starts with
    # its agreement's public id.
    groups = (
        [[public_id, *row] for row in entries]
        for public_id, entries in art30.record_groups(agreements)
    )
    for part in range(1, parts + 1):
        chunk = list(itertools.islice(groups, RECORD_AGREEMENTS_PER_PDF))
        name = f"{RECORD}.pdf" if parts == 1 else f"{RECORD}-{part:03d}.pdf"
        yield name, _record_pdf(practice, chunk, part=part, parts=parts, total=total)


# The sealed addenda of an agreement go in beside it.
SEALED_ADDENDA = Addendum.objects.exclude(final_sha256="").defer("document_pdf").order_by("number")


def dossier_members(
    practice: Practice, agreements: QuerySet[Agreement], breaches: QuerySet[Breach]
) -> Iterator[Member]:
    """The members of a dossier of `agreements` and `breaches`, all of `practice`."""
    archived = (
        agreements.exclude(final_sha256="")
        .select_related("declaration")
        .prefetch_related(Prefetch("addenda", queryset=SEALED_ADDENDA))
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
        for addendum in agreement.addenda.all():
            yield _archived_file(
                f"{ADDENDA}/{name}-addendum-{addendum.number}.pdf",
                addendum.final_pdf,
                addendum.final_sha256,
                what=f"addendum {addendum.public_id}",
            )
    yield f"{RECORD}.csv", _record_csv(agreements)
    yield from _record_pdfs(practice, agreements)
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
