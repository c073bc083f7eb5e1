"""The pages people wait for, over HTTP, against gunicorn on PostgreSQL (issue 15's table).

`python -m bench http`: makes the database DATABASE_URL names (default
postgres://postgres@127.0.0.1:5432/avg_bench; dropped and made again, so never point it at
real data), fills it (a practice with 10,000 agreements, one with 11, a sealed agreement, a
draft, a client's signing link), and starts gunicorn with 2 sync workers and production
settings (DEBUG off, Redis as the cache) twice: once streaming stored files from Django, once
handing them to the front server with X-Accel-Redirect.

Each variant is requested for a short burst by CONNECTIONS client threads; what a request
costs is read from the server's side: the CPU time the gunicorn workers used (from /proc)
per request, and requests per second. Variants are interleaved in rounds, so that a busy
machine slows all of them alike, and rounds repeat until every CPU ratio's spread (the
interquartile range over the rounds, relative to its median) is below TARGET_SPREAD or
BENCH_HTTP_SECONDS (240) have passed. Ratios are to the trivial view (/verify/ GET) of the
same round: absolute figures drift, ratios hold.

Also measured, interleaved the same way: `manage.py check` CPU time against a minimal Django
project's, and a web worker's resident memory against a minimal project's gunicorn worker.

With nginx installed (`apt-get install nginx-light`), nginx runs on loopback in front of the
hand-off gunicorn, as deploy/nginx.conf does in production: the signed PDF is downloaded
through it (the app checks, answers X-Accel-Redirect, nginx sends the file from the media
folder) and compared with nginx sending the same bytes as a static file. Without nginx that
line is skipped, with a note on how to get it; the app's share of the hand-off is measured
either way, straight from gunicorn.

The database is vacuumed and analysed after it is filled, as autovacuum does within a minute
of a bulk load in production: without statistics PostgreSQL plans the lists of 10,000 rows
for 5 and sorts them all.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from avg_portal.downloads import (
    LINK_DOWNLOAD_NAME_PATTERN,
    LINK_MD5,
    LINK_NAME_PATTERN,
    LINK_SECRET_PATTERN,
)
from bench.scale import Children, free_port, tail, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/avg_bench")
REDIS_URL = os.environ.get("BENCH_HTTP_REDIS_URL", "redis://127.0.0.1:6379/14")
BUDGET_S = float(os.environ.get("BENCH_HTTP_SECONDS", "240"))
BIG = int(os.environ.get("BENCH_HTTP_AGREEMENTS", "10000"))
SMALL = 11
WORKERS = 2
CONNECTIONS = 2
BURST_S = 1.0
MIN_ROUNDS = 3
TARGET_SPREAD = 0.10
TICKS = os.sysconf("SC_CLK_TCK")
# The front server's internal location of the media folder (deploy/nginx.conf).
SENDFILE_PREFIX = "/protected/"
# DJANGO_SENDFILE_LINK_SECRET of the hand-off instance and its nginx; its links work for an
# hour here, longer than a run, so that the page that gives one is asked once.
LINK_SECRET = "bench-link-secret-" + "s" * 32
LINK_SECONDS = 3600


# Setup ----------------------------------------------------------------------------------


def environment(
    media: Path, seal: tuple[Path, Path], *, sendfile: str = "", link_secret: str = ""
) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SENTRY_")) and key != "DATABASE_URL"
    }
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "avg_portal.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + "k" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SITE_URL": "https://127.0.0.1",
        "DJANGO_BEHIND_TLS_PROXY": "1",
        "DJANGO_PROXY_COUNT": "1",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_CACHE_URL": REDIS_URL,
        "DJANGO_MEDIA_ROOT": str(media),
        "DJANGO_EMAIL_URL": "locmem://",
        "DJANGO_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
        "DJANGO_SEAL_CERT_FILE": str(seal[0]),
        "DJANGO_SEAL_KEY_FILE": str(seal[1]),
        "DJANGO_LOG_LEVEL": "ERROR",
        "DJANGO_SENDFILE": sendfile,
        "DJANGO_SENDFILE_PREFIX": SENDFILE_PREFIX,
        "DJANGO_SENDFILE_LINK_SECRET": link_secret,
        "DJANGO_SENDFILE_URL_SECONDS": str(LINK_SECONDS),
        # Signing-link guesses: the benchmark opens one link once; no limit is reached.
    }


def fresh_database() -> None:
    import psycopg
    from psycopg import sql

    server, name = DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def clone_agreements(template, count: int, clients: list) -> None:
    """`count` copies of the draft `template`, spread over `clients`, a minute apart: the
    rows of the lists (no Bijlage 1 rows or events, which no list shows). In one statement
    of PostgreSQL's: through the ORM, 10,000 rows take minutes on a busy machine."""
    from django.db import connection

    from agreements.models import Agreement, SignableDocument

    quote = connection.ops.quote_name
    own = {"document_id", "public_id", "client_id", "client_name", "created_at"}
    documents = [
        quote(f.column) for f in SignableDocument._meta.local_concrete_fields if not f.primary_key
    ]
    agreements = [
        quote(f.column)
        for f in Agreement._meta.local_concrete_fields
        if not f.primary_key and f.column not in own
    ]
    columns, copied = ", ".join(documents), ", ".join(f"a.{c}" for c in agreements)
    # Only the model's own column names, quoted, are formatted in; the values are parameters.
    statement = f"""
        WITH docs AS (
            INSERT INTO agreements_signabledocument ({columns})
            SELECT {columns} FROM agreements_signabledocument, generate_series(1, %s)
            WHERE key = %s
            RETURNING key
        ), numbered AS (SELECT key, row_number() OVER (ORDER BY key) AS n FROM docs)
        INSERT INTO agreements_agreement
            (document_id, public_id, client_id, client_name, created_at, {", ".join(agreements)})
        SELECT numbered.key, gen_random_uuid(), (%s::bigint[])[1 + n %% %s],
            (%s::text[])[1 + n %% %s], now() - n * interval '1 minute', {copied}
        FROM numbered, agreements_agreement a WHERE a.id = %s
    """  # noqa: S608
    ids, names = [c.pk for c in clients], [c.name for c in clients]
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            [count, template.document_id, ids, len(ids), names, len(names), template.pk],
        )


