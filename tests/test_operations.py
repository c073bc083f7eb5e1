"""What an operator relies on: health endpoints, logs without secrets, a cache that holds
rate limits across processes, and `check --deploy` naming what production still lacks."""

import datetime
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis
from django.core.files.storage import default_storage
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from agreements import signing_views
from avg_portal.observability import JsonFormatter, RequestContextFilter, scrub_event
from avg_portal.settings import cache_from_url

from .test_settings import PRODUCTION, manage

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u"


def test_healthz_answers_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_what_the_server_needs(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["state"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "storage": "ok",
        "oldest_queued_task_seconds": "ok",
        "worker_last_seen_seconds": "ok",
        "seal_certificate_days_left": "ok",
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readyz_fails_when_storage_fails_and_says_no_more(client, monkeypatch):
    default_storage._setup()

    def full_disk(storage, name, content, **kwargs):
        # What a full disk does: the file is made, and nothing fits in it.
        path = Path(storage.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        raise OSError("[Errno 28] No space left on device: /srv/avg/media/health/x.txt")

    monkeypatch.setattr(type(default_storage._wrapped), "save", full_disk)
    response = client.get("/readyz")
    assert response.status_code == 503
    storage = response.json()["checks"]["storage"]
    assert storage == {"state": "fail", "value": "OSError"}  # no paths, no details
    assert response.json()["checks"]["database"]["state"] == "ok"
    # The probe leaves no empty file behind, however often it is asked.
    client.get("/readyz")
    assert list(Path(default_storage.path("health")).iterdir()) == []


@pytest.mark.django_db
def test_readyz_fails_when_queued_work_waits_for_a_worker(client, settings):
    from django_tasks_db.models import DBTaskResult

    from agreements.signing import complete_signed_document

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    complete_signed_document.enqueue(123)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(hours=2))
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["oldest_queued_task_seconds"]["state"] == "fail"
    assert checks["oldest_queued_task_seconds"]["value"] >= 7200
    assert checks["worker_last_seen_seconds"]["state"] == "warn"


def test_every_response_has_a_request_id_and_keeps_a_proxys(client):
    own = client.get("/healthz")["X-Request-ID"]
    assert len(own) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-1234abcd")["X-Request-ID"] == (
        "proxy-1234abcd"
    )
    junk = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert junk != "<script>" and len(junk) == 32


def _record(message, *args, **extra):
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_log_lines_mask_tokens_and_carry_the_request_id():
    record = _record("Not Found: %s", f"/sign/{TOKEN}/")
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert TOKEN not in json.dumps(line)
    assert line["message"] == "Not Found: /sign/[masked]/"
    assert set(line) >= {"time", "level", "logger", "message", "request_id", "practice_id"}

    request = RequestFactory().get(f"/account/confirm/{TOKEN}/")
    record = _record("Internal Server Error: %s", request.path, request=request)
    RequestContextFilter().filter(record)
    assert record.request is None  # the error mail would print the path
    assert TOKEN not in record.getMessage()


def test_the_line_django_logs_for_a_4xx_answer_names_that_request(client, caplog):
    """Django logs a 404 after the middleware has finished with the request: the line still
    carries the id the answer went out with."""
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/bestaat-niet/")
    assert response.status_code == 404
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    RequestContextFilter().filter(record)
    assert record.request_id == response["X-Request-ID"]


def test_error_reports_carry_no_personal_data():
    event = {
        "request": {
            "method": "POST",
            "url": f"https://avg.example.nl/sign/{TOKEN}/",
            "data": {"name": "Zoë Ünal"},
            "cookies": {"sessionid": "s"},
            "headers": {"X-Forwarded-For": "203.0.113.9"},
        },
        "user": {"email": "mado@delinde.test", "ip_address": "203.0.113.9"},
        "exception": {"values": [{"stacktrace": {"frames": [{"vars": {"email": "x@y"}}]}}]},
    }
    scrubbed = json.dumps(scrub_event(event, {}))
    for secret in (TOKEN, "Zoë", "sessionid", "203.0.113.9", "mado@delinde.test", "x@y"):
        assert secret not in scrubbed
    assert "/sign/[masked]/" in scrubbed


def test_cache_urls():
    assert cache_from_url("redis://127.0.0.1:6379/2") == {
        "BACKEND": "avg_portal.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/2",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    assert cache_from_url("db://avg_cache")["LOCATION"] == "avg_cache"
    assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")


@pytest.fixture
def redis_url(settings):
    url = os.environ.get("AVG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    server = redis.Redis.from_url(url)
    try:
        server.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not running at {url}; .ci/run starts it")
        pytest.skip(f"no Redis at {url}")
    server.flushdb()
    settings.CACHES = {"default": cache_from_url(url)}
    yield url
    server.flushdb()


def test_the_redis_cache_keeps_one_client_and_works_across_threads(redis_url):
    """Values round-trip through Redis, every operation uses the one client of its pool,
    and another thread (its own cache object, as Django gives each thread) sees the values."""
    from django.core.cache import caches

    cache = caches.create_connection("default")
    cache.set("a", {"b": 1}, 60)
    assert cache.get("a") == {"b": 1}
    assert cache.add("teller", 0, 60)
    assert cache.incr("teller") == 1
    clients = {id(cache._cache.get_client()), id(cache._cache.get_client(write=True))}
    assert len(clients) == 1
    seen = []
    thread = threading.Thread(target=lambda: seen.append(caches["default"].get("a")))
    thread.start()
    thread.join()
    assert seen == [{"b": 1}]
    assert redis.Redis.from_url(redis_url).dbsize() == 2


COUNT_GUESSES = """
import django, sys
django.setup()
from django.test import RequestFactory
from agreements import signing_views
request = RequestFactory().get("/sign/x/", REMOTE_ADDR="198.51.100.77")
for _ in range(int(sys.argv[1])):
    signing_views._count_guess(request)
"""


@pytest.mark.django_db
def test_the_signing_link_guess_limit_holds_across_servers(client, redis_url, settings):
    """Another process (another gunicorn worker, another server) counts wrong links in the
    same Redis; together they reach the limit, not each on its own."""
    settings.SIGNING_LINK_GUESS_LIMIT = 20
    other_server = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "avg_portal.settings",
        "DJANGO_CACHE_URL": redis_url,
    }
    subprocess.run(
        [sys.executable, "-c", COUNT_GUESSES, "12"], cwd=ROOT, env=other_server, check=True
    )
    for attempt in range(8):
        response = client.get(
            reverse("signing_open", args=[f"{TOKEN}{attempt}"]), REMOTE_ADDR="198.51.100.77"
        )
        assert response.status_code == 404
    response = client.get(reverse("signing_open", args=[TOKEN]), REMOTE_ADDR="198.51.100.77")
    assert response.status_code == 429
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.78")
    assert not signing_views._too_many_guesses(request)  # another address is not affected


def test_the_development_seal_is_made_once_when_several_processes_ask_at_once(tmp_path, caplog):
    """On a fresh checkout the test workers, the web server and the task worker can all need
    the development seal at the same moment; each must get the same, complete pair (two
    workers once each wrote their own, and one's seals failed against the other's)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from avg_portal.seal import _development_certificate

    folder = tmp_path / "dev-seal"
    start = Barrier(4)

    def ask() -> tuple[bytes, bytes]:
        start.wait()
        cert, key = _development_certificate(folder)
        return cert.read_bytes(), key.read_bytes()

    with caplog.at_level(logging.WARNING, logger="avg_portal.seal"), ThreadPoolExecutor(4) as pool:
        pairs = list(pool.map(lambda _: ask(), range(4)))

    assert len(set(pairs)) == 1
    cert_pem, key_pem = pairs[0]
    certificate = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    made = [r for r in caplog.records if "Generated a self-signed development seal" in r.message]
    assert len(made) == 1
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "seal-cert.pem", "seal-key.pem"]


def test_check_deploy_names_what_production_lacks(tmp_path):
    from avg_portal.seal import _development_certificate

    cert, key = _development_certificate(tmp_path)
    seal = {"DJANGO_SEAL_CERT_FILE": str(cert), "DJANGO_SEAL_KEY_FILE": str(key)}
    bare = {k: v for k, v in PRODUCTION.items() if k not in _SERVICES}
    result = manage("check", "--deploy", env=bare | seal)
    for warning in ("avg_portal.W001", "avg_portal.W002", "avg_portal.W003"):
        assert warning in result.stderr, result.stderr
    assert "avg_portal.W004" not in result.stderr


def test_check_deploy_warns_before_the_seal_certificate_expires(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seal about to expire")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=300))
        .not_valid_after(now + datetime.timedelta(days=20))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    seal = {
        "DJANGO_SEAL_CERT_FILE": str(tmp_path / "cert.pem"),
        "DJANGO_SEAL_KEY_FILE": str(tmp_path / "key.pem"),
    }
    result = manage("check", "--deploy", env=PRODUCTION | seal)
    assert "avg_portal.W004" in result.stderr
    assert "expires in 19 days" in result.stderr or "expires in 20 days" in result.stderr


_SERVICES = ("DJANGO_SITE_URL", "DJANGO_TASKS_BACKEND", "DJANGO_CACHE_URL")


def test_the_favicon_is_ours_and_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.url == "/static/favicon.svg"
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get(reverse("signup")).text


@pytest.mark.django_db
def test_with_redis_unreachable_pages_answer_a_dutch_503_not_a_500(client, coach, settings):
    """Sessions and rate limits live in Redis: while it cannot be reached, every page says
    the service is briefly unavailable and that nothing was lost, with Retry-After."""
    from .conftest import login_verified

    settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{_closed_port()}/0")}
    client.raise_request_exception = False
    for path in (reverse("two_factor:login"), reverse("signing_open", args=[TOKEN])):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response["Retry-After"] == "60"
        assert "Er is niets verloren gegaan" in response.text
    # A coach who is logged in gets the same, not an error page.
    settings.CACHES = {"default": cache_from_url("locmem://")}
    login_verified(client, coach)
    settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{_closed_port()}/0")}
    response = client.get(reverse("agreement_list"))
    assert response.status_code == 503


def test_with_the_database_unreachable_pages_answer_a_dutch_503_within_seconds(tmp_path):
    """A PostgreSQL server that takes the connection and never answers (a hung server, a
    network that drops packets): the page says within seconds that the service is briefly
    unavailable, instead of holding the worker until gunicorn kills it and the visitor gets
    nothing. In production settings, in a process of its own."""
    import socket
    import time

    from .test_settings import PRODUCTION, manage

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nothing ever answers
        port = silent.getsockname()[1]
        script = (
            "from django.test import Client\n"
            "from django.urls import reverse\n"
            "client = Client(raise_request_exception=False)\n"
            # A page that asks the database first (the signing link's lookup).
            "path = reverse('signing_open', args=['A' * 43])\n"
            "response = client.get(path, HTTP_HOST='avg.example.nl', secure=True)\n"
            "print(response.status_code, response.get('Retry-After'))\n"
            "print(response.content.decode())\n"
        )
        started = time.monotonic()
        result = manage(
            "shell",
            "--no-imports",
            "-c",
            script,
            env=PRODUCTION
            | {
                "DATABASE_URL": f"postgres://avg@127.0.0.1:{port}/avg",
                "DJANGO_CACHE_URL": "locmem://",
                "DJANGO_DB_CONNECT_TIMEOUT": "2",
                "DJANGO_LOG_LEVEL": "CRITICAL",
                # No collected static files, as in a fresh clone.
                "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            },
        )
        took = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    status, page = result.stdout.split("\n", 1)
    assert status == "503 60"
    assert "Even niet bereikbaar" in page and "Er is niets verloren gegaan" in page
    assert took < 30  # gunicorn's own limit; the connection gave up after 2 s


@pytest.fixture
def error_mail(settings):
    """The operators' error mail (avg_portal.error_mail), with no reports sent yet."""
    from avg_portal.error_mail import ErrorMailHandler

    (handler,) = [
        handler
        for handler in logging.getLogger("django.request").handlers
        if isinstance(handler, ErrorMailHandler)
    ]
    handler._sent.clear()
    settings.ADMINS = ["beheer@avg-portal.test"]
    return handler


def test_an_error_report_never_holds_the_page_while_the_mail_server_hangs(
    client, settings, error_mail
):
    """Redis down and the mail server hanging (it takes the connection, never answers): the
    page answers at once; the report to the operators waits in its own thread. (Sent in the
    request, each error held its worker for the mail timeout, and then the mail error left
    the application: no answer at all.)"""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": silent.getsockname()[1], "timeout": 60},
            }
        }
        settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{_closed_port()}/0")}
        client.raise_request_exception = False

        response = client.get(reverse("two_factor:login"))

        assert response.status_code == 503
        assert "Er is niets verloren gegaan" in response.text
        # The page came back while the report still waits for the mail server.
        assert error_mail._outgoing.unfinished_tasks == 1


