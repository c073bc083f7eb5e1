"""How long the agreement PDF takes, measured against a one-paragraph WeasyPrint document
rendered in the same run: absolute figures drift between machines and runs, ratios do not.
Beside them, the same agreement printed as it was before issue 15 (its print stylesheet of
2026-11-29, bench/agreement-print-2026-11.css, and a fresh font configuration per render):
the ratio of the two is issue 15's "a first render ≤ 0.7× today's CPU".

The "signing" section times the last step people wait for: from the client's signature to
the sealed PDF stored (`signing.complete`: render the final PDF, seal, store it with its
SHA-256), with the B-B seal of a deployment without a TSA and the B-LTA seal against the
simulated PKI of bench/seal.py, interleaved.

Runs on a throwaway SQLite database. To add a benchmark, add a function that takes the
fixture agreement and returns what to time, and list it in BENCHMARKS.

The "export" section measures memory: how far the process's resident memory rises while
the dossier ZIP of 100 and of 1,000 agreements streams into a file. `python -m bench export`
runs only that section.

The "seal" section (bench/seal.py) times the PAdES B-LTA seal (timestamp, validation data,
document timestamp, against a simulated PKI on loopback) beside today's B-B seal, and the
growth of the file.

The "archive" section times `verify_archive` on 1,000 sealed agreements (seconds per 1,000
and the ratio to a plain SHA-256 of the same files): it must stay fast enough to run daily.

The "instructions" section (bench/instructions.py) runs only when named, `python -m bench
instructions`: the first render counted in machine instructions under valgrind, today, as
before issue 15, and without each of its costly parts; it takes a few minutes.

The "scale" section (bench/scale.py) runs only when named, `python -m bench scale`: it takes
minutes and needs PostgreSQL and Redis. 200 clients sign at once through two gunicorn
instances, two workers seal; it runs in a process of its own with production settings.
"""

import io
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROUNDS = 20
PARAGRAPH = (
    '<html lang="nl"><body><p style="font-family: \'DejaVu Serif\'">Deze '
    "Verwerkersovereenkomst treedt in werking op de datum waarop wij deze ondertekenen."
    "</p></body></html>"
)


def setup_django(database):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avg_portal.settings")
    # Always the throwaway database and folder, even when the environment names real ones.
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_MEDIA_ROOT"] = str(Path(database).parent)
    os.environ["DJANGO_EMAIL_URL"] = "locmem://"
    # Queue the completion without running it, as the database backend does in production;
    # the benchmark runs it itself, timed.
    os.environ["DJANGO_TASKS_BACKEND"] = "django.tasks.backends.dummy.DummyBackend"
    import django

    django.setup()
    # WeasyPrint logs each rendering step at INFO: hundreds of lines here.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_agreement():
    """A practice with the coaching defaults, a client and a fully filled draft."""
    from agreements.actions import agreement_create_draft
    from agreements.defaults import apply_practice_defaults
    from agreements.models import Client, Practice
    from core.origin import Origin

    practice = Practice.objects.create(
        name="Coachpraktijk De Linde",
        statutory_seat="Tilburg",
        email="info@delinde.test",
        breach_contact_role="de coach",
        breach_contact_phone="06 12345678",
        breach_contact_email="privacy@delinde.test",
        default_penalty_per_violation=Decimal("2500"),
        default_penalty_per_day=Decimal("250"),
    )
    apply_practice_defaults(practice)
    practice.extra_measures = "Papieren dossiers in een afgesloten kast\nWachtwoordmanager"
    practice.save()
    client = Client.objects.create(
        practice=practice, name="Zoë Ünal-Brontë", residence="Breda", email="zoe@example.test"
    )
    return agreement_create_draft(practice=practice, client=client, origin=Origin.system())


def agreement_pdf(agreement):
    from agreements.documents import render_agreement_pdf

    return lambda: render_agreement_pdf(agreement)


