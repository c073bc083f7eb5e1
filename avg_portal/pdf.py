"""HTML to PDF with WeasyPrint, for every document the app prints.

WeasyPrint fetches whatever a document refers to: stylesheets, images, fonts. Our documents
carry user input, so the fetcher serves only our own static files and the data: images our
own code made (signatures), and refuses everything else: file://, the network, traversal.

WeasyPrint is imported on the first render, not with this module: it takes about a third
of a second and 40 MB, which web workers and management commands that print nothing (most
of them) should not pay. `render_pdf_once` keeps a document's PDF in storage under the
SHA-256 of its HTML, so a version is laid out once however often it is downloaded.
"""

import base64
import datetime
import functools
import hashlib
import json
import logging
import mimetypes
import ssl
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

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


@functools.cache
def _no_network() -> ssl.SSLContext:
    """The SSL context WeasyPrint's base fetcher is built with. Our fetcher never opens a
    connection, so it trusts no certificate authority at all; the default context would load
    the system's CA bundle on every render (about 40 ms) for nothing."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


_per_thread = threading.local()


def _font_config() -> Any:
    """This thread's WeasyPrint FontConfiguration, made on its first render and kept.

    WeasyPrint makes a new one for every render unless given one: it reads Fontconfig's
    configuration and font list again and opens every font anew, about a thirtieth of the
    agreement's render. Our documents declare no @font-face, so nothing accumulates in it.
    One per thread, not per process: Pango's font map is not safe to share between threads
    (the development server renders in threads)."""
    font_config = getattr(_per_thread, "font_config", None)
    if font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        font_config = _per_thread.font_config = FontConfiguration()
    return font_config


@functools.cache
def _fetcher_class() -> type:
    import weasyprint
    from weasyprint.urls import URLFetcherResponse

    class StaticFilesURLFetcher(weasyprint.URLFetcher):
        """Serves our static files and the data: URIs the caller allows, nothing else.

        `requested` lists every URL WeasyPrint asked for, served or refused.
        """

        def __init__(self, *, allowed_data_uris: Iterable[str] = ()) -> None:
            # A refusal stops the rendering: a document that silently lacks a stylesheet or
            # a signature image must never be stored as the signed agreement.
            super().__init__(fail_on_errors=True, ssl_context=_no_network())
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
            if "base64" in parameters:
                body = base64.b64decode(payload)
            else:
                body = unquote_to_bytes(payload)
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

    return StaticFilesURLFetcher


def __getattr__(name: str) -> Any:
    # `pdf.StaticFilesURLFetcher`, made on first use so that importing this module does not
    # import WeasyPrint.
    if name == "StaticFilesURLFetcher":
        return _fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _fetcher_class()(allowed_data_uris=allowed_data_uris)
    try:
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT, font_config=_font_config()
        )
    except FatalURLFetchingError as error:
        # WeasyPrint's fatal error is a BaseException, which nothing upstream would catch.
        raise PdfError(str(error.__cause__ or error)) from error
    document.metadata.title = title
    document.metadata.authors = [author]
    document.metadata.lang = lang
    pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return pdf


# Rendered documents kept in storage -------------------------------------------------------

# Kept drafts not written for this long are removed by `manage.py draft_pdfs_cleanup`: they
# hold client data, and a draft that changed since has a newer one anyway.
KEEP_RENDERS = datetime.timedelta(days=7)
RENDERS_FOLDER = "renders"
# The print stylesheets whose content goes into every key (see `render_key`).
PRINT_STYLESHEETS = ("css/agreement-print.css", "css/breach-print.css")


@functools.cache
def _stylesheets_sha256() -> str:
    """Our print stylesheets' hash, read once per process: a deployment that changes how
    documents look must not serve PDFs laid out with the old ones, and in development the
    HTML names the stylesheets without a content hash."""
    digest = hashlib.sha256()
    for relative in PRINT_STYLESHEETS:
        path = find_static_file(relative)
        digest.update(path.read_bytes() if path else b"")
    return digest.hexdigest()


def render_key(
    html: str, *, title: str, author: str, lang: str, allowed_data_uris: Iterable[str]
) -> str:
    """The SHA-256 of everything a render depends on: the same key, the same PDF."""
    material = json.dumps(
        [_stylesheets_sha256(), html, title, author, lang, sorted(allowed_data_uris)],
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode()).hexdigest()


def render_pdf_once(
    html: str,
    *,
    folder: str,
    title: str,
    author: str,
    lang: str = "nl",
    allowed_data_uris: Iterable[str] = (),
) -> bytes:
    """`render_pdf`, kept in storage as `renders/<folder>/<key>.pdf`: the first call
    renders, later calls with the same HTML read the stored file. `folder` names one
    document, so that keeping a new version removes the versions before it: a draft keeps
    one PDF however often it changed."""
    allowed = list(allowed_data_uris)
    key = render_key(html, title=title, author=author, lang=lang, allowed_data_uris=allowed)
    directory = f"{RENDERS_FOLDER}/{folder.strip('/')}"
    name = f"{directory}/{key}.pdf"
    kept = False
    try:
        with default_storage.open(name, "rb") as stored:
            content: bytes = stored.read()
        kept = True
        if is_whole_pdf(content):
            return content
    except OSError:  # not rendered yet: FileNotFoundError, or S3's "does not exist"
        pass
    content = render_pdf(html, title=title, author=author, lang=lang, allowed_data_uris=allowed)
    # A kept file that is empty or cut short (a full disk while it was written) goes first.
    keep_render(directory, name, content, replace=kept)
    return content


def is_whole_pdf(content: bytes) -> bool:
    """Whether `content` is a PDF written to its end, not a file cut short while it was
    stored (WeasyPrint's end with %%EOF)."""
    return content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")


def keep_render(directory: str, name: str, content: bytes, *, replace: bool = False) -> None:
    """Store `content` as `name` and remove the older versions beside it. Two requests that
    render the same version at once both store it; the storage gives the second copy
    another name, and it goes with the older versions. `replace`: a file of this name is
    kept already but could not be read (a damaged copy), and goes first. A storage that
    fails is logged: the caller has its content, and the next call lays it out again."""
    try:
        if replace:
            default_storage.delete(name)
        stored = default_storage.save(name, ContentFile(content))
        for other in default_storage.listdir(directory)[1]:
            if f"{directory}/{other}" != name:
                default_storage.delete(f"{directory}/{other}")
        if stored != name:
            default_storage.delete(stored)
    except OSError:
        logger.exception("Could not keep the render %s", name)
        # What a full disk left of it is no render: the next call lays it out again.
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("Could not remove the incomplete render %s", name)


def forget_renders(folder: str) -> None:
    """Remove every kept PDF of one document (a deleted draft)."""
    directory = f"{RENDERS_FOLDER}/{folder.strip('/')}"
    try:
        names = default_storage.listdir(directory)[1]
    except OSError:  # nothing kept
        return
    for other in names:
        default_storage.delete(f"{directory}/{other}")


def remove_old_renders(folder: str, *, now: datetime.datetime | None = None) -> int:
    """Remove the kept PDFs under `folder` written more than KEEP_RENDERS ago; returns how
    many."""
    cutoff = (now or timezone.now()) - KEEP_RENDERS
    try:
        names = _walk(f"{RENDERS_FOLDER}/{folder.strip('/')}")
    except OSError:  # nothing kept yet
        return 0
    old = [name for name in names if default_storage.get_modified_time(name) < cutoff]
    for name in old:
        default_storage.delete(name)
    return len(old)


def _walk(directory: str) -> list[str]:
    subfolders, files = default_storage.listdir(directory)
    names = [f"{directory}/{name}" for name in files]
    for sub in subfolders:
        names += _walk(f"{directory}/{sub}")
    return names