def vacuum_analyze() -> None:
    """Statistics and a visibility map for the freshly filled tables, as autovacuum makes
    them soon after a bulk load: without them the planner expects a handful of rows."""
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def coach_session(user) -> str:
    """A session as after a full login with password and TOTP: the cookie's value."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # The backend that knows users (the first is django-axes' lockout check).
    store[BACKEND_SESSION_KEY] = next(
        backend for backend in settings.AUTHENTICATION_BACKENDS if "axes" not in backend
    )
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.get().persistent_id
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def make_coach(email: str, practice):
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from avg_portal.models import User

    user = User.objects.create_user(
        email=email,
        password=secrets.token_urlsafe(),
        practice=practice,
        email_confirmed_at=timezone.now(),
    )
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


@dataclass
class Fixture:
    big_cookie: str
    small_cookie: str
    sealed_url: str
    draft_url: str
    sealed_bytes: bytes
    signing_token: str | None


def fill() -> Fixture:
    """The data the pages show, made through the app's own code where it is cheap."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from agreements.documents import draft_pdf, render_agreement_pdf
    from agreements.models import Agreement, AgreementStatus, Client
    from avg_portal.seal import seal_pdf
    from bench.__main__ import make_agreement

    first = make_agreement()
    big = first.practice
    clients = Client.objects.bulk_create(
        Client(practice=big, name=f"Cliënt {n:05d}", residence="Breda", email=f"c{n}@example.test")
        for n in range(BIG // 10)
    )
    clone_agreements(first, BIG - 1, clients)
    small_first = make_agreement()
    small = small_first.practice
    small.name = "Praktijk Klein"
    small.save()
    clone_agreements(small_first, SMALL - 1, [small_first.client])

    draft = make_agreement()
    Agreement.objects.filter(pk=draft.pk).update(practice=small)
    # Its first download renders and keeps it; done here, so the figures are those of every
    # later download (and the workers' memory that of workers that render nothing).
    draft_pdf(Agreement.objects.get(pk=draft.pk))
    sealed = make_agreement()
    sealed_pdf = seal_pdf(render_agreement_pdf(sealed))
    name = default_storage.save(f"agreements/bench/{sealed.public_id}.pdf", ContentFile(sealed_pdf))
    Agreement.objects.filter(pk=sealed.pk).update(
        practice=small,
        status=AgreementStatus.SIGNED,
        document_sha256="0" * 64,
        final_pdf=name,
        final_sha256=hashlib.sha256(sealed_pdf).hexdigest(),
        completed_at=timezone.now(),
    )
    return Fixture(
        big_cookie=coach_session(make_coach("groot@bench.test", big)),
        small_cookie=coach_session(make_coach("klein@bench.test", small)),
        sealed_url=f"/agreements/{sealed.public_id}/pdf/",
        draft_url=f"/agreements/{draft.public_id}/pdf/",
        sealed_bytes=sealed_pdf,
        signing_token=signing_token(),
    )


def signing_token() -> str | None:
    """A client's signing link, through the coach's sign-and-send; None when that fails
    (the variant is then left out, and says why)."""
    try:
        from bench.__main__ import signed_link_token

        return signed_link_token()
    except Exception as error:  # a benchmark reports, it does not stop
        print(f"  (no client signing page: {type(error).__name__}: {error})")
        return None


# Load -----------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def private_mb(pid: int) -> float:
    """The memory only this process uses (its private pages): what one more worker costs.
    RSS also counts the shared libraries' pages, which every worker shares."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


@dataclass
class Variant:
    name: str
    port: int
    # The server processes whose children do the work: gunicorn's master, and nginx's
    # in front of it where it runs. Their children's CPU time is the request's cost.
    masters: list[int]
    path: str
    cookie: str = ""
    expect: Callable[[http.client.HTTPResponse, bytes], bool] | None = None


def get(port: int, path: str, cookie: str = "") -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    if cookie:
        headers["Cookie"] = cookie
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def page_link(port: int, download: str, cookie: str) -> str:
    """The link to `download` on its agreement's page: signed for nginx (avg_k=...)."""
    page = download.removesuffix("pdf/")
    response, body = get(port, page, cookie)
    assert response.status == 200, (page, response.status)
    found = re.search(rf'href="({re.escape(download)}\?[^"]*avg_k=[^"]*)"', body.decode())
    if found is None:
        raise RuntimeError(f"{page} gives no signed link to {download}")
    return html.unescape(found.group(1))


def burst(variant: Variant) -> tuple[float, float]:
    """Requests per second and worker CPU milliseconds per request over one burst."""
    done = [0] * CONNECTIONS
    errors: list[str] = []
    stop = time.perf_counter() + BURST_S

    def client(slot: int) -> None:
        while time.perf_counter() < stop:
            response, body = get(variant.port, variant.path, variant.cookie)
            ok = variant.expect(response, body) if variant.expect else response.status == 200
            if not ok:
                errors.append(f"{variant.name}: {response.status} {body[:200]!r}")
                return
            done[slot] += 1

    pids = [pid for master in variant.masters for pid in worker_pids(master)]
    cpu_before, started = cpu_seconds(pids), time.perf_counter()
    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pids) - cpu_before
    if errors:
        raise RuntimeError(errors[0])
    count = max(1, sum(done))
    return count / elapsed, cpu / count * 1000


