"""Signed download links that nginx answers by itself (DJANGO_SENDFILE_LINK_SECRET): the
page that offers a sealed document checks who asks and that the file is intact, and gives a
link that nginx checks with its secure_link module and serves from disk. Anything else, that
address without a valid link included, goes to the app and is checked there again.

The link's hash is checked here against nginx itself: nginx runs on loopback with the
bench's configuration, whose lines for these links are deploy/nginx.conf's, in front of the
test's live server."""

import base64
import hashlib
import html
import http.client
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.core import signals
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from agreements.models import Agreement
from avg_portal.downloads import (
    LINK_DOWNLOAD_NAME_PATTERN,
    LINK_MD5,
    LINK_NAME_PATTERN,
    LINK_SECRET_PATTERN,
    attachment,
    front_server_link,
)

from .conftest import login_verified
from .test_downloads import SEALED, tamper

pytestmark = pytest.mark.usefixtures("render_once")

SECRET = "test-link-secret-" + "x" * 32
DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"
LINK = re.compile(r'href="(/agreements/[^"]*\?[^"]*avg_k=[^"]*)"')


@pytest.fixture
def linking(settings):
    settings.SENDFILE = "x-accel-redirect"
    settings.SENDFILE_PREFIX = "/protected/"
    settings.SENDFILE_LINK_SECRET = SECRET
    settings.SENDFILE_URL_SECONDS = 60


@pytest.fixture
def sealed(coach):
    from .test_downloads import sealed as make_sealed

    return make_sealed.__wrapped__(coach)


def nginx_key(link, session_key, secret=SECRET):
    """What nginx computes for `link`: LINK_MD5 with the query's raw (undecoded) values,
    the path, the session cookie and the secret, MD5, base64url without padding."""
    parts = urlsplit(link)
    args = dict(parse_qsl(parts.query, keep_blank_values=True))
    raw = dict(part.split("=", 1) for part in parts.query.split("&"))
    values = {
        "$arg_avg_e": raw["avg_e"],
        "$uri": parts.path,
        "$arg_avg_f": raw["avg_f"],
        "$cookie_sessionid": session_key,
        "$arg_avg_n": raw["avg_n"],
        "$avg_link_secret": secret,
    }
    text = LINK_MD5
    for name in sorted(values, key=len, reverse=True):
        text = text.replace(name, values[name])
    digest = hashlib.md5(text.encode(), usedforsecurity=True).digest()  # noqa: S324
    assert args["avg_k"] == raw["avg_k"]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def page_link(client, agreement):
    page = client.get(reverse("agreement_detail", args=[agreement.public_id])).content.decode()
    found = LINK.search(page)
    return html.unescape(found.group(1)) if found else None


def test_the_page_of_a_sealed_agreement_links_to_it_signed_for_this_session(
    linking, sealed, coach_client
):
    link = page_link(coach_client, sealed)

    assert link is not None
    assert link.startswith(reverse("agreement_pdf", args=[sealed.public_id]) + "?")
    args = dict(parse_qsl(urlsplit(link).query))
    assert args["avg_f"] == sealed.final_pdf.name
    assert args["avg_n"] == sealed.download_name()
    assert 55 <= int(args["avg_e"]) - time.time() <= 60
    session_key = coach_client.cookies["sessionid"].value
    assert args["avg_k"] == nginx_key(link, session_key)
    assert args["avg_k"] != nginx_key(link, session_key, secret="another-" + "y" * 32)


def test_no_signed_link_without_the_secret_a_seal_or_an_intact_file(
    linking, settings, sealed, coach_client, coach
):
    from .factories import make_agreement

    draft = make_agreement(coach.practice)
    assert page_link(coach_client, draft) is None
    assert (
        b"avg_k="
        not in coach_client.get(reverse("agreement_detail", args=[draft.public_id])).content
    )

    tamper(sealed)
    assert page_link(coach_client, sealed) is None
    assert coach_client.get(reverse("agreement_pdf", args=[sealed.public_id])).status_code == 409

    settings.SENDFILE_LINK_SECRET = ""
    assert page_link(coach_client, Agreement.objects.get(pk=sealed.pk)) is None


@pytest.mark.parametrize("name", ["a/../b.pdf", "a b.pdf", "/etc/passwd", "a?b.pdf", "a&x=1"])
def test_a_stored_name_that_would_need_escaping_gets_no_link(linking, name):
    assert front_server_link("/x/pdf/", name, filename="x.pdf", session_key="k" * 32) is None
    assert front_server_link("/x/pdf/", "a/b.pdf", filename="x.pdf", session_key=None) is None
    assert front_server_link("/x/pdf/", "a/b.pdf", filename="x.pdf", session_key="k" * 32)


