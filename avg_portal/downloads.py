"""Downloads: file names readable (the client's name, with its accents) for browsers that
understand RFC 6266 with a plain ASCII fallback for the rest, and stored files sent at the
front server's speed.

A view checks who asks and that the stored file is intact first; `stored_file_response`
then hands the sending to the front server when `settings.SENDFILE` says how (nginx or
Caddy read the file from disk, S3 serves a presigned URL), or streams it from storage in
chunks, never reading the whole file into memory. `front_server_link` makes the signed link
that nginx checks and answers by itself, for the pages that offer a sealed document.
"""

import base64
import hashlib
import re
import time
import unicodedata
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseBase, HttpResponseRedirect
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


def stored_file_response(field: FieldFile, *, filename: str, content_type: str) -> HttpResponseBase:
    """The response that sends the stored file of `field` as the download `filename`. Only
    after the caller checked access and integrity: from here on, nothing is checked."""
    name = field.name or ""
    disposition = attachment(filename)
    if settings.SENDFILE == "signed-url":
        # The bucket answers the browser itself, with these headers; the link works for a
        # minute, so a copied link is of little use to anyone else.
        # An S3Storage (django-storages): its url() takes these; importing its class needs
        # boto3, which only the `s3` extra installs.
        storage: Any = field.storage
        url = storage.url(
            name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
            },
            expire=settings.SENDFILE_URL_SECONDS,
        )
        redirect = HttpResponseRedirect(url)
        redirect["Cache-Control"] = "no-store"
        return redirect
    if settings.SENDFILE in ("x-accel-redirect", "x-sendfile"):
        # An empty body: the front server replaces it with the file and sets its length.
        response: HttpResponseBase = HttpResponse(content_type=content_type)
        if settings.SENDFILE == "x-accel-redirect":
            response["X-Accel-Redirect"] = settings.SENDFILE_PREFIX + quote(name, safe="/")
        else:
            response["X-Sendfile"] = field.storage.path(name)
    else:
        response = FileResponse(field.storage.open(name, "rb"), content_type=content_type)
    response["Content-Disposition"] = disposition
    return response


# What nginx hashes to check a signed link (deploy/nginx.conf, secure_link_md5): the same
# text, in the same order, as `front_server_link` below.
LINK_MD5 = "$arg_avg_e|$uri|$arg_avg_f|$cookie_sessionid|$avg_link_secret"
# The download's name, avg_n, is not signed: nginx names the download with it only when it
# is percent-encoded text (as `quote` makes it), and otherwise not at all.
LINK_DOWNLOAD_NAME_PATTERN = r"^[A-Za-z0-9%._~-]{1,1000}$"

# Stored names that go into a signed link as they are: nginx compares and uses the query's
# text undecoded, so a name that would need escaping gets no such link (none of ours does),
# nor one with "..". nginx checks the same pattern, so that even a link signed with a leaked
# secret cannot name a file outside the media folder.
LINK_NAME_PATTERN = r"^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9_./-]*$"
LINK_NAME = re.compile(LINK_NAME_PATTERN)
# What nginx requires of its copy of the secret (as the settings do of the app's): an empty
# one, a slip in making the file, would let anyone make links.
LINK_SECRET_PATTERN = r"^[A-Za-z0-9_-]{32,}$"  # noqa: S105 (a pattern)


def front_server_link(
    path: str, name: str, *, filename: str, session_key: str | None, now: float | None = None
) -> str | None:
    """`path` (the app's own download address) with a query that nginx checks itself
    (deploy/nginx.conf, secure_link) and answers by sending the stored file `name` as the
    download `filename` (as RFC 6266's `filename*` only: nginx does not add the ASCII
    fallback that `attachment` does), or None where no such link can be made.

    Only after the caller checked access and integrity, like `stored_file_response`: nginx
    trusts the link until it expires (SENDFILE_URL_SECONDS), and only with the session
    cookie of the page that got it. A link that is expired, altered, or asked for with
    another session is not answered by nginx: the request goes to the app, which checks
    everything again, as for the plain address.

    nginx's secure_link knows one hash, MD5 over the text and the secret. Nothing a coach
    can influence is in that text (the download's name, from the client's name, is not
    signed; see LINK_DOWNLOAD_NAME_PATTERN): the expiry, the address, the stored name (made
    by the app) and the session key (random), so that no MD5 collision of her making can
    change what a link opens."""
    secret = settings.SENDFILE_LINK_SECRET
    if not (secret and session_key and LINK_NAME.fullmatch(name)):
        return None
    expires = int(time.time() if now is None else now) + settings.SENDFILE_URL_SECONDS
    shown = quote(filename, safe="")
    text = "|".join((str(expires), path, name, session_key, secret))
    digest = hashlib.md5(text.encode(), usedforsecurity=True).digest()  # noqa: S324 (above)
    key = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"{path}?avg_e={expires}&avg_f={name}&avg_n={shown}&avg_k={key}"