def spread(values: list[float]) -> float:
    """The interquartile range relative to the median."""
    if len(values) < 4:
        return (max(values) - min(values)) / statistics.median(values)
    quartiles = statistics.quantiles(values, n=4)
    return (quartiles[2] - quartiles[0]) / statistics.median(values)


def run_rounds(variants: list[Variant], baseline: str) -> dict[str, dict[str, list[float]]]:
    """Rounds of one burst per variant, interleaved, until the ratios hold or time is up."""
    results = {v.name: {"rps": [], "cpu": [], "rps_ratio": [], "cpu_ratio": []} for v in variants}
    deadline = time.monotonic() + BUDGET_S
    rounds = 0
    while True:
        rounds += 1
        measured = {variant.name: burst(variant) for variant in variants}
        base_rps, base_cpu = measured[baseline]
        for name, (rps, cpu) in measured.items():
            results[name]["rps"].append(rps)
            results[name]["cpu"].append(cpu)
            results[name]["rps_ratio"].append(rps / base_rps)
            results[name]["cpu_ratio"].append(cpu / base_cpu if base_cpu else float("nan"))
        # CPU time per request is what holds on a busy machine; requests per second follow
        # whatever else runs, so their spread is reported but does not keep the rounds going.
        worst = max(spread(r["cpu_ratio"]) for r in results.values())
        print(f"  round {rounds}: worst spread of a CPU ratio {worst:.0%}", flush=True)
        if rounds >= MIN_ROUNDS and (worst <= TARGET_SPREAD or time.monotonic() > deadline):
            return results