def test_deploy_config_checks_links_as_the_app_signs_them(tmp_path):
    from bench.http import nginx_config

    deployed = DEPLOY.read_text()
    bench = nginx_config(tmp_path, 1, 2, Path("/m"), Path("/s"))
    for config in (deployed, bench):
        assert f'secure_link_md5 "{LINK_MD5}";' in config
        assert "secure_link $arg_avg_k,$arg_avg_e;" in config
        assert re.search(r"rewrite \^ /protected/\$arg_avg_f last;", config)
        assert "add_header Content-Disposition $avg_link_disposition;" in config
        assert f'"~{LINK_SECRET_PATTERN}" 1;' in config
        assert f'"~{LINK_NAME_PATTERN}" 1;' in config
        assert "if ($avg_link_serve) {" in config
        assert '"$avg_link_secret_ok$avg_link_name_ok$secure_link" $avg_link_serve' in config
        assert "map $avg_link_secret $avg_link_secret_ok {" in config
        assert f'"~{LINK_DOWNLOAD_NAME_PATTERN}" "attachment; filename*=UTF-8' in config
    # nginx binds a link to the session by the cookie's name.
    assert f"$cookie_{settings.SESSION_COOKIE_NAME}|" in LINK_MD5


# nginx in front of the live server -------------------------------------------------------


def nginx_binary():
    from bench.http import nginx_binary as found

    binary = found()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (make test installs nginx-light)")
        pytest.skip("nginx is not installed: sudo apt-get install nginx-light")
    return binary


@pytest.fixture
def start_nginx(live_server, settings, tmp_path):
    """Starts nginx in front of the live server, with the bench's configuration and the
    given secret; its port. Stopped after the test."""
    from bench.http import nginx_config
    from bench.scale import free_port

    binary = nginx_binary()
    upstream = int(urlsplit(live_server.url).port)
    media = Path(settings.MEDIA_ROOT)
    started = []

    def start(secret=SECRET):
        directory = tmp_path / f"nginx-{len(started)}"
        (directory / "static").mkdir(parents=True)
        port = free_port()
        config = directory / "nginx.conf"
        config.write_text(
            nginx_config(directory, port, upstream, media, directory / "static", secret)
        )
        argv = [binary, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(config)]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        started.append(process)
        deadline = time.monotonic() + 10
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                return port
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"nginx did not start: {process.stderr.read().decode()}")
                time.sleep(0.05)

    yield start
    for process in started:
        process.terminate()
        process.wait(10)


@pytest.fixture
def nginx(start_nginx):
    return start_nginx()


@pytest.fixture
def app_requests():
    """The paths the app was asked for (the live server runs in this process)."""
    asked = []

    def record(sender, environ, **kwargs):
        asked.append(environ["PATH_INFO"])

    signals.request_started.connect(record)
    yield asked
    signals.request_started.disconnect(record)


def fetch(port, path, session_key=""):
    """A GET through nginx, as the bench sends it, with the session's cookie if any."""
    from bench.http import get

    return get(port, path, f"sessionid={session_key}" if session_key else "")


def sealed_on_disk(coach):
    """A sealed agreement as the completion step leaves it, without rendering and sealing
    (as tests/test_downloads.py's fixture, in a transactional test)."""
    from django.utils import timezone

    from .factories import make_agreement

    agreement = make_agreement(coach.practice)
    name = default_storage.save(f"agreements/test/{agreement.public_id}.pdf", ContentFile(SEALED))
    Agreement.objects.filter(pk=agreement.pk).update(
        status="signed",
        document_sha256="0" * 64,
        final_pdf=name,
        final_sha256=hashlib.sha256(SEALED).hexdigest(),
        completed_at=timezone.now(),
    )
    return Agreement.objects.get(pk=agreement.pk)


def forged(path, name, session_key, *, secret=SECRET):
    """A link to `path` naming the stored file `name`, signed with `secret` as nginx checks
    it: what someone who knows the secret could make."""
    link = f"{path}?avg_e={int(time.time()) + 60}&avg_f={name}&avg_n=x.pdf&avg_k="
    return link + nginx_key(link, session_key, secret)


def session_of(client):
    return client.cookies["sessionid"].value


