"""Reading a PDF's text in tests, as a reader's software would (pypdf's extraction).

Extraction is slow (about a tenth of a second for the ten-page agreement) and many tests
read the same document: the renders are shared (see `_each_html_laid_out_once` in
conftest.py), so the same bytes come back. The text of a PDF is kept by its bytes.
"""

import functools
import io

from pypdf import PdfReader


@functools.lru_cache(maxsize=64)
def page_texts(pdf: bytes) -> tuple[str, ...]:
    """The text of each page of `pdf`, as pypdf extracts it."""
    return tuple(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_text(pdf: bytes) -> str:
    """All of `pdf`'s text with its whitespace collapsed: lines wrap wherever a page or a
    table cell is full."""
    return " ".join(" ".join(page_texts(pdf)).split())
