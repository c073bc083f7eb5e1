"""HTML to PDF with WeasyPrint, for every document the app prints.

WeasyPrint fetches whatever a document refers to: stylesheets, images, fonts. Our documents
carry user input, so the fetcher serves only our own static files and the data: images our
own code made (signatures), and refuses everything else: file://, the network, traversal.
"""

import base64
import logging
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse

logger = logging.getLogger(__name__)

# Documents are a few hundred kilobytes at most; anything far larger is a mistake or an
# attack that would tie up a worker for minutes.
MAX_HTML_BYTES = 2 * 1024 * 1024

# Relative URLs such as /static/css/x.css are resolved against this origin. The .invalid
# top-level domain never resolves, and the fetcher serves nothing outside it.
BASE_URL = "https://avg-portal.invalid/"

# PDF/A-3b: an archival PDF with all fonts embedded, that can carry attachments.
PDF_VARIANT = "pdf/a-3b"


class PdfError(Exception):
    """The document cannot be rendered; the message says why."""


class DocumentTooLarge(PdfError):
    pass


class URLRefused(ValueError):
    """The document refers to something outside our static files."""


class StaticFilesURLFetcher(weasyprint.URLFetcher):
    """Serves our static files and the data: URIs the caller allows, nothing else.

    `requested` lists every URL WeasyPrint asked for, served or refused.
    """

    def __init__(self, *, allowed_data_uris: Iterable[str] = ()) -> None:
        # A refusal stops the rendering: a document that silently lacks a stylesheet or a
        # signature image must never be stored as the signed agreement.
        super().__init__(fail_on_errors=True)
        self.allowed_data_uris = frozenset(allowed_data_uris)
        self.requested: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        self.requested.append(url)
        if url.startswith("data:"):
            return self._data_uri(url)
        return self._static_file(url)

    def _data_uri(self, url: str) -> URLFetcherResponse:
        if url not in self.allowed_data_uris:
            raise self._refuse(url, "a data: URI the caller did not allow")
        header, _comma, payload = url.removeprefix("data:").partition(",")
        media_type, *parameters = header.split(";")
        body = base64.b64decode(payload) if "base64" in parameters else unquote_to_bytes(payload)
        return URLFetcherResponse(url, body, {"Content-Type": media_type or "text/plain"})

    def _static_file(self, url: str) -> URLFetcherResponse:
        try:
            parts = urlsplit(url)
        except ValueError:
            raise self._refuse(url, "not a valid URL") from None
        static_prefix = "/" + urlsplit(settings.STATIC_URL).path.strip("/") + "/"
        if (
            f"{parts.scheme}://{parts.netloc}/" != BASE_URL
            or not parts.path.startswith(static_prefix)
            or parts.query
        ):
            raise self._refuse(url, "not one of our static files")
        path = find_static_file(unquote(parts.path.removeprefix(static_prefix)))
        if path is None:
            raise self._refuse(url, "no such static file")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def _refuse(self, url: str, reason: str) -> URLRefused:
        shown = url if len(url) <= 120 else f"{url[:120]}…"
        logger.warning("PDF rendering refused to fetch %s: %s", shown, reason)
        return URLRefused(f"Refused to fetch {shown}: {reason}.")


def find_static_file(relative_path: str) -> Path | None:
    """The file of a static path such as css/app.css, or None; never a file outside the
    static directories (the path is checked before any finder sees it)."""
    segments = relative_path.split("/")
    if any(segment in ("", ".", "..") for segment in segments) or any(
        character in relative_path for character in ("\\", "\x00")
    ):
        return None
    found = finders.find(relative_path)
    if found:
        return Path(found)
    # In production the manifest storage refers to hashed copies that exist only there.
    if settings.STATIC_ROOT:
        root = Path(settings.STATIC_ROOT).resolve()
        candidate = root.joinpath(*segments).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    return None


def render_pdf(
    html: str,
    *,
    title: str,
    author: str,
    lang: str = "nl",
    allowed_data_uris: Iterable[str] = (),
) -> bytes:
    """The PDF of `html`, an archival PDF/A-3b with the given metadata.

    `allowed_data_uris` are the exact data: URIs (images our code made) the document may
    embed; any other data: URI is refused like any other foreign URL.
    """
    size = len(html.encode())
    if size > MAX_HTML_BYTES:
        raise DocumentTooLarge(
            f"The document is {size} bytes of HTML; at most {MAX_HTML_BYTES} can be printed."
        )
    fetcher = StaticFilesURLFetcher(allowed_data_uris=allowed_data_uris)
    try:
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT
        )
    except FatalURLFetchingError as error:
        # WeasyPrint's fatal error is a BaseException, which nothing upstream would catch.
        raise PdfError(str(error.__cause__ or error)) from error
    document.metadata.title = title
    document.metadata.authors = [author]
    document.metadata.lang = lang
    pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
