"""Scale-out: many clients signing at once through two app servers, sealed by two workers.

Everything runs on loopback as in production, only smaller: two gunicorn instances with two
workers each (DEBUG off, a real secret key, behind an emulated TLS proxy), two
`manage.py db_worker` processes, PostgreSQL (a scratch database made here and dropped at the
end), Redis (the cache every rate limit lives in), an S3-compatible server (moto, with
Object Lock) for the sealed documents and an SMTP sink for the emails.

A setup step makes CLIENTS agreements through the app's own services, signed by their
coaches and sent (the workers deliver the invitations to the SMTP sink); then CLIENTS threads
sign their own agreements at once over real HTTP, alternating between the two instances:
open the emailed link, read the page, post a drawn signature, see the done page. Reported:
signing requests per second, latency (p50/p99), seconds until the last agreement is sealed.
Checked: every agreement sealed exactly once (one "completed" event, one stored file), no
HTTP error, `manage.py verify_archive` exits 0, and the signing-link guess limit holds across
both instances together.

`python -m bench scale` or `make bench-scale`; BENCH_SCALE_CLIENTS sets the number of clients
(200), BENCH_SCALE_REDIS_URL the Redis database to use and empty (redis://127.0.0.1:6379/13),
BENCH_SCALE_POSTGRES_URL the server to make the scratch database on.
"""

from __future__ import annotations

import base64
import contextlib
import html
import http.client
import io
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_SCALE_CLIENTS", "200"))
INSTANCES = 2
WEB_WORKERS = 2
TASK_WORKERS = 2
PRACTICES = 4
REDIS_URL = os.environ.get("BENCH_SCALE_REDIS_URL", "redis://127.0.0.1:6379/13")
POSTGRES_URL = os.environ.get("BENCH_SCALE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BUCKET = "avg-portal-scale"
S3_KEY = "bench"  # moto accepts any key
SEALED_TIMEOUT_S = 900
GUESS_LIMIT = 20


# Processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on port {port}:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class Children:
    """The processes this benchmark starts, each in its own process group; all of them are
    stopped when the block ends, whatever happened."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append((name, process))
        return process

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        for _name, process in reversed(self.running):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, process in self.running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# Services -------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A PostgreSQL database of our own, dropped at the end (with any connection left)."""
    import psycopg
    from psycopg import sql

    name = f"avg_portal_scale_{os.getpid()}_{secrets.token_hex(3)}"
    admin = f"{POSTGRES_URL.rstrip('/')}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{POSTGRES_URL.rstrip('/')}/{name}"
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextlib.contextmanager
def empty_redis() -> Iterator[str]:
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    server.ping()
    server.flushdb()
    try:
        yield REDIS_URL
    finally:
        server.flushdb()
        server.close()


def s3_bucket(endpoint: str) -> bool:
    """The bucket for the documents, with Object Lock where the server supports it."""
    s3 = s3_client(endpoint)
    try:
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        return True
    except Exception:
        s3.create_bucket(Bucket=BUCKET)
        return False


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_KEY,
    )


def s3_keys(endpoint: str) -> list[str]:
    s3 = s3_client(endpoint)
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def retained_until(s3: Any, key: str) -> str | None:
    """The compliance-mode retention date of a stored object, if it has one (read with
    HEAD: moto answers GetObjectRetention with an error)."""
    head = s3.head_object(Bucket=BUCKET, Key=key)
    if head.get("ObjectLockMode") != "COMPLIANCE":
        return None
    return str(head.get("ObjectLockRetainUntilDate"))