def report(results: dict[str, dict[str, list[float]]], baseline: str) -> None:
    width = max(len(name) for name in results)
    print()
    print(
        f"  {'variant':<{width}} {'req/s':>8} {'CPU ms/req':>11} {'req/s ratio':>17}"
        f" {'CPU ratio':>17}"
    )
    for name, r in results.items():
        print(
            f"  {name:<{width}} {statistics.median(r['rps']):>8.1f}"
            f" {statistics.median(r['cpu']):>11.2f}"
            f" {statistics.median(r['rps_ratio']):>9.3f}x ±{spread(r['rps_ratio']) / 2:>4.0%}"
            f" {statistics.median(r['cpu_ratio']):>9.2f}x ±{spread(r['cpu_ratio']) / 2:>4.0%}"
        )
    print(f"  (medians over {len(results[baseline]['rps'])} interleaved rounds; ± half the")
    print("   interquartile range of the per-round ratio, relative to its median)")


def pair_ratio(results: dict[str, dict[str, list[float]]], name: str, over: str) -> None:
    """`name`'s requests per second over `over`'s, round by round."""
    ratios = [a / b for a, b in zip(results[name]["rps"], results[over]["rps"], strict=True)]
    print(
        f"  {name} / {over}: {statistics.median(ratios):.3f}x ±{spread(ratios) / 2:.0%}"
        f" requests per second"
    )


# nginx in front, as in production (deploy/nginx.conf) -------------------------------------

NGINX_HINT = (
    "nginx is not installed: the download through the front server is not measured "
    "(install it with: sudo apt-get install nginx-light)"
)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).is_file()), None
    )


