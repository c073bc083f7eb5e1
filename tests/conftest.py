import contextlib
import gc
import hashlib
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from agreements.defaults import apply_practice_defaults
from agreements.models import Practice
from avg_portal.models import User
from core.immutability import drop_sqlite_triggers

PASSWORD = "een-lang-wachtwoord-42"
CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "nl" / "LC_MESSAGES"


def pytest_configure(config):
    """The Dutch the tests read comes from the compiled catalogue, which git does not keep
    (`make test` compiles it first). Run as `pytest` in a fresh clone, the suite would fail
    in some 240 places over a missing translation: say what to run instead."""
    if hasattr(config, "workerinput"):
        return
    source, compiled = CATALOGUE / "django.po", CATALOGUE / "django.mo"
    if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
        pytest.exit(
            "The Dutch translations are not compiled, or older than locale/nl/.../django.po: "
            "run `make messages` (or `make test`, which does it first).",
            returncode=4,
        )


def pytest_collection_finish(session):
    """Once the tests are collected, what is loaded by then (Django, the app, the libraries,
    the test modules) stays for the whole run: the garbage collector is told to leave it out
    of its scans. Each full collection walked all of it again, about a tenth of the suite's
    CPU; with this, collections look only at what the tests themselves make."""
    gc.collect()
    gc.freeze()


def pytest_terminal_summary(terminalreporter, config):
    """A fixed piece of work timed after the run, so that the suite's time on different
    machines can be compared (issue 9's goal is a time on "a quiet 2-core machine")."""
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    timings = []
    for _ in range(3):
        started = time.process_time()
        sum(i * i for i in range(3_000_000))
        timings.append(time.process_time() - started)
    terminalreporter.write_line(
        f"Machine reference: 3 million squares summed in {min(timings):.2f} s of CPU, the "
        "best of 3 (the README gives the suite's time with this figure, for comparison)"
    )


# Argon2 is what production uses (tests/test_settings.py checks it); the suite hashes
# hundreds of passwords, so it uses a fast hasher.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


def media_settings(folder):
    """Stored files in `folder`: a test's own, not the developer's media/."""
    from django.conf import settings

    return {
        "MEDIA_ROOT": folder,
        "STORAGES": settings.STORAGES
        | {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": folder},
            }
        },
    }


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path):
    for name, value in media_settings(tmp_path / "media").items():
        setattr(settings, name, value)


def stored_pdf(document):
    """The sealed file of an agreement or a declaration, as stored."""
    with document.final_pdf.open("rb") as stored:
        return stored.read()


@pytest.fixture(autouse=True)
def _flush_past_the_immutability_triggers(request):
    """Transactional tests end with a flush that empties every table. On PostgreSQL that is
    a TRUNCATE, which row triggers do not see; on SQLite it is a DELETE of every row, which
    the triggers that keep evidence immutable (core.immutability) refuse. So on SQLite they
    are dropped just before the flush, and the post_migrate signal the flush sends puts them
    back, as after every migrate (core.immutability.restore_after_migrate)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    # Requested here so that it is torn down, and the flush run, after this fixture.
    request.getfixturevalue("transactional_db")
    assert not connection.in_atomic_block, (
        "a transactional test cannot run inside a module's `module_rows`: move it to a module "
        "of its own"
    )
    yield
    if connection.vendor == "sqlite":
        drop_sqlite_triggers(connection)


@pytest.fixture(autouse=True)
def _dutch(settings):
    settings.LANGUAGE_CODE = "nl"


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate limits count in the cache (link guesses, signer codes per link and address); every
    # test's client comes from 127.0.0.1, so each test starts with none counted.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _record_entries_only_where_asked(request):
    """Laying out a sealed agreement's entries in the processing record (records.
    record_entries, on `terms_changed`) is a full PDF render that the immediate task backend
    runs inside every test that seals. Tests marked `record_entries` (the record's and the
    export's) keep it; the others, about other things, do without."""
    if request.node.get_closest_marker("record_entries"):
        yield
        return
    with record_entries_off():
        yield


@contextlib.contextmanager
def record_entries_off():
    from agreements.signals import terms_changed
    from records.record_entries import on_terms_changed

    terms_changed.disconnect(dispatch_uid="records.record_entries")
    try:
        yield
    finally:
        terms_changed.connect(on_terms_changed, dispatch_uid="records.record_entries")


@pytest.fixture(scope="session", autouse=True)
def _each_html_laid_out_once():
    """WeasyPrint turns the same HTML with the same metadata into the same PDF, so within a
    test process a second render of identical input reuses the first one's bytes: a
    real render of exactly that HTML, not a stand-in. Most tests print the same few
    documents (the demo coach's agreement, its final with the same signatures), and this
    halves the suite's rendering. Input that differs in any byte is rendered afresh; a
    render that fails is not remembered."""
    from avg_portal import pdf

    render = pdf.render_pdf
    laid_out = {}

    def render_pdf(html, *, title, author, lang="nl", allowed_data_uris=()):
        allowed = tuple(sorted(allowed_data_uris))
        key = hashlib.sha256(repr((html, title, author, lang, allowed)).encode()).digest()
        if key not in laid_out:
            laid_out[key] = render(
                html, title=title, author=author, lang=lang, allowed_data_uris=allowed
            )
        return laid_out[key]

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(pdf, "render_pdf", render_pdf)
        yield


@pytest.fixture(scope="session", autouse=True)
def _static_files_listed_once():
    """Django's test client builds its middleware anew for every test, and WhiteNoise's
    lists every file under STATIC_ROOT each time it is built: with a collected static folder
    (`make bench-http` leaves one) that was a fifth of the suite's time. The listing is kept
    per folder and per WhiteNoise configuration; the files do not change during a run."""
    from whitenoise.base import WhiteNoise

    listing = WhiteNoise.update_files_dictionary
    listed = {}

    def update_files_dictionary(self, root, prefix):
        key = (
            root,
            prefix,
            self.max_age,
            self.allow_all_origins,
            self.charset,
            self.index_file,
            _function(self.add_headers_function),
            _function(self.immutable_file_test),
            tuple(sorted(self.media_types.types_map.items())),
        )
        if key not in listed:
            before = dict(self.files)
            listing(self, root, prefix)
            listed[key] = {url: f for url, f in self.files.items() if before.get(url) is not f}
        self.files.update(listed[key])

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(WhiteNoise, "update_files_dictionary", update_files_dictionary)
        yield


def _function(method):
    """A bound method's function: each middleware instance binds its own."""
    return getattr(method, "__func__", method)


@pytest.fixture
def renders(monkeypatch):
    """Every HTML document WeasyPrint lays out, in order; the renders themselves are real
    (counted above the shared renders of `_each_html_laid_out_once`)."""
    rendered: list[str] = []
    from avg_portal import pdf

    real = pdf.render_pdf

    def counting(html, **options):
        rendered.append(html)
        return real(html, **options)

    monkeypatch.setattr(pdf, "render_pdf", counting)
    return rendered


@pytest.fixture(scope="module")
def module_pdfs():
    """PDFs rendered once for a whole test module (see `rendered_once`)."""
    return {}


@pytest.fixture(scope="module")
def module_rows(django_db_setup, django_db_blocker, tmp_path_factory, module_pdfs):
    """For a module whose tests all look at the same costly rows (a sealed agreement, say)
    and change nothing that outlives them: module-scoped fixtures that request this make
    those rows once, as Django's `TestCase.setUpTestData` does. They are made in a
    transaction that each test's own transaction nests in, as a savepoint that is rolled
    back after the test, and that is itself rolled back after the module's last test. They
    are made as the autouse fixtures above make a test's (fast hashing, Dutch, no record
    entries, each PDF rendered once); their files go to a folder of the module's own, which
    the tests must use (`media_settings(module_rows)`). Transactional
    tests cannot run inside it (`_flush_past_the_immutability_triggers` says so), and a
    test that counts every row of a table sees these too."""
    from django.core.cache import cache
    from django.db import transaction
    from django.test import override_settings

    media = tmp_path_factory.mktemp("module-media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=FAST_PASSWORD_HASHERS, LANGUAGE_CODE="nl", **media_settings(media)
        ),
        record_entries_off(),
        rendered_once(module_pdfs),
        transaction.atomic(),
    ):
        cache.clear()
        yield media
        transaction.set_rollback(True)