def test_a_refused_error_report_breaks_nothing_and_reports_come_once_per_kind(
    client, settings, error_mail, monkeypatch
):
    """The mail server refusing: the page is still the Dutch 503. With it back, an outage
    that fails every request gives the operators one report, and the next one (after
    `EVERY`) says how many were held back, instead of one or two mails per request."""
    from avg_portal import error_mail as module

    from .conftest import SmtpInbox, serving_smtp

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 5},
        }
    }
    settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{_closed_port()}/0")}
    client.raise_request_exception = False
    assert client.get(reverse("two_factor:login")).status_code == 503
    error_mail.wait_until_sent()
    error_mail._sent.clear()

    with serving_smtp(settings, SmtpInbox()) as inbox:
        settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{_closed_port()}/0")}
        for _ in range(5):
            assert client.get(reverse("two_factor:login")).status_code == 503
        error_mail.wait_until_sent()
        (report,) = inbox.messages
        assert "Service Unavailable" in report["Subject"]
        assert report["To"] == "beheer@avg-portal.test"

        monkeypatch.setattr(module, "EVERY", 0)
        assert client.get(reverse("two_factor:login")).status_code == 503
        error_mail.wait_until_sent()
        assert len(inbox.messages) == 2
        assert "more like this, not mailed" in inbox.messages[1]["Subject"]


def _closed_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_pages_for_a_logged_in_coach_are_kept_by_no_cache(coach_client, coach, client):
    """A shared computer, the back button after logging out: no browser or proxy keeps a
    copy of a page or download with client data."""
    from .factories import make_client

    make_client(coach.practice)
    for url in (reverse("dashboard"), reverse("client_list"), reverse("breach_register_csv")):
        response = coach_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_get_of_a_post_only_address_says_so_in_dutch(coach_client, coach):
    from .factories import make_agreement

    agreement = make_agreement(coach.practice)
    response = coach_client.get(reverse("agreement_delete", args=[agreement.public_id]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "Zo werkt dit niet" in response.text and "Er is niets gewijzigd" in response.text
