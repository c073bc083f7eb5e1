"""Each signed agreement's entries in the processing record (records.art30), laid out once.

An agreement's entries change when it is sealed, when it ends and when a signed addendum
changes its annexes: the agreements app says so (`agreements.signals.terms_changed`, sent
after the commit) and `render_record_entry` lays them out then, in the background, so that
the dossier export only joins what is kept. The export renders what is still missing, as
for an agreement sealed before this existed, or whose entries changed in a way nothing
announces (a new address of the practice or client, an addendum that took effect today).

The entries are kept as a PDF part (records.pdfjoin) under the SHA-256 of everything they
print: the rows, the practice's name, the template and the print stylesheets. Computing it
needs no rendering, so an export finds a kept entry without laying anything out.
"""

import functools
import hashlib
import json
import logging

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.tasks import task
from django.template.loader import get_template, render_to_string
from django.utils import translation

from agreements.models import Agreement
from avg_portal import pdf
from core.models import Practice

from . import art30, pdfjoin

logger = logging.getLogger(__name__)

DOCUMENT_LANGUAGE = "nl"
TITLE = "Register van verwerkingen"
TEMPLATE = "pdf/processing_record.html"
# Where the entries are kept: one folder per agreement (its public id), which an erasure
# removes with the client (records.erasure).
RECORD_ENTRIES = "processing-record"
SUFFIX = ".part"


def render_html(practice: Practice, rows: list[list[str]], **context: object) -> str:
    """The record's HTML: `rows` as entries, in the order of art30.COLUMNS; `context` adds
    what only the cover shows."""
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(
            TEMPLATE,
            {
                "practice": practice,
                "entries": [list(zip(art30.COLUMNS, row, strict=True)) for row in rows],
                **context,
            },
        )


@functools.cache
def _template_sha256() -> str:
    """The template's source, read once per process: a deployment that changes what an
    entry prints must not join entries laid out with the old template."""
    source = get_template(TEMPLATE).template.source  # type: ignore[attr-defined]
    return hashlib.sha256(source.encode()).hexdigest()


def entry_key(practice: Practice, rows: list[list[str]]) -> str:
    """The SHA-256 of everything one agreement's entries print (see the module's note)."""
    material = json.dumps([pdfjoin.MAGIC.decode(), _template_sha256(), rows], ensure_ascii=False)
    # render_key hashes the stylesheets, title, author and language beside the material.
    return pdf.render_key(
        material, title=TITLE, author=practice.name, lang=DOCUMENT_LANGUAGE, allowed_data_uris=[]
    )


def _folder(public_id: str) -> str:
    return f"{pdf.RENDERS_FOLDER}/{RECORD_ENTRIES}/{public_id}"


def kept_part(public_id: str, key: str) -> pdfjoin.Part | None:
    """The kept entries of an agreement with this key, or None when there are none."""
    name = f"{_folder(public_id)}/{key}{SUFFIX}"
    try:
        with default_storage.open(name, "rb") as stored:
            data = stored.read()
    except OSError:  # not kept yet: FileNotFoundError, or S3's "does not exist"
        return None
    try:
        return pdfjoin.Part.loads(data)
    except pdfjoin.PartError:
        logger.warning("Kept record entries %s are damaged; laying them out again", name)
        return None


def keep(public_id: str, key: str, part: pdfjoin.Part) -> None:
    """Keep `part` as this agreement's entries, and remove the versions it replaces. Two
    runs that keep the same version at once both store it; the storage gives the second
    copy another name, and it goes with the older versions."""
    directory = _folder(public_id)
    # A file of this name that is kept already could not be read (a damaged copy).
    pdf.keep_render(directory, f"{directory}/{key}{SUFFIX}", part.dumps(), replace=True)


def render_part(practice: Practice, public_id: str, rows: list[list[str]]) -> pdfjoin.Part:
    """Lay out one agreement's entries and keep them."""
    html = render_html(practice, rows)
    part = pdfjoin.part_of(pdf.render_pdf(html, title=TITLE, author=practice.name))
    keep(public_id, entry_key(practice, rows), part)
    return part


def entry_part(
    practice: Practice, public_id: str, key: str, agreements: QuerySet[Agreement]
) -> pdfjoin.Part | None:
    """The entries of the agreement of `agreements` with this public id and `key`: kept, or
    laid out now from its current rows (None when it has none any more)."""
    part = kept_part(public_id, key)
    if part is not None:
        return part
    for _public_id, rows in art30.record_groups(agreements.filter(public_id=public_id)):
        return render_part(practice, public_id, rows)
    return None


def record_entry_keep(*, agreement_id: int) -> bool:
    """Lay out the entries of a signed agreement unless they are kept as they are now;
    returns whether it did. An agreement that is not signed (any more) has none."""
    agreements = Agreement.objects.filter(pk=agreement_id)
    practice = Practice.objects.filter(agreements__pk=agreement_id).first()
    if practice is None:
        return False
    for public_id, rows in art30.record_groups(agreements):
        if kept_part(public_id, entry_key(practice, rows)) is None:
            render_part(practice, public_id, rows)
            return True
    return False


@task
def render_record_entry(agreement_id: int) -> None:
    try:
        record_entry_keep(agreement_id=agreement_id)
    except Exception:
        # Logged here, because the immediate backend keeps a failure to itself; the export
        # lays out what is missing, so nothing is lost.
        logger.exception("Could not lay out the record entries of agreement %s", agreement_id)
        raise


def on_terms_changed(sender: object, *, agreement_id: int, **kwargs: object) -> None:
    """`agreements.signals.terms_changed`: lay the agreement's entries out again."""
    render_record_entry.enqueue(agreement_id)


def record_entries_keep_all() -> int:
    """Lay out the entries of every signed agreement that are not kept as they are now, as
    once after upgrading to a version that lays them out when sealed; returns how many."""
    rendered = 0
    for practice in Practice.objects.order_by("pk").iterator():
        agreements = Agreement.objects.filter(practice=practice)
        for public_id, rows in art30.record_groups(agreements):
            if kept_part(public_id, entry_key(practice, rows)) is None:
                render_part(practice, public_id, rows)
                rendered += 1
    return rendered