# The print stylesheet before issue 15, kept here to be measured against.
BEFORE_CSS = Path(__file__).with_name("agreement-print-2026-11.css")


def agreement_print_html(agreement):
    """The print HTML of `agreement` as `render_agreement_pdf` lays it out, and the data:
    URIs (signature images) it may embed."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from agreements import documents

    with translation.override(documents.DOCUMENT_LANGUAGE):
        context = documents.document_context(agreement)
        html = render_to_string(documents.PRINT_TEMPLATE, context)
    return html, documents.signature_images(context["signatures"])


def with_stylesheet(html, css):
    """`html` with its print stylesheet replaced by `css`, inlined (fetching the file costs
    a fraction of a millisecond)."""
    html, found = re.subn(
        r'<link rel="stylesheet" href="[^"]*agreement-print[^"]*\.css">',
        lambda _match: f"<style>{css}</style>",
        html,
    )
    assert found == 1, "print.html no longer links agreement-print.css"
    return html


def agreement_pdf_before(agreement):
    """The same agreement printed as on 2026-11-29: the same HTML with the print stylesheet
    of then, laid out as `avg_portal.pdf.render_pdf` did then."""
    html, allowed_data_uris = agreement_print_html(agreement)
    html = with_stylesheet(html, BEFORE_CSS.read_text())
    return lambda: render_as_before(html, allowed_data_uris)


def render_as_before(html, allowed_data_uris):
    """`avg_portal.pdf.render_pdf` of 2026-11-29 (commit a37c2fb): a new FontConfiguration
    for every render, and a URL fetcher with urllib's default SSL context (the system's
    certificate authorities, loaded anew for every render)."""
    import weasyprint

    from avg_portal import pdf

    class FetcherOfThen(pdf.StaticFilesURLFetcher):
        def __init__(self, *, allowed_data_uris):
            weasyprint.URLFetcher.__init__(self, fail_on_errors=True)
            self.allowed_data_uris = frozenset(allowed_data_uris)
            self.requested = []

    fetcher = FetcherOfThen(allowed_data_uris=allowed_data_uris)
    document = weasyprint.HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=fetcher).render(
        pdf_variant=pdf.PDF_VARIANT
    )
    document.metadata.title = "Verwerkersovereenkomst"
    document.metadata.authors = ["Bench"]
    document.metadata.lang = "nl"
    return document.write_pdf(pdf_variant=pdf.PDF_VARIANT)


def paragraph_pdf(agreement):
    from avg_portal.pdf import render_pdf

    return lambda: render_pdf(PARAGRAPH, title="Alinea", author="Bench")


# The first is measured against the others; the last is the baseline of every ratio.
BENCHMARKS = {
    "agreement": agreement_pdf,
    "before": agreement_pdf_before,
    "paragraph": paragraph_pdf,
}


# The PDF section repeats rounds until the ratio's spread is below this, or the time is up.
PDF_TARGET_SPREAD = 0.05
PDF_BUDGET_S = float(os.environ.get("BENCH_PDF_SECONDS", "60"))


def spread(values):
    """The interquartile range relative to the median (the range for fewer than 4)."""
    if len(values) < 4:
        return (max(values) - min(values)) / statistics.median(values)
    quartiles = statistics.quantiles(values, n=4)
    return (quartiles[2] - quartiles[0]) / statistics.median(values)


def ratios(timings, a, b, kind="cpu"):
    """Per round, the time of task `a` over that of task `b`."""
    return [x / y for x, y in zip(timings[a][kind], timings[b][kind], strict=True)]


def measure(tasks, rounds):
    """Wall and CPU milliseconds per task, the tasks interleaved so that drift hits all of
    them alike; at least `rounds` rounds, more while the CPU ratio of the first task to any
    other is spread more than PDF_TARGET_SPREAD, until PDF_BUDGET_S. CPU time is what the
    work costs whatever else the machine runs; wall time is what a person waits. One untimed
    warm-up round first: it loads fonts and fills caches."""
    for task in tasks.values():
        task()
    timings = {name: {"wall": [], "cpu": []} for name in tasks}
    first, *others = tasks
    deadline = time.monotonic() + PDF_BUDGET_S
    while True:
        for name, task in tasks.items():
            wall, cpu = time.perf_counter(), time.process_time()
            task()
            timings[name]["cpu"].append((time.process_time() - cpu) * 1000)
            timings[name]["wall"].append((time.perf_counter() - wall) * 1000)
        done = len(timings[first]["cpu"]) >= rounds
        spread_ok = all(spread(ratios(timings, first, o)) <= PDF_TARGET_SPREAD for o in others)
        if done and (spread_ok or time.monotonic() > deadline):
            return timings


def page_count(pdf):
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def report(timings, pdf):
    import weasyprint

    rounds = len(timings["agreement"]["cpu"])
    print(f"WeasyPrint {weasyprint.__version__}: {rounds} rounds, interleaved, after a warm-up")
    print()
    print(f"  {'benchmark':<12} {'CPU median':>12} {'wall median':>12} {'wall min':>10}")
    for name, values in timings.items():
        print(
            f"  {name:<12} {statistics.median(values['cpu']):>9.1f} ms"
            f" {statistics.median(values['wall']):>9.1f} ms {min(values['wall']):>7.1f} ms"
        )
    print()
    print(f"Agreement PDF: {page_count(pdf)} pages, {len(pdf) / 1024:.0f} KB")
    for kind in ("cpu", "wall"):
        per_round = ratios(timings, "agreement", "paragraph", kind)
        print(
            f"Ratio agreement / paragraph ({kind.upper()}): {statistics.median(per_round):.1f}x"
            f" ±{spread(per_round) / 2:.0%}"
        )
    for kind in ("cpu", "wall"):
        per_round = ratios(timings, "agreement", "before", kind)
        print(
            f"First render, today / before issue 15 ({kind.upper()}):"
            f" {statistics.median(per_round):.2f}x ±{spread(per_round) / 2:.0%}"
            + ("  (goal: at most 0.7x)" if kind == "cpu" else "")
        )
    print(
        "  (the same ratio in instructions, unmoved by the machine's load: make bench-instructions)"
    )


SIGNING_ROUNDS = 8


def signed_agreements(count):
    """Agreements signed by both parties whose final PDF is not made yet: the state right
    after the client's POST, when the completion task is queued."""
    from django.test import RequestFactory

    from agreements import signer_codes, signing
    from agreements.signing import SignatureInput
    from avg_portal.models import OutboxMessage, User
    from core.origin import Origin

    coach = User.objects.create_user(email=f"bench{time.monotonic_ns()}@example.test")
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.1", HTTP_USER_AGENT="bench")
    request.user = coach
    image = _signature_png()
    agreements, client_posts = [], []
    for _ in range(count):
        agreement = make_agreement()
        token = sign_and_send(agreement, request, image)
        link = signing.link_for_token(token)
        client = SignatureInput("Zoë Ünal-Brontë", "Cliënt", "Breda", "drawn", image)
        origin = Origin.of_client(request, client.name)
        # The signer code he asks for and types in; it waits in the outbox like the link.
        signer_codes.signer_code_send(link=link, origin=origin)
        digits = re.search(r"^\s*(\d{6})\s*$", OutboxMessage.objects.latest("id").body_text, re.M)
        code = signer_codes.signer_code_confirm(link=link, entered=digits[1], origin=origin)
        start = time.perf_counter()
        signing.client_sign(link=link, signature=client, origin=origin, signer_code=code)
        client_posts.append((time.perf_counter() - start) * 1000)
        agreements.append(agreement)
    return agreements, client_posts