def seal_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed seal certificate made for this run (production names a real one)."""
    from avg_portal.seal import _development_certificate

    return _development_certificate(folder)


def environment(
    *,
    database: str,
    cache: str,
    s3: str,
    object_lock: bool,
    smtp_port: int,
    seal: tuple[Path, Path],
    site: str,
) -> dict[str, str]:
    """Production settings, as an operator's environment file gives them."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SENTRY_", "AWS_")) and key != "DATABASE_URL"
    }
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "avg_portal.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SITE_URL": site,
        # As behind Caddy: the proxy terminates TLS and says so in X-Forwarded-Proto; the
        # clients here send that header themselves, so HTTPS-only cookies and redirects
        # behave as in production.
        "DJANGO_BEHIND_TLS_PROXY": "1",
        "DJANGO_PROXY_COUNT": "1",
        "DATABASE_URL": database,
        "DJANGO_CACHE_URL": cache,
        "DJANGO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DJANGO_EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DJANGO_S3_BUCKET": BUCKET,
        "DJANGO_S3_ENDPOINT_URL": s3,
        "DJANGO_S3_REGION": "us-east-1",
        "DJANGO_S3_ACCESS_KEY": S3_KEY,
        "DJANGO_S3_SECRET_KEY": S3_KEY,
        # Sealed PDFs locked (compliance mode) until their Bijlage 1 retention runs out.
        "DJANGO_S3_OBJECT_LOCK": "1" if object_lock else "0",
        "DJANGO_SEAL_CERT_FILE": str(seal[0]),
        "DJANGO_SEAL_KEY_FILE": str(seal[1]),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_LOG_FORMAT": "json",
        "DJANGO_SIGNING_LINK_GUESS_LIMIT": str(GUESS_LIMIT),
    }


# Setup: agreements sent for signing -----------------------------------------------------


def signature_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 150), (255, 255, 255, 0))
    ImageDraw.Draw(image).line(
        [(20, 100), (120, 30), (220, 110), (360, 40)], fill=(11, 42, 91, 255), width=4
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def send_agreements(count: int) -> list[str]:
    """`count` agreements over PRACTICES practices, each signed by its coach and sent to its
    own client through the app's services; returns the tokens of the emailed links, read
    from the outbox before any worker runs (afterwards only their hashes exist)."""
    from decimal import Decimal

    from django.test import RequestFactory

    from agreements import signing
    from agreements.actions import agreement_create_draft
    from agreements.defaults import apply_practice_defaults
    from agreements.models import Client, Practice
    from agreements.signing import SignatureInput
    from avg_portal.models import OutboxMessage, User
    from core.origin import Origin

    image = signature_png()
    coaches = []
    for number in range(PRACTICES):
        practice = Practice.objects.create(
            name=f"Coachpraktijk {number + 1}",
            statutory_seat="Tilburg",
            email=f"info{number}@praktijk.test",
            breach_contact_role="de coach",
            breach_contact_phone="06 12345678",
            breach_contact_email=f"privacy{number}@praktijk.test",
            default_penalty_per_violation=Decimal("2500"),
            default_penalty_per_day=Decimal("250"),
            # The clients here sign in one request each; the signer code's extra round trip
            # (request, email, type) is measured by `make bench` (signing) instead.
            signer_code_required=False,
        )
        apply_practice_defaults(practice)
        coach = User.objects.create_user(email=f"coach{number}@praktijk.test", practice=practice)
        coaches.append(coach)
    tokens = []
    for number in range(count):
        coach = coaches[number % PRACTICES]
        assert coach.practice is not None
        client = Client.objects.create(
            practice=coach.practice,
            name=f"Cliënt {number:03d}",
            residence="Breda",
            email=f"client{number}@example.test",
        )
        agreement = agreement_create_draft(
            practice=coach.practice, client=client, origin=Origin.system()
        )
        request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.1", HTTP_USER_AGENT="bench")
        request.user = coach
        signing.agreement_sign_and_send(
            agreement=agreement,
            signature=SignatureInput("Mado Remkes", "Coach", "Tilburg", "drawn", image),
            origin=Origin.of_coach(request),
        )
        body = OutboxMessage.objects.latest("id").body_text
        match = re.search(r"/sign/([A-Za-z0-9_-]{40,})/", body)
        assert match, "no signing link in the invitation"
        tokens.append(match.group(1))
        if (number + 1) % 50 == 0:
            print(f"  {number + 1} agreements sent", flush=True)
    return tokens


# Clients --------------------------------------------------------------------------------


@dataclass
class Result:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)
    first_start: float = float("inf")
    last_end: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, step: str, started: float, ended: float) -> None:
        with self.lock:
            self.latencies.setdefault(step, []).append(ended - started)
            self.first_start = min(self.first_start, started)
            self.last_end = max(self.last_end, ended)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


