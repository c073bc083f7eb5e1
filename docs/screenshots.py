"""Make the README's screenshots from the demo data, so they show the app as it is today.

    make screenshots

Builds a throw-away SQLite database with the demo coach (`load_demo`) and a small signed and
sealed archive for her (`make_sample_archive --coach`), serves it with `runserver` on a free
loopback port with a real SMTP server (aiosmtpd) in this process, and drives Debian's
Chromium: the dashboard, the agreement form, the client's signing page on a phone (opened from
the emailed link), and the first and the evidence page of a sealed PDF (`pdftoppm`).
The PNGs land in docs/screenshots/.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from playwright.sync_api import Page, sync_playwright
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PYTHON = sys.executable
DEMO_EMAIL = "demo@avg-portal.test"
DEMO_PASSWORD = "demo-coach-2026"  # noqa: S105 - the demo coach's, printed by load_demo
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=nl-NL",  # date and number fields as a Dutch coach sees them
]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Inbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd's API
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def wait_until_serving(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own loopback server
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"The server at {url} did not start.")


def log_in(page: Page, base: str, env: dict[str, str]) -> None:
    page.goto(base + "/account/login/")
    page.locator("#id_auth-username").fill(DEMO_EMAIL)
    page.locator("#id_auth-password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Volgende").click()
    code = manage(env, "demo_code").split()[0]
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(base + "/")


def draw_signature(page: Page) -> None:
    canvas = page.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        y = box["y"] + box["height"] * (0.3 + 0.4 * (step % 2))
        page.mouse.move(box["x"] + 20 + step * 22, y)
    page.mouse.up()


def pdf_pages_as_png(pdf: bytes, workdir: Path) -> None:
    """The sealed PDF's first page and the first page of its evidence."""
    path = workdir / "sealed.pdf"
    path.write_bytes(pdf)
    texts = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    evidence = next(n for n, text in enumerate(texts, 1) if "Bewijs van ondertekening" in text)
    for number, name in ((1, "sealed-pdf-first-page"), (evidence, "sealed-pdf-evidence-page")):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", str(number), "-l", str(number), "-singlefile"]
            + [str(path), str(OUT / name)],
            check=True,
        )


def main() -> None:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: sudo apt-get install poppler-utils")
    OUT.mkdir(parents=True, exist_ok=True)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="avg-screenshots-") as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "DJANGO_MEDIA_ROOT": str(workdir / "media"),
            "DJANGO_SITE_URL": base,
            "DJANGO_EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "DJANGO_TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        }
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "load_demo")
        manage(env, "make_sample_archive", "--coach", DEMO_EMAIL, "--agreements", "2")
        server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_serving(base + "/healthz")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                    args=CHROMIUM_ARGS,
                )
                shoot(browser, base, env, inbox, workdir)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
            smtp.stop()
    print(f"Screenshots written to {OUT.relative_to(ROOT)}/")


def refuse_server_errors(context, failures: list[str]) -> None:  # noqa: ANN001
    """A screenshot of an error page is worse than none: note every 5xx answer."""
    context.on(
        "response",
        lambda response: (
            failures.append(f"{response.status} {response.url}") if response.status >= 500 else None
        ),
    )


def shoot(browser, base: str, env: dict[str, str], inbox: Inbox, workdir: Path) -> None:  # noqa: ANN001
    failures: list[str] = []
    laptop = browser.new_context(viewport=LAPTOP, locale="nl-NL")
    refuse_server_errors(laptop, failures)
    page = laptop.new_page()
    log_in(page, base, env)

    # A new client and a draft for her: the agreement form.
    page.goto(base + "/clients/new/")
    page.locator("#id_name").fill("Sanne de Vries")
    page.locator("#id_residence").fill("Tilburg")
    page.locator("#id_email").fill("sanne@example.test")
    page.get_by_role("button", name="Opslaan en overeenkomst opstellen").click()
    page.locator("#id_coaching_agreement_date").fill(time.strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Concept maken").click()
    page.wait_for_url("**/edit/")
    page.screenshot(path=OUT / "agreement-form.png")

    # Signed and sent: the client receives her link.
    page.get_by_role("button", name="Opslaan en voorbeeld bekijken").click()
    page.get_by_role("link", name="Ondertekenen en versturen").click()
    page.locator("#id_name").fill("Mado Remkes")
    draw_signature(page)
    page.get_by_label("Ik heb de verwerkersovereenkomst gelezen en ga ermee akkoord.").check()
    page.get_by_role("button", name="Ondertekenen en naar de cliënt sturen").click()
    page.get_by_text("Ondertekend en verstuurd naar sanne@example.test").wait_for()

    page.goto(base + "/")
    page.screenshot(path=OUT / "dashboard.png")

    # The sealed PDF of one of the sample agreements, as the coach downloads it.
    page.goto(base + "/agreements/")
    page.get_by_role("link", name="Cliënt 1").first.click()
    download = page.get_by_role("link", name="Download ondertekende PDF")
    pdf = page.request.get(base + str(download.get_attribute("href"))).body()
    pdf_pages_as_png(pdf, workdir)
    laptop.close()

    (invitation,) = [m for m in inbox.messages if "sanne@example.test" in str(m["To"])]
    body = invitation.get_body(preferencelist=("plain",))
    assert body is not None
    path = re.search(r"https?://[^/\s]+(/sign/[A-Za-z0-9_-]+/)", body.get_content())
    assert path is not None
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="nl-NL")
    refuse_server_errors(phone, failures)
    client_page = phone.new_page()
    client_page.goto(base + path.group(1))
    client_page.screenshot(path=OUT / "client-signing-phone.png")
    phone.close()
    if failures:
        raise SystemExit("The server answered with an error: " + ", ".join(failures))


if __name__ == "__main__":
    main()