@contextlib.contextmanager
def rendered_once(cache, kinds=("agreement", "declaration", "addendum")):
    """For tests about what happens to a document (storing, sealing, retrying, locking,
    serving), not about what it says: each kind of signable PDF (the one the parties sign,
    the final one) is rendered once per module and its bytes reused. Sealing, hashing and
    storing still run each time. Tests that read a PDF's text render it for real."""
    from agreements import documents

    render = documents.render_pdf

    def once(document, *, final=False):
        if document.kind not in kinds:
            return render(document, final=final)
        key = (document.kind, final)
        if key not in cache:
            cache[key] = render(document, final=final)
        return cache[key]

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(documents, "render_pdf", once)
        yield


@pytest.fixture
def render_once(module_pdfs):
    """`rendered_once` for the whole test."""
    with rendered_once(module_pdfs):
        yield


def make_practice(name="Coachpraktijk De Linde", **fields):
    defaults = {
        "statutory_seat": "Tilburg",
        "address": "Lindelaan 12, 5038 AB Tilburg",
        "kvk_number": "12345678",
        "email": "info@delinde.test",
        "phone": "013 123 45 67",
        "breach_contact_role": "de coach",
        "breach_contact_phone": "06 12345678",
        "breach_contact_email": "privacy@delinde.test",
    }
    practice = Practice.objects.create(name=name, **(defaults | fields))
    apply_practice_defaults(practice)
    return practice


def make_coach(email="mado@delinde.test", *, practice=None, confirmed=True, with_device=True):
    user = User.objects.create_user(
        email=email,
        password=PASSWORD,
        practice=practice or make_practice(),
        email_confirmed_at=timezone.now() if confirmed else None,
    )
    if with_device:
        TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def totp_code(device, steps_ahead=0):
    """The code the authenticator app shows, optionally for a later 30-second step (a code is
    accepted once, so a second login within the same step needs the next one)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, drift=steps_ahead)
    return f"{code:0{device.digits}d}"


def login_verified(client, user):
    """A session as after a full login with password and TOTP."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.get().persistent_id
    session.save()
    return client


@pytest.fixture
def coach(db):
    return make_coach()


@pytest.fixture
def coach_client(client, coach):
    return login_verified(client, coach)


@pytest.fixture
def stranger(db):
    return make_coach("vreemde@andere-praktijk.test", practice=make_practice("Praktijk Anders"))


class SmtpInbox:
    """What a real SMTP server, started by the test, received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address):
        return [m for m in self.messages if address in m["To"]]


def _free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving_smtp(settings, handler):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) answering with `handler`; the app's
    default mailer points at it while the block runs."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server that accepts every message into an inbox the test reads."""
    with serving_smtp(settings, SmtpInbox()) as inbox:
        yield inbox