class Browser:
    """One client on one instance: cookies as a browser keeps them, the headers a TLS proxy
    in front would add."""

    def __init__(self, port: int, address: str) -> None:
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "User-Agent": "Mozilla/5.0 (bench scale)",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
            headers["Referer"] = f"https://127.0.0.1:{self.port}{path}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.headers.get("Location", ""), text
        finally:
            connection.close()


def sign_as_client(
    token: str, port: int, address: str, image: str, result: Result, start: threading.Barrier
) -> None:
    browser = Browser(port, address)
    start.wait()

    def step(name: str, method: str, path: str, expect: int, form: Any = None) -> str:
        began = time.perf_counter()
        status, location, text = browser.request(method, path, form)
        result.record(name, began, time.perf_counter())
        if status != expect:
            raise RuntimeError(f"{name}: HTTP {status}, expected {expect}")
        return location or text

    try:
        step("open link", "GET", f"/sign/{token}/", 302)
        page = step("signing page", "GET", "/sign/", 200)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if csrf is None:
            raise RuntimeError("signing page: no CSRF token")
        form = {
            "csrfmiddlewaretoken": html.unescape(csrf.group(1)),
            "name": "Zoë Ünal-Brontë",
            "function": "Cliënt",
            "place": "Breda",
            "method": "drawn",
            "signature_image": image,
            "typed_signature": "",
            "consent": "on",
        }
        done = step("sign (POST)", "POST", "/sign/", 302, form)
        if not done.endswith("/sign/done/"):
            raise RuntimeError(f"sign (POST): redirected to {done}")
        with result.lock:
            result.signed.append(token)
        step("done page", "GET", "/sign/done/", 200)
    except Exception as error:
        result.error(f"{type(error).__name__}: {error}")