def nginx_config(
    directory: Path,
    port: int,
    upstream: int,
    media: Path,
    static: Path,
    link_secret: str = LINK_SECRET,
) -> str:
    """deploy/nginx.conf's locations, on loopback without TLS; logs and temporary files in
    `directory`. (tests/test_front_server.py runs it too, and checks that its lines for
    signed links are deploy/nginx.conf's.)"""
    temp = directory / "nginx-temp"
    temp.mkdir(exist_ok=True)
    # As root, nginx's workers would run as nobody, who cannot read the bench's private
    # temporary folder; production runs them as www-data, which can read the media folder.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    map $host $avg_link_secret {{ default "{link_secret}"; }}
    map $avg_link_secret $avg_link_secret_ok {{
        "~{LINK_SECRET_PATTERN}" 1;
        default 0;
    }}
    map $arg_avg_f $avg_link_name_ok {{
        "~{LINK_NAME_PATTERN}" 1;
        default 0;
    }}
    map "$avg_link_secret_ok$avg_link_name_ok$secure_link" $avg_link_serve {{
        "111" 1;
        default 0;
    }}
    map $arg_avg_n $avg_link_disposition {{
        "~{LINK_DOWNLOAD_NAME_PATTERN}" "attachment; filename*=UTF-8''$arg_avg_n";
        default "";
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            # DJANGO_SENDFILE_LINK_SECRET: signed links answered here.
            secure_link $arg_avg_k,$arg_avg_e;
            secure_link_md5 "{LINK_MD5}";
            if ($avg_link_serve) {{
                rewrite ^ {SENDFILE_PREFIX}$arg_avg_f last;
            }}
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            # TLS ends here in production ($scheme); the bench's clients say https.
            proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;
        }}
        # DJANGO_SENDFILE=x-accel-redirect, DJANGO_SENDFILE_PREFIX={SENDFILE_PREFIX}
        location {SENDFILE_PREFIX} {{
            internal;
            alias {media}/;
            add_header Cache-Control "private, no-store" always;
            add_header Content-Disposition $avg_link_disposition;
        }}
        # Only here: the same bytes as a plain static file, to compare with.
        location /static/ {{
            alias {static}/;
        }}
    }}
}}
"""


def start_nginx(
    children: Children, directory: Path, upstream: int, media: Path, static: Path
) -> tuple[int, int] | None:
    """nginx in front of the gunicorn on `upstream`: its port and master's pid, or None
    when nginx is not installed."""
    binary = nginx_binary()
    if binary is None:
        return None
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(nginx_config(directory, port, upstream, media, static))
    argv = [
        binary,
        "-p",
        str(directory),
        "-e",
        str(directory / "nginx-error.log"),
        "-c",
        str(config),
    ]
    process = children.start("nginx", argv, dict(os.environ))
    wait_for_port(port, process, "nginx", children.log("nginx"))
    return port, process.pid


def loaded_weasyprint(pid: int) -> bool:
    """Whether the process has WeasyPrint's libraries (Pango) loaded: it rendered a PDF."""
    with contextlib.suppress(OSError):
        return "libpango" in Path(f"/proc/{pid}/maps").read_text()
    return False


# Start-up and memory against a minimal Django project ------------------------------------

# The minimal project is what `django-admin startproject` makes, pointed at the same
# PostgreSQL server, with one view that asks the database one thing: a Django site that does
# nothing of its own. (An earlier baseline ran two apps on an in-memory SQLite database,
# which never loads a database driver; psycopg with libpq is 20 MB of any real site.)
MINIMAL_SETTINGS = """
import os
import dj_database_url
SECRET_KEY = "minimal-" + "k" * 60
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "minimal_urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
STATIC_URL = "static/"
"""
MINIMAL_URLS = """
from django.contrib import admin
from django.db import connection
from django.http import HttpResponse
from django.urls import path


def hello(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return HttpResponse(str(cursor.fetchone()[0]))


urlpatterns = [path("admin/", admin.site.urls), path("", hello)]
"""
MINIMAL_WSGI = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "minimal_settings"
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""
MINIMAL_MANAGE = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "minimal_settings"
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


def minimal_project(directory: Path) -> Path:
    folder = directory / "minimal"
    folder.mkdir()
    (folder / "minimal_settings.py").write_text(MINIMAL_SETTINGS)
    (folder / "minimal_urls.py").write_text(MINIMAL_URLS)
    (folder / "manage.py").write_text(MINIMAL_MANAGE)
    (folder / "minimal_wsgi.py").write_text(MINIMAL_WSGI)
    return folder


def child_cpu(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)  # noqa: S603
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup(minimal: Path, env: dict[str, str], bare_env: dict[str, str]) -> None:
    app, bare = [], []
    deadline = time.monotonic() + 60
    while len(app) < 3 or (
        time.monotonic() < deadline
        and spread([a / b for a, b in zip(app, bare, strict=True)]) > TARGET_SPREAD
    ):
        app.append(child_cpu([sys.executable, "manage.py", "check"], ROOT, env))
        bare.append(child_cpu([sys.executable, "manage.py", "check"], minimal, bare_env))
    ratios = [a / b for a, b in zip(app, bare, strict=True)]
    print()
    print(
        f"  manage.py check CPU: {statistics.median(app):.2f} s, minimal Django project"
        f" {statistics.median(bare):.2f} s: {statistics.median(ratios):.2f}x"
        f" ±{spread(ratios) / 2:.0%} ({len(app)} interleaved runs)"
    )


