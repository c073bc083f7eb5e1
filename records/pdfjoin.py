"""Join many small PDFs into one without reading them again: the processing record is a
cover and a thousand agreements' entries, each a PDF of its own (records.record_entries).

pypdf joins by parsing every piece and copying each object into a writer, which in pure
Python costs about 30 ms a piece (most of a large export). Here each piece is parsed once,
when it is kept, into a *part*: its pages and every object they reach, serialised, with the
places where an object refers to another left open. Joining parts then only numbers their
objects after those already written and fills in those references: the bytes are written
as they come, so a record of any length streams in flat memory.

The pages keep everything they show (content, fonts, images, colour spaces); what belongs
to a document as a whole (its outline, PDF/A metadata) is not carried over, as with pypdf.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# A part's file: this line, a JSON line with its layout, then the bytes of its objects.
MAGIC = b"avg-portal pdf part 1\n"
# Within a part, objects are numbered from 1; 0 stands for the page tree the pages join.
PARENT = 0


class PartError(ValueError):
    """Bytes that are not a part this module wrote."""


@dataclass(frozen=True)
class Part:
    """The pages of one PDF, ready to join. `body` holds the bytes of its objects, 1, 2, ...
    one after the other; `layout` says for each how they are cut: the length of a piece of
    bytes, the number of the object referred to after it, the length of the next piece,
    and so on, ending with a length."""

    pages: tuple[int, ...]
    layout: tuple[tuple[int, ...], ...]
    body: bytes | memoryview

    @classmethod
    def of(cls, pages: tuple[int, ...], objects: list[list[bytes | int]]) -> Part:
        layout = tuple(
            tuple(piece if isinstance(piece, int) else len(piece) for piece in pieces)
            for pieces in objects
        )
        body = b"".join(piece for pieces in objects for piece in pieces if isinstance(piece, bytes))
        return cls(pages=pages, layout=layout, body=body)

    def dumps(self) -> bytes:
        header = json.dumps({"pages": self.pages, "layout": self.layout}, separators=(",", ":"))
        return MAGIC + header.encode() + b"\n" + bytes(self.body)

    @classmethod
    def loads(cls, data: bytes) -> Part:
        if not data.startswith(MAGIC):
            raise PartError("not a PDF part")
        end = data.find(b"\n", len(MAGIC))
        try:
            header = json.loads(data[len(MAGIC) : end])
            pages = tuple(header["pages"])
            layout = tuple(tuple(row) for row in header["layout"])
        except (ValueError, KeyError, TypeError) as error:
            raise PartError("a PDF part with a damaged layout") from error
        body = memoryview(data)[end + 1 :]
        if end < 0 or sum(sum(row[::2]) for row in layout) != len(body):
            raise PartError("a PDF part of the wrong length")
        count = len(layout)
        if not all(0 < page <= count for page in pages) or not all(
            len(row) % 2 and all(0 <= ref <= count for ref in row[1::2]) for row in layout
        ):
            raise PartError("a PDF part that refers to objects it does not hold")
        return cls(pages=pages, layout=layout, body=body)


def part_of(pdf: bytes) -> Part:
    """The part of a whole PDF: its pages, and the objects they reach."""
    from pypdf import PdfReader  # only keeping a record entry needs it
    from pypdf.generic import IndirectObject

    reader = PdfReader(io.BytesIO(pdf))
    numbers: dict[int, int] = {}
    pending: list[IndirectObject] = []

    def local(reference: IndirectObject | None) -> int:
        if reference is None:  # a page of a PDF pypdf made, never one WeasyPrint made
            raise PartError("a page that is not an object of its own")
        if reference.idnum not in numbers:
            numbers[reference.idnum] = len(numbers) + 1
            pending.append(reference)
        return numbers[reference.idnum]

    # reader.pages has copied what pages inherit from the page tree (resources, media box)
    # onto each page, so a page needs nothing of the tree it leaves.
    pages = tuple(local(page.indirect_reference) for page in reader.pages)
    page_numbers = set(pages)
    objects: list[list[bytes | int]] = []
    while len(objects) < len(pending):
        reference = pending[len(objects)]
        out = _Pieces(local)
        value = reference.get_object()
        if numbers[reference.idnum] in page_numbers:
            out.page(value)
        else:
            out.top(value)
        objects.append(out.done())
    return Part.of(pages, objects)


class _Pieces:
    """Serialises one object, leaving its references open."""

    def __init__(self, local: Callable[[Any], int]) -> None:
        self.local = local
        self.pieces: list[bytes | int] = []
        self.buffer = io.BytesIO()

    def done(self) -> list[bytes | int]:
        self.pieces.append(self.buffer.getvalue())
        return self.pieces

    def ref(self, number: int) -> None:
        self.pieces.append(self.buffer.getvalue())
        self.pieces.append(number)
        self.buffer = io.BytesIO()

    def page(self, page: object) -> None:
        from pypdf.generic import DictionaryObject

        if not isinstance(page, DictionaryObject):
            raise PartError("a page that is not a dictionary")
        self.buffer.write(b"<<")
        for key, value in page.items():
            if key == "/Parent":
                continue
            self._entry(key, value)
        self.buffer.write(b"/Parent ")
        self.ref(PARENT)
        self.buffer.write(b" >>")

    def top(self, value: object) -> None:
        from pypdf.generic import StreamObject

        if isinstance(value, StreamObject):
            data = value._data  # the stream as stored: still compressed
            self.buffer.write(b"<<")
            for key, item in value.items():
                if key != "/Length":
                    self._entry(key, item)
            self.buffer.write(b"/Length %d>>\nstream\n" % len(data))
            self.buffer.write(data)
            self.buffer.write(b"\nendstream")
        else:
            self.value(value)

    def _entry(self, key: object, value: object) -> None:
        self.value(key)
        self.buffer.write(b" ")
        self.value(value)

    def value(self, value: object) -> None:
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject

        if isinstance(value, IndirectObject):
            self.ref(self.local(value))
        elif isinstance(value, DictionaryObject):
            self.buffer.write(b"<<")
            for key, item in value.items():
                self._entry(key, item)
            self.buffer.write(b">>")
        elif isinstance(value, ArrayObject):
            self.buffer.write(b"[")
            for index, item in enumerate(value):
                if index:
                    self.buffer.write(b" ")
                self.value(item)
            self.buffer.write(b"]")
        elif isinstance(value, PdfObject):
            # Names, numbers, strings, booleans, null: pypdf writes them as the PDF spells
            # them. (A stream inside another object cannot occur.)
            value.write_to_stream(self.buffer)
        else:
            raise PartError(f"cannot serialise {type(value).__name__}")


def join(parts: Iterable[Part], *, title: str, author: str) -> Iterator[bytes]:
    """One PDF of the pages of `parts`, in order, yielded a part at a time."""
    from pypdf.generic import TextStringObject

    # Objects 1 to 3 are the page tree, the catalog and the document information, written
    # last: only then are the pages known.
    offsets = [0, 0, 0, 0]
    kids: list[int] = []
    digest = hashlib.md5(usedforsecurity=False)
    position = 0

    def emitted(chunk: bytes) -> bytes:
        nonlocal position
        position += len(chunk)
        digest.update(chunk)
        return chunk

    yield emitted(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    for part in parts:
        base = len(offsets) - 1  # part object n becomes base + n
        out = io.BytesIO()
        body, at = part.body, 0
        for number, row in enumerate(part.layout, start=base + 1):
            offsets.append(position + out.tell())
            out.write(b"%d 0 obj\n" % number)
            out.write(body[at : at + row[0]])
            at += row[0]
            for index in range(1, len(row), 2):
                reference, length = row[index], row[index + 1]
                out.write(b"%d 0 R" % (1 if reference == PARENT else base + reference))
                out.write(body[at : at + length])
                at += length
            out.write(b"\nendobj\n")
        kids += [base + page for page in part.pages]
        yield emitted(out.getvalue())

    def text(value: str) -> bytes:
        written = io.BytesIO()
        TextStringObject(value).write_to_stream(written)
        return written.getvalue()

    out = io.BytesIO()
    for number, body in (
        (1, b"<</Type /Pages /Count %d /Kids [%s]>>" % (len(kids), _refs(kids))),
        (2, b"<</Type /Catalog /Pages 1 0 R>>"),
        (3, b"<</Title " + text(title) + b" /Author " + text(author) + b">>"),
    ):
        offsets[number] = position + out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    yield emitted(out.getvalue())

    start = position
    identifier = digest.hexdigest().encode()
    table = io.BytesIO()
    table.write(b"xref\n0 %d\n0000000000 65535 f \n" % len(offsets))
    for offset in offsets[1:]:
        table.write(b"%010d 00000 n \n" % offset)
    table.write(
        b"trailer\n<</Size %d /Root 2 0 R /Info 3 0 R /ID [<%s> <%s>]>>\nstartxref\n%d\n%%%%EOF\n"
        % (len(offsets), identifier, identifier, start)
    )
    yield table.getvalue()


def _refs(numbers: list[int]) -> bytes:
    return b" ".join(b"%d 0 R" % number for number in numbers)