def sign_concurrently(tokens: list[str], ports: list[int]) -> Result:
    image = "data:image/png;base64," + base64.b64encode(signature_png()).decode()
    result = Result()
    start = threading.Barrier(len(tokens))
    threads = [
        threading.Thread(
            target=sign_as_client,
            # Each client from its own address, as seen by the proxy.
            args=(token, ports[n % len(ports)], f"10.1.{n // 250}.{n % 250 + 1}", image),
            kwargs={"result": result, "start": start},
        )
        for n, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def guess_limit_across(ports: list[int]) -> list[int]:
    """Wrong links from one address, alternating between the instances: the statuses."""
    browsers = [Browser(port, "203.0.113.99") for port in ports]
    statuses = []
    for attempt in range(GUESS_LIMIT + 2):
        browser = browsers[attempt % len(browsers)]
        status, _, _ = browser.request("GET", f"/sign/{secrets.token_urlsafe(32)}/")
        statuses.append(status)
    return statuses


def ready(port: int) -> tuple[int, str]:
    browser = Browser(port, "127.0.0.1")
    status, _, body = browser.request("GET", "/readyz")
    return status, body


# Waiting on the database ----------------------------------------------------------------


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def sealed_count() -> int:
    from agreements.models import Agreement

    return Agreement.objects.exclude(final_sha256="").count()


def queued_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()


# Report ---------------------------------------------------------------------------------


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def check_archive(
    endpoint: str, env: dict[str, str], object_lock: bool
) -> list[tuple[str, bool, str]]:
    from django.db.models import Count

    from agreements.models import Agreement, AgreementEvent, AgreementStatus

    checks = []
    agreements = list(Agreement.objects.all())
    signed = sum(1 for a in agreements if a.status == AgreementStatus.SIGNED)
    checks.append(("agreements signed", signed == CLIENTS, f"{signed} of {CLIENTS}"))
    completed = dict(
        AgreementEvent.objects.filter(kind=AgreementEvent.Kind.COMPLETED)
        .values_list("agreement")
        .annotate(n=Count("id"))
        .values_list("agreement", "n")
    )
    once = sum(1 for a in agreements if completed.get(a.pk) == 1)
    more = sum(1 for n in completed.values() if n > 1)
    checks.append(
        (
            "sealed exactly once (one completed event)",
            once == CLIENTS and not more,
            f"{once} once, {more} more than once",
        )
    )
    keys = [key for key in s3_keys(endpoint) if not key.startswith("health/")]
    per_agreement = {a.pk: [key for key in keys if str(a.public_id) in key] for a in agreements}
    one_file = sum(
        1 for a in agreements if per_agreement[a.pk] == [a.final_pdf.name] and a.final_pdf.name
    )
    checks.append(
        (
            "one sealed file each in the bucket",
            one_file == CLIENTS and len(keys) == CLIENTS,
            f"{one_file} of {CLIENTS}, {len(keys)} objects",
        )
    )
    if object_lock:
        s3 = s3_client(endpoint)
        locked = sum(1 for key in keys if retained_until(s3, key))
        checks.append(
            (
                "each sealed file locked (compliance mode)",
                locked == CLIENTS,
                f"{locked} of {CLIENTS}",
            )
        )
    verify = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "verify_archive"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = (verify.stdout.strip().splitlines() or [verify.stderr.strip()[-300:]])[-1]
    checks.append(("verify_archive exits 0", verify.returncode == 0, summary))
    return checks


def report(
    result: Result, sealed_after: float, drained_after: float, checks: list[tuple[str, bool, str]]
) -> bool:
    wall = result.last_end - result.first_start
    everything = [v for values in result.latencies.values() for v in values]
    print()
    print(
        f"Scale-out: {CLIENTS} clients signing at once through {INSTANCES} gunicorn instances "
        f"x {WEB_WORKERS} workers, {TASK_WORKERS} db_workers; PostgreSQL, Redis, S3 (moto), "
        f"SMTP sink on loopback; {os.cpu_count()} CPUs"
    )
    print()
    print(f"  {'request':<14} {'count':>6} {'p50':>9} {'p99':>9} {'max':>9}")
    for step, values in [*result.latencies.items(), ("all", everything)]:
        print(
            f"  {step:<14} {len(values):>6} {percentile(values, 50) * 1000:>6.0f} ms"
            f" {percentile(values, 99) * 1000:>6.0f} ms {max(values) * 1000:>6.0f} ms"
        )
    print()
    print(
        f"Signing requests per second: {len(everything) / wall:.1f} "
        f"({len(everything)} requests in {wall:.1f} s; "
        f"{CLIENTS / wall:.1f} signatures per second)"
    )
    print(
        f"Seconds until the last agreement was sealed: {sealed_after:.1f} s (from the first"
        " request)"
    )
    print(f"Seconds until every email was sent: {drained_after:.1f} s")
    print(
        f"Sealing: {CLIENTS / sealed_after:.2f} agreements per second with {TASK_WORKERS} workers"
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Load average at the end (1, 5, 15 min): {load}: other work on the machine slows it")
    print(f"HTTP errors: {len(result.errors)}")
    for error in sorted(set(result.errors))[:10]:
        print(f"  {error}")
    print()
    ok = not result.errors
    for name, passed, detail in checks:
        ok = ok and passed
        print(f"  [{'ok' if passed else 'FAIL'}] {name}: {detail}")
    return ok


# Main -----------------------------------------------------------------------------------


def run(directory: Path) -> bool:
    # Children stop first: then the scratch database is dropped and Redis emptied.
    with empty_redis() as cache, scratch_database() as db, Children(directory) as children:
        smtp_port, s3_port = free_port(), free_port()
        smtp = children.start(
            "smtp",
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{smtp_port}",
                "-c",
                "aiosmtpd.handlers.Sink",
            ],
            dict(os.environ),
        )
        moto = children.start(
            "s3",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
            dict(os.environ),
        )
        wait_for_port(smtp_port, smtp, "SMTP sink", children.log("smtp"))
        wait_for_port(s3_port, moto, "S3 server", children.log("s3"))
        endpoint = f"http://127.0.0.1:{s3_port}"
        object_lock = s3_bucket(endpoint)
        ports = [free_port() for _ in range(INSTANCES)]
        env = environment(
            database=db,
            cache=cache,
            s3=endpoint,
            object_lock=object_lock,
            smtp_port=smtp_port,
            seal=seal_certificate(directory / "seal"),
            site=f"https://127.0.0.1:{ports[0]}",
        )
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        print(f"Bucket {BUCKET}: Object Lock {'on' if object_lock else 'not supported'}")
        print("Migrating the scratch database, collecting static files ...", flush=True)
        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        print(f"Sending {CLIENTS} agreements for signing ...", flush=True)
        started = time.perf_counter()
        tokens = send_agreements(CLIENTS)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)

        for number in range(1, TASK_WORKERS + 1):
            children.start(
                f"worker{number}",
                [sys.executable, "manage.py", "db_worker", "--worker-id", f"scale-{number}"],
                env,
            )
        for number, port in enumerate(ports, 1):
            children.start(
                f"web{number}",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "avg_portal.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(WEB_WORKERS),
                    "--timeout",
                    "300",
                    "--forwarded-allow-ips",
                    "127.0.0.1",
                    "--error-logfile",
                    "-",
                ],
                env,
            )
        for number, port in enumerate(ports, 1):
            process = dict(children.running)[f"web{number}"]
            wait_for_port(port, process, f"gunicorn {number}", children.log(f"web{number}"))
        print(
            "Workers deliver the invitations; waiting for /readyz on both instances ...", flush=True
        )
        wait_until(lambda: queued_tasks() == 0, 300, "the invitations to be delivered")
        for port in ports:
            for _ in range(WEB_WORKERS * 2):  # reach (and warm up) every gunicorn worker
                status, body = ready(port)
                if status != 200:
                    raise RuntimeError(f"/readyz on port {port}: {status} {body}")
        print(f"  ready: {body}")

        print(f"{CLIENTS} clients sign at once ...", flush=True)
        result = sign_concurrently(tokens, ports)
        signed = len(result.signed)
        wait_until(lambda: sealed_count() >= signed, SEALED_TIMEOUT_S, "the sealing")
        sealed_after = time.perf_counter() - result.first_start
        wait_until(lambda: queued_tasks() == 0, SEALED_TIMEOUT_S, "the emails")
        drained_after = time.perf_counter() - result.first_start

        statuses = guess_limit_across(ports)
        checks = check_archive(endpoint, env, object_lock)
        expected = [404] * GUESS_LIMIT + [429] * 2
        checks.append(
            (
                f"guess limit ({GUESS_LIMIT}) holds across both instances",
                statuses == expected,
                f"{statuses.count(404)} x 404, then {statuses[GUESS_LIMIT:]}",
            )
        )
        return report(result, sealed_after, drained_after, checks)


def main() -> None:
    # A Ctrl+C or a kill still stops every child and drops the scratch database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="avg-portal-scale-") as directory:
        try:
            ok = run(Path(directory))
        except Exception:
            for log in sorted(Path(directory).glob("*.log")):
                print(f"--- {log.name} (last lines)\n{tail(log)}", file=sys.stderr)
            raise
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