def gunicorn(
    children: Children, name: str, wsgi: str, port: int, env: dict[str, str], cwd: Path
) -> int:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        wsgi,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--forwarded-allow-ips",
        "127.0.0.1",
        "--error-logfile",
        "-",
    ]
    log = children.logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    children.running.append((name, process))
    wait_for_port(port, process, name, log)
    return process.pid


# Main -----------------------------------------------------------------------------------


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="avg-portal-http-") as folder:
        directory = Path(folder)
        media = directory / "media"
        from avg_portal.seal import _development_certificate

        seal = _development_certificate(directory / "seal")
        env = environment(media, seal)
        os.environ.update(env)
        print(f"Database {DATABASE_URL}: made afresh; {BIG} and {SMALL} agreements ...", flush=True)
        fresh_database()
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        started = time.perf_counter()
        fixture = fill()
        from django.db import connections

        connections.close_all()
        vacuum_analyze()
        print(f"  filled and analysed in {time.perf_counter() - started:.0f} s", flush=True)
        static_copy = Path(settings.STATIC_ROOT) / "bench-sealed.pdf"
        static_copy.write_bytes(fixture.sealed_bytes)
        try:
            with Children(directory) as children:
                measure(children, directory, env, media, seal, fixture, static_copy.parent)
        except Exception:
            for log in sorted(directory.glob("*.log")):
                print(f"--- {log.name} (last lines)\n{tail(log)}", file=sys.stderr)
            raise
        finally:
            static_copy.unlink(missing_ok=True)


