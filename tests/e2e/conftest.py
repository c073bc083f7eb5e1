import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls in these tests
# happen between browser steps, never concurrently with it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# BROWSER_SCREENSHOTS=1 keeps a PNG of each step the browser tests pass in test-results/,
# to look at. Off by default: a full-page screenshot costs Chromium about 0.2 s, and the
# tests assert nothing on it.
KEEP_SCREENSHOTS = os.environ.get("BROWSER_SCREENSHOTS", "") not in ("", "0")


@pytest.fixture
def screenshot_dir():
    """test-results/: the PDFs the browser tests download are kept there, to look at."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "test-results")
    os.makedirs(path, exist_ok=True)
    return os.path.abspath(path)


@pytest.fixture
def screenshot(screenshot_dir):
    """screenshot(page, "name", full_page=True): test-results/name.png, when asked for."""

    def take(page, name, **options):
        if KEEP_SCREENSHOTS:
            page.screenshot(path=os.path.join(screenshot_dir, f"{name}.png"), **options)

    return take


@pytest.fixture(autouse=True)
def _no_content_security_policy_violations(request):
    """Fail a browser test whose pages broke the Content-Security-Policy (an inline script
    or style, or an asset from elsewhere): in production that part would silently not work."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield
    assert violations == []
