"""File names for downloads: readable (the client's name, with its accents) for browsers that
understand RFC 6266, and a plain ASCII fallback for the rest."""

import re
import unicodedata
from urllib.parse import quote

from django.utils.text import slugify


def name_part(text: str) -> str:
    """A piece of a file name from free text: 'Zoë Ünal-Brontë' → 'zoë-ünal-brontë'."""
    return slugify(text, allow_unicode=True) or "x"


def attachment(filename: str) -> str:
    """The Content-Disposition header that downloads `filename`."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-") or "download"
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