def measure(
    children: Children,
    directory: Path,
    env: dict[str, str],
    media: Path,
    seal: tuple[Path, Path],
    fixture: Fixture,
    static: Path,
) -> None:
    stream_port, handoff_port, minimal_port = free_port(), free_port(), free_port()
    stream = gunicorn(children, "web", "avg_portal.wsgi", stream_port, env, ROOT)
    handoff = gunicorn(
        children,
        "web-handoff",
        "avg_portal.wsgi",
        handoff_port,
        environment(media, seal, sendfile="x-accel-redirect", link_secret=LINK_SECRET),
        ROOT,
    )
    minimal = minimal_project(directory)
    bare_env = env | {"DJANGO_SETTINGS_MODULE": "minimal_settings"}
    bare = gunicorn(children, "minimal", "minimal_wsgi", minimal_port, bare_env, minimal)
    front = start_nginx(children, directory, handoff_port, media, static)

    def pdf(expected: bytes) -> Callable[[http.client.HTTPResponse, bytes], bool]:
        return lambda response, body: response.status == 200 and body == expected

    def named_pdf(expected: bytes) -> Callable[[http.client.HTTPResponse, bytes], bool]:
        """The file, with the download's name that nginx adds from the link."""
        return lambda response, body: (
            response.status == 200
            and body == expected
            and "filename*=UTF-8''" in (response.getheader("Content-Disposition") or "")
        )

    def handed_off(response: http.client.HTTPResponse, body: bytes) -> bool:
        return response.status == 200 and bool(response.getheader("X-Accel-Redirect")) and not body

    # Kept already (fill): served from storage.
    draft_response, draft = get(stream_port, fixture.draft_url, fixture.small_cookie)
    assert draft_response.status == 200, draft_response.status
    variants = [
        Variant("trivial view (/verify/ GET)", stream_port, [stream], "/verify/"),
        Variant(
            f"archive page, {BIG} agreements",
            stream_port,
            [stream],
            "/agreements/",
            fixture.big_cookie,
        ),
        Variant(
            f"archive page, {SMALL} agreements",
            stream_port,
            [stream],
            "/agreements/",
            fixture.small_cookie,
        ),
        Variant(f"dashboard, {BIG} agreements", stream_port, [stream], "/", fixture.big_cookie),
        Variant(
            f"client list, {BIG // 10} clients",
            stream_port,
            [stream],
            "/clients/",
            fixture.big_cookie,
        ),
        Variant(
            "draft PDF download, again",
            stream_port,
            [stream],
            fixture.draft_url,
            fixture.small_cookie,
            pdf(draft),
        ),
        Variant(
            "signed PDF download, streamed",
            stream_port,
            [stream],
            fixture.sealed_url,
            fixture.small_cookie,
            pdf(fixture.sealed_bytes),
        ),
        Variant(
            "signed PDF download, X-Accel-Redirect",
            handoff_port,
            [handoff],
            fixture.sealed_url,
            fixture.small_cookie,
            handed_off,
        ),
        Variant(
            "the same bytes as a static file",
            stream_port,
            [stream],
            "/static/bench-sealed.pdf",
            "",
            pdf(fixture.sealed_bytes),
        ),
    ]
    through_nginx = "signed PDF download via nginx, X-Accel-Redirect"
    linked_nginx = "signed PDF via nginx, the page's signed link"
    static_nginx = "the same bytes as a static file from nginx"
    if front is None:
        print(f"  ({NGINX_HINT})")
    else:
        nginx_port, nginx = front
        signed_link = page_link(nginx_port, fixture.sealed_url, fixture.small_cookie)
        variants += [
            Variant(
                linked_nginx,
                nginx_port,
                [nginx, handoff],
                signed_link,
                fixture.small_cookie,
                named_pdf(fixture.sealed_bytes),
            ),
            Variant(
                through_nginx,
                nginx_port,
                [nginx, handoff],
                fixture.sealed_url,
                fixture.small_cookie,
                pdf(fixture.sealed_bytes),
            ),
            Variant(
                static_nginx,
                nginx_port,
                [nginx],
                "/static/bench-sealed.pdf",
                "",
                pdf(fixture.sealed_bytes),
            ),
        ]
    if fixture.signing_token:
        response, _body = get(stream_port, f"/sign/{fixture.signing_token}/")
        cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
        variants.insert(4, Variant("client signing page", stream_port, [stream], "/sign/", cookie))
    for variant in variants:  # warm every worker and check every answer once
        for _ in range(WORKERS * 2):
            response, body = get(variant.port, variant.path, variant.cookie)
            ok = variant.expect(response, body) if variant.expect else response.status == 200
            if not ok:
                raise RuntimeError(f"{variant.name}: {response.status} {body[:300]!r}")
    print(
        f"HTTP, gunicorn {WORKERS} sync workers, DEBUG off, PostgreSQL, Redis; "
        f"{CONNECTIONS} connections, {BURST_S:.0f} s bursts, rounds interleaved:",
        flush=True,
    )
    baseline = variants[0].name
    results = run_rounds(variants, baseline)
    report(results, baseline)
    print()
    pair_ratio(results, "signed PDF download, streamed", "the same bytes as a static file")
    if front is not None:
        pair_ratio(results, through_nginx, static_nginx)
        pair_ratio(results, linked_nginx, static_nginx)
    else:
        print(f"  ({NGINX_HINT})")

    for _ in range(20):
        get(minimal_port, "/")
    app_rss = statistics.median(rss_mb(pid) for pid in worker_pids(stream))
    bare_rss = statistics.median(rss_mb(pid) for pid in worker_pids(bare))
    print()
    app_private = statistics.median(private_mb(pid) for pid in worker_pids(stream))
    bare_private = statistics.median(private_mb(pid) for pid in worker_pids(bare))
    print(
        f"  web worker memory (RSS after the run): {app_rss:.0f} MB, minimal Django project"
        f" {bare_rss:.0f} MB: {app_rss / bare_rss:.2f}x; private memory {app_private:.0f} MB,"
        f" minimal {bare_private:.0f} MB: {app_private / bare_private:.2f}x"
    )
    rendered = [pid for pid in worker_pids(stream) + worker_pids(handoff) if loaded_weasyprint(pid)]
    print(
        "  measured workers with WeasyPrint loaded (a PDF rendered in a request): "
        f"{len(rendered)} of {WORKERS * 2}"
    )
    startup(minimal, env, bare_env)


if __name__ == "__main__":
    main()
