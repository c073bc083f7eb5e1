"""Reading a PDF's text in tests, as a reader's software would: poppler's pdftotext, in the
order the text is drawn (`-raw`, the order a screen reader and copy-and-paste follow; the
running header and footer come after each page's text).

pdftotext is about ten times as fast as pypdf's extraction, which took a tenth of a second
for the ten-page agreement and a tenth of the suite. Many tests read the same document: the
renders are shared (see `_each_html_laid_out_once` in conftest.py), so the same bytes come
back, and the text of a PDF is kept by its bytes.
"""

import functools
import shutil
import subprocess

# Debian's poppler-utils (`make test` installs it with the other system packages).
PDFTOTEXT = shutil.which("pdftotext")


@functools.lru_cache(maxsize=64)
def page_texts(pdf: bytes) -> tuple[str, ...]:
    """The text of each page of `pdf`."""
    assert PDFTOTEXT, "pdftotext is missing: sudo apt-get install poppler-utils"
    text = subprocess.run(
        [PDFTOTEXT, "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    # Each page ends with a form feed.
    return tuple(text.split("\f")[:-1])


def pdf_text(pdf: bytes) -> str:
    """All of `pdf`'s text with its whitespace collapsed: lines wrap wherever a page or a
    table cell is full."""
    return " ".join(" ".join(page_texts(pdf)).split())