def sign_and_send(agreement, request, image):
    """The coach signs `agreement` and sends it; the token of the client's link."""
    from agreements import signing
    from agreements.signing import SignatureInput
    from avg_portal.models import OutboxMessage
    from core.origin import Origin

    signature = SignatureInput("Mado Remkes", "Coach", "Tilburg", "drawn", image)
    signing.agreement_sign_and_send(
        agreement=agreement, signature=signature, origin=Origin.of_coach(request)
    )
    # The invitation waits in the outbox (no worker runs here); the link is in its text.
    invitation = OutboxMessage.objects.latest("id").body_text
    return invitation.split("/sign/")[1].split("/")[0]


def signed_link_token():
    """A fresh agreement signed by its coach and sent: the token of the client's link."""
    from django.test import RequestFactory

    from avg_portal.models import User

    coach = User.objects.create_user(email=f"bench{time.monotonic_ns()}@example.test")
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.1", HTTP_USER_AGENT="bench")
    request.user = coach
    return sign_and_send(make_agreement(), request, _signature_png())


def _signature_png():
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 150), (255, 255, 255, 0))
    ImageDraw.Draw(image).line(
        [(20, 100), (120, 30), (220, 110), (360, 40)], fill=(11, 42, 91, 255), width=4
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class Stopwatch:
    """Times every call of `module.name` (wall and CPU milliseconds) while it is installed:
    the render and the seal inside `signing.complete`, without doing either twice."""

    def __init__(self, module, name):
        self.module, self.name = module, name
        self.wall, self.cpu = [], []

    def __enter__(self):
        original = self.original = getattr(self.module, self.name)

        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu.append((time.process_time() - cpu) * 1000)
                self.wall.append((time.perf_counter() - wall) * 1000)

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(self.module, self.name, self.original)


def median_and_spread(values):
    return f"{statistics.median(values):>7.0f} ms ±{spread(values) / 2:>4.0%}"


def measure_completion():
    """From the last signature to the sealed PDF stored: `signing.complete`, what the
    completion task queued by the client's signature runs (render the final PDF, seal it,
    store it with its SHA-256, queue the copies), on SIGNING_ROUNDS agreements per seal:
    B-B as without a TSA and B-LTA against the simulated PKI of bench/seal.py (TSA, OCSP and
    CRL on loopback, in this process: their CPU counts, about 200 ms a seal of it the
    simulated PKI loading its own keys), interleaved. The render and the seal inside it are
    timed as they happen."""
    from django.test import override_settings

    from agreements import documents, signing
    from avg_portal import seal
    from tests.pki import SimulatedPKI

    # The simulated PKI's server and pyHanko's fetchers log every request.
    for name in ("werkzeug", "pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # One more per seal for the warm-up round: pyHanko's import, the TSA's sample token.
    agreements, client_posts = signed_agreements(2 * (SIGNING_ROUNDS + 1))
    with tempfile.TemporaryDirectory(prefix="avg-portal-pki-") as folder:
        pki = SimulatedPKI(Path(folder))
        try:
            lta = pki.settings()
            seals = {"B-B": {**lta, "TSA_URLS": []}, "B-LTA": lta}
            timings = {
                label: {
                    "complete": Stopwatch(signing, "complete"),
                    "render": Stopwatch(documents, "render_pdf"),
                    "seal": Stopwatch(seal, "seal_pdf"),
                }
                for label in seals
            }
            for round_number in range(SIGNING_ROUNDS + 1):
                for label, overrides in seals.items():
                    watches = timings[label]
                    with (
                        override_settings(**overrides),
                        watches["complete"],
                        watches["render"],
                        watches["seal"],
                    ):
                        signing.complete(agreements.pop().key)
                    if not round_number:
                        for watch in watches.values():
                            watch.wall.clear()
                            watch.cpu.clear()
        finally:
            pki.stop()
    print()
    print(
        f"Last signature -> sealed PDF stored (signing.complete), {SIGNING_ROUNDS} agreements"
        " per seal, interleaved, after a warm-up; median ±half the interquartile range:"
    )
    print(f"  {'':<34} {'wall':>16} {'CPU':>16}")
    print(f"  {'client sign POST (task queued)':<34} {median_and_spread(client_posts)}")
    for label, watches in timings.items():
        for part in ("render", "seal", "complete"):
            name = {"render": "final render", "seal": f"seal {label}"}.get(part, "whole task")
            watch = watches[part]
            print(
                f"  {label + ': ' + name:<34} {median_and_spread(watch.wall)}"
                f" {median_and_spread(watch.cpu)}"
            )
    for label, watches in timings.items():
        print(
            f"Sealing time {label}: median {statistics.median(watches['complete'].wall):.0f} ms"
            f" wall, {statistics.median(watches['complete'].cpu):.0f} ms CPU"
            " (goal: at most 1,000 ms on a quiet 2-core machine)"
        )


EXPORT_SIZES = (100, 1000)


def export_practice_with(count):
    """A practice with `count` archived agreements made cheaply: real rows (Bijlage 1,
    events), and a stored ~150 KB stand-in for the sealed PDF instead of rendering one."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction
    from django.utils import timezone

    from agreements.models import Agreement, AgreementEnding, AgreementEvent, AgreementStatus
    from core.origin import Origin

    first = make_agreement()
    practice, client = first.practice, first.client
    fake_pdf = b"%PDF-1.7\n" + os.urandom(150 * 1024) + b"\n%%EOF\n"
    digest = hashlib.sha256(fake_pdf).hexdigest()
    from agreements.actions import agreement_create_draft

    with transaction.atomic():
        agreements = [first] + [
            agreement_create_draft(practice=practice, client=client, origin=Origin.system())
            for _ in range(count - 1)
        ]
        for agreement in agreements:
            name = default_storage.save(
                f"agreements/bench/{agreement.public_id}.pdf", ContentFile(fake_pdf)
            )
            Agreement.objects.filter(pk=agreement.pk).update(
                status=AgreementStatus.SIGNED,
                final_pdf=name,
                final_sha256=digest,
                completed_at=timezone.now(),
                # As a real sent agreement: the unsigned document is stored on the row.
                document_pdf=fake_pdf,
            )
        AgreementEvent.objects.bulk_create(
            AgreementEvent(agreement=a, kind=kind, actor="system", detail="bench")
            for a in agreements
            for kind in ("signed_practice", "sent", "signed_client", "completed")
        )
        AgreementEnding.objects.bulk_create(
            AgreementEnding(agreement=a, coaching_ended_on=timezone.localdate())
            for a in agreements[::2]
        )
    return practice


def _rss_mb():
    """The process's resident memory now, from /proc (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


class PeakSampler:
    """The highest resident memory seen while it runs, sampled every 10 ms. Unlike
    tracemalloc it sees what C libraries (Pango, Cairo) allocate, and it costs no speed."""

    def __init__(self):
        import threading

        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def keep_record_entries(practice):
    """Each agreement's entries of the processing record kept in storage, as once it was
    sealed (or first exported): the first agreement's entries are rendered, and they stand
    in for every agreement's, kept under each one's own folder and key (the hash of what its
    own entries print), as records.record_entries keeps them."""
    from agreements.models import Agreement
    from avg_portal import pdf
    from records import art30, pdfjoin, record_entries

    stand_in = None
    for public_id, entries in art30.record_groups(Agreement.objects.filter(practice=practice)):
        if stand_in is None:
            html = record_entries.render_html(practice, entries)
            stand_in = pdfjoin.part_of(
                pdf.render_pdf(html, title=record_entries.TITLE, author=practice.name)
            )
        record_entries.keep(public_id, record_entries.entry_key(practice, entries), stand_in)


def measure_export(count, directory, *, kept=False):
    """How far resident memory rises above where it started while the dossier of `count`
    agreements streams into a file, how long that takes (wall and CPU), and the ZIP's size.
    With `kept`, the record's entries are in storage already, as once each agreement has been
    exported; without, this export renders them (and the next one would not)."""
    from records import export

    start = time.perf_counter()
    practice = export_practice_with(count)
    if kept:
        keep_record_entries(practice)
    setup_s = time.perf_counter() - start
    target = Path(directory) / f"export-{count}.zip"
    before = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    with PeakSampler() as sampler, target.open("wb") as out:
        for chunk in export.practice_dossier(practice):
            out.write(chunk)
    export_s = time.perf_counter() - start
    return {
        "setup_s": setup_s,
        "export_s": export_s,
        "cpu_s": time.process_time() - cpu,
        "before_mb": before,
        "growth_mb": sampler.peak - before,
        "zip_mb": target.stat().st_size / 1024 / 1024,
    }


def report_export(directory):
    from django.conf import settings
    from django.db import reset_queries

    from avg_portal.pdf import render_pdf

    # As in production: with DEBUG on, Django keeps every query with its parameters, and
    # the setup's stand-in PDFs alone would fill hundreds of megabytes.
    settings.DEBUG = False
    reset_queries()
    # Warm up first: fonts, templates and WeasyPrint's caches are loaded once per process,
    # whatever the export's size, and would otherwise count against the first size measured.

    render_pdf(PARAGRAPH, title="Alinea", author="Bench")
    measure_export(5, directory)
    results = {}
    print()
    print("Export (streamed ZIP written to a file; stand-in PDFs of 150 KB):")
    print(
        f"  {'agreements':>10} {'record entries':>15} {'setup':>8} {'export':>8} {'CPU':>8}"
        f" {'RSS before':>11} {'peak growth':>12} {'peak RSS':>9} {'ZIP size':>10}"
    )
    for count, kept in ((EXPORT_SIZES[0], False), *((size, True) for size in EXPORT_SIZES)):
        r = results[count, kept] = measure_export(count, directory, kept=kept)
        print(
            f"  {count:>10} {'kept' if kept else 'rendered now':>15}"
            f" {r['setup_s']:>6.1f} s {r['export_s']:>6.1f} s {r['cpu_s']:>6.1f} s"
            f" {r['before_mb']:>8.0f} MB {r['growth_mb']:>9.1f} MB"
            f" {r['before_mb'] + r['growth_mb']:>6.0f} MB {r['zip_mb']:>7.1f} MB",
            flush=True,
        )
    small, large = results[EXPORT_SIZES[0], True], results[EXPORT_SIZES[-1], True]
    print(
        f"Peak growth {EXPORT_SIZES[-1]} / {EXPORT_SIZES[0]} agreements: "
        f"{large['growth_mb'] / max(small['growth_mb'], 0.1):.2f}x"
        f" (ZIP {large['zip_mb'] / small['zip_mb']:.1f}x)"
    )


ARCHIVE_SIZE = 1000


def archive_with(count):
    """`count` sealed agreements, each with its own stored file and a valid evidence chain.
    One real agreement PDF is sealed once and stored under every agreement's name: the check
    reads, hashes and validates each copy as it would a distinct file."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction
    from django.utils import timezone

    from agreements.actions import agreement_create_draft
    from agreements.documents import render_pdf
    from agreements.models import Agreement, AgreementEvent, AgreementStatus
    from avg_portal.seal import seal_pdf
    from core.origin import Origin

    first = make_agreement()
    sealed = seal_pdf(render_pdf(first))
    digest = hashlib.sha256(sealed).hexdigest()
    system = Origin.system()
    with transaction.atomic():
        agreements = [first] + [
            agreement_create_draft(practice=first.practice, client=first.client, origin=system)
            for _ in range(count - 1)
        ]
        for agreement in agreements:
            name = default_storage.save(
                f"agreements/bench-archive/{agreement.public_id}.pdf", ContentFile(sealed)
            )
            for kind in ("signed_practice", "sent", "signed_client"):
                agreement.log(kind, system, document=agreement, detail="bench")
            Agreement.objects.filter(pk=agreement.pk).update(
                status=AgreementStatus.SIGNED,
                final_pdf=name,
                final_sha256=digest,
                completed_at=timezone.now(),
            )
    events = AgreementEvent.objects.filter(agreement__in=agreements).count()
    return (
        [default_storage.path(a.final_pdf.name) for a in Agreement.objects.exclude(final_pdf="")],
        len(sealed),
        events,
    )


def plain_sha256(paths):
    import hashlib

    for path in paths:
        hashlib.sha256(Path(path).read_bytes()).hexdigest()


def report_archive():
    """`manage.py verify_archive` on ARCHIVE_SIZE sealed agreements: each file read and hashed
    against its record, each seal validated, each evidence chain recomputed; beside it a
    plain SHA-256 of the same files, so the figure travels between machines."""
    from django.conf import settings

    from records.archive_audit import verify_archive

    settings.DEBUG = False
    paths, size, events = archive_with(ARCHIVE_SIZE)
    verify_archive()  # warm-up: the seal certificate, the first queries
    start = time.perf_counter()
    report = verify_archive()
    check_s = time.perf_counter() - start
    start = time.perf_counter()
    plain_sha256(paths)
    hash_s = time.perf_counter() - start
    assert report.ok, report.findings
    per_thousand = check_s / report.files * 1000
    print()
    print(
        f"Archive check (verify_archive): {report.files} sealed PDFs of {size / 1024:.0f} KB, "
        f"{report.chains} chains of {events} events"
    )
    print(f"  verify_archive             {check_s:>7.2f} s  ({per_thousand:.2f} s per 1,000)")
    print(f"  plain SHA-256 of the files {hash_s:>7.2f} s")
    print(
        f"Ratio verify_archive / plain SHA-256: {check_s / hash_s:.0f}x (the seal check dominates)"
    )
    print(f"Estimated for 10,000 agreements: {per_thousand * 10:.0f} s")


SECTIONS = ("pdf", "signing", "seal", "archive", "export")


def main(sections=SECTIONS):
    if "http" in sections:
        # Its own process as well: gunicorn on PostgreSQL with production settings.
        http = subprocess.run([sys.executable, "-m", "bench.http"], check=False)  # noqa: S603
        if http.returncode:
            raise SystemExit(http.returncode)
        sections = tuple(section for section in sections if section != "http")
        if not sections:
            return
    if "scale" in sections:
        # Its own process: production settings on a scratch PostgreSQL database, not the
        # throwaway SQLite database of the other sections.
        scale = subprocess.run([sys.executable, "-m", "bench.scale"], check=False)  # noqa: S603
        if scale.returncode:
            raise SystemExit(scale.returncode)
        sections = tuple(section for section in sections if section != "scale")
        if not sections:
            return
    with tempfile.TemporaryDirectory(prefix="avg-portal-bench-") as directory:
        setup_django(Path(directory) / "bench.sqlite3")
        if "pdf" in sections:
            agreement = make_agreement()
            tasks = {name: factory(agreement) for name, factory in BENCHMARKS.items()}
            timings = measure(tasks, ROUNDS)
            report(timings, tasks["agreement"]())
        # Before the signing section: verify_archive checks every sealed agreement in the
        # database, and that section's are sealed with its own certificates (a simulated PKI).
        if "archive" in sections:
            report_archive()
        if "signing" in sections:
            measure_completion()
        if "seal" in sections:
            from .seal import report_seal

            report_seal(agreement_pdf(make_agreement())())
        if "export" in sections:
            report_export(directory)
        if "instructions" in sections:
            from .instructions import report_instructions

            report_instructions(make_agreement())


if __name__ == "__main__":
    # python -m bench [pdf] [signing] [archive] [export] [scale] [http] [instructions]: the
    # sections named, or all of them but the last three.
    main(tuple(sys.argv[1:]) or SECTIONS)