@pytest.mark.django_db(transaction=True)
def test_nginx_answers_a_valid_link_and_hands_every_other_request_to_the_app(
    linking, settings, nginx, app_requests, client, coach, stranger, django_user_model
):
    from django.test import Client

    agreement = sealed_on_disk(coach)
    name = agreement.final_pdf.name
    other = default_storage.save("agreements/test/other.pdf", ContentFile(b"%PDF other"))
    coach_client = login_verified(client, coach)
    session = session_of(coach_client)
    pdf_path = reverse("agreement_pdf", args=[agreement.public_id])
    link = page_link(coach_client, agreement)
    assert link is not None

    # The link, with the session it was made for: nginx sends the file; the app is not asked.
    app_requests.clear()
    response, body = fetch(nginx, link, session)
    assert response.status == 200
    assert body == SEALED
    assert response.getheader("Content-Type") == "application/pdf"
    assert response.getheader("Content-Disposition") == (
        "attachment; filename*=UTF-8''" + link.split("avg_n=", 1)[1].split("&", 1)[0]
    )
    assert response.getheader("Cache-Control") == "private, no-store"
    assert app_requests == []

    # The same link without a session, or with another coach's: the app answers, as for the
    # plain address: the login page, or not found.
    response, body = fetch(nginx, link)
    assert response.status == 302
    assert "/account/login/" in response.getheader("Location")
    stranger_client = login_verified(Client(), stranger)
    response, body = fetch(nginx, link, session_of(stranger_client))
    assert response.status == 404
    assert app_requests == [pdf_path, pdf_path]

    # Altered: another stored file, another name, a later expiry. The app checks and sends
    # this agreement's own file (X-Accel-Redirect), named by the app.
    altered = [
        link.replace(f"avg_f={name}", f"avg_f={other}"),
        re.sub(r"avg_e=\d+", lambda m: f"avg_e={int(m.group(0)[6:]) + 3600}", link),
        link.replace(f"avg_k={dict(parse_qsl(urlsplit(link).query))['avg_k']}", "avg_k=x"),
    ]
    for path in altered:
        assert path != link
        app_requests.clear()
        response, body = fetch(nginx, path, session)
        assert (response.status, body) == (200, SEALED), path
        assert app_requests == [pdf_path]
        assert response.getheader("Content-Disposition") == attachment(agreement.download_name())

    # The download's name is not signed: the link's owner may rename her own download, and
    # nginx names it only with percent-encoded text (no header injection, no quotes).
    for shown, header in [
        ("nieuwe-naam.pdf", "attachment; filename*=UTF-8''nieuwe-naam.pdf"),
        (
            "x%0d%0aSet-Cookie%3a%20a%3db",
            "attachment; filename*=UTF-8''x%0d%0aSet-Cookie%3a%20a%3db",
        ),
        ('x"%3b%20filename="y.exe', None),
        ("x%0d%0aSet-Cookie:a=b", None),
    ]:
        app_requests.clear()
        response, body = fetch(nginx, re.sub(r"avg_n=[^&]*", f"avg_n={shown}", link), session)
        assert (response.status, body) == (200, SEALED), shown
        assert response.getheader("Content-Disposition") == header
        assert response.getheader("Set-Cookie") is None
        assert app_requests == []

    # Expired: the app again, which checks the file first: a changed file is refused.
    settings.SENDFILE_URL_SECONDS = -1
    expired = page_link(coach_client, agreement)
    assert expired is not None
    app_requests.clear()
    response, body = fetch(nginx, expired, session)
    assert (response.status, body) == (200, SEALED)
    assert app_requests == [pdf_path]
    tamper(agreement)
    response, body = fetch(nginx, expired, session)
    assert response.status == 409
    assert SEALED not in body


@pytest.mark.django_db(transaction=True)
def test_nginx_answers_no_link_outside_the_media_folder_or_with_an_empty_secret(
    linking, settings, start_nginx, app_requests, client, coach
):
    agreement = sealed_on_disk(coach)
    outside = Path(settings.MEDIA_ROOT).parent / "outside.pdf"
    outside.write_bytes(b"%PDF not a stored document")
    session = session_of(login_verified(client, coach))
    path = reverse("agreement_pdf", args=[agreement.public_id])
    port = start_nginx()

    # Signed with the right secret, as with a leaked one: no name with ".." is answered by
    # nginx; the app sends the agreement's own file.
    for name in (
        "../outside.pdf",
        "agreements/../../outside.pdf",
        "agreements/..%2F..%2Foutside.pdf",
    ):
        app_requests.clear()
        response, body = fetch(port, forged(path, name, session), session)
        assert (response.status, body) == (200, SEALED), name
        assert app_requests == [path]

    # nginx with an empty secret (a slip in making its file): a link signed with nothing
    # would open every file to anyone; it goes to the app instead, which wants a login.
    empty = start_nginx(secret="")
    app_requests.clear()
    response, body = fetch(empty, forged(path, agreement.final_pdf.name, "x", secret=""), "x")
    assert response.status == 302
    assert SEALED not in body
    assert app_requests == [path]
    # The same nginx with the real secret answers the real link (the check above is not
    # simply a broken nginx).
    app_requests.clear()
    response, body = fetch(port, forged(path, agreement.final_pdf.name, session), session)
    assert (response.status, body) == (200, SEALED)
    assert app_requests == []
