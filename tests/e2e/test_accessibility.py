"""axe-core on every main page, coach and client, desktop and phone: no critical or serious
violation, no page wider than a 360-pixel phone screen, and no English in the Dutch pages."""

import functools
from pathlib import Path

import polib
import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.test import Client as DjangoClient
from django.urls import reverse

from ..conftest import login_verified, make_coach
from ..factories import make_agreement, make_client
from ..signing_helpers import confirmed_code, send_for_signing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}
CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "nl" / "LC_MESSAGES" / "django.po"
# English that comes from libraries rather than from our catalogue.
LIBRARY_ENGLISH = ("Select an option", "This field is required", "Enter a valid")


@functools.cache
def english_sentences():
    """Our English source strings long enough to be unmistakable, whose Dutch differs: if
    one shows on a Dutch page, something was not translated."""
    sentences = set(LIBRARY_ENGLISH)
    for entry in polib.pofile(str(CATALOGUE)):
        text = entry.msgid
        if "%" in text or "{" in text or len(text) < 18 or entry.msgstr == text:
            continue
        sentences.add(text)
    return sentences


def _cookie_for(live_server, django_client):
    session = django_client.cookies["sessionid"].value
    return [{"name": "sessionid", "value": session, "url": live_server.url}]


def axe_page(context):
    """A new page of the context with axe-core in every document it loads, from before the
    page's own scripts: sent to the browser once, not again after each page load."""
    page = context.new_page()
    page.add_init_script(script=AXE_SCRIPT)
    return page


def _check(page, url, size, problems):
    page.set_viewport_size(SIZES[size])
    page.goto(url)
    # Only violations are read: axe is told not to gather every passing node as well, and
    # only what is read of them comes back from the page.
    violations = page.evaluate(
        """async options => (await axe.run(document, options)).violations.map(v => ({
            id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target),
        }))""",
        {"runOnly": WCAG, "resultTypes": ["violations"]},
    )
    for violation in violations:
        if violation["impact"] in ("critical", "serious"):
            problems.append(f"{size} {url}: {violation['id']} {violation['targets']}")
    shown = page.inner_text("body")
    for sentence in english_sentences():
        if sentence in shown:
            problems.append(f"{size} {url}: English on a Dutch page: {sentence!r}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if size == "phone" and width > SIZES["phone"]["width"]:
        problems.append(f"phone {url}: page is {width} px wide")


@pytest.mark.usefixtures("render_once")  # the pages, not the PDFs, are walked here
def test_coach_pages(browser, live_server):
    from agreements import signing
    from agreements.signing import SignatureInput
    from breaches.actions import breach_create
    from core.origin import Actor, Origin

    coach = make_coach()
    practice = coach.practice
    client = make_client(practice)
    draft = make_agreement(practice, client)
    sent, _token = send_for_signing(coach, make_agreement(practice, make_client(practice, "B")))
    import datetime

    from django.utils import timezone

    breach = breach_create(
        practice=practice,
        origin=Origin.of_account(coach),
        summary="Laptop gestolen",
        discovered_at=timezone.now() - datetime.timedelta(hours=3),
        clients=[client],
    )
    # A signed agreement that ended: its page shows the ending and the declaration form.
    signed, _token = send_for_signing(coach, make_agreement(practice, make_client(practice, "C")))
    link = signed.signing_links.get()
    signing.client_sign(
        link=link,
        signature=SignatureInput(name="C", function="", place="Breda", method="typed"),
        origin=Origin(actor=Actor.CLIENT, name="C"),
        signer_code=confirmed_code(link),
    )
    signed.refresh_from_db()
    assert signed.is_archived
    # A sub-processor told to the client while the agreement ran: without Bijlage 4, he is
    # asked for consent, and the register page shows it.
    from agreements.subprocessors import earliest_effective_date, subprocessor_add

    subprocessor_add(
        practice=practice,
        values={
            "name": "Mailbox.org",
            "service": "E-mail",
            "data": "Naam en e-mailadres",
            "location": "Duitsland",
            "since": earliest_effective_date(),
        },
        effective_on=earliest_effective_date(),
        origin=Origin.of_account(coach),
    )
    assert signed.subprocessor_notices.get().consent_needed
    signing.agreement_record_end(
        agreement=signed, ended_on=timezone.localdate(), origin=Origin.of_account(coach)
    )
    django_client = login_verified(DjangoClient(), coach)
    context = browser.new_context()
    context.add_cookies(_cookie_for(live_server, django_client))
    page = axe_page(context)
    urls = [
        reverse("dashboard"),
        reverse("agreement_list"),
        reverse("agreement_detail", args=[draft.public_id]),
        reverse("agreement_edit", args=[draft.public_id]),
        reverse("agreement_detail", args=[sent.public_id]),
        reverse("agreement_detail", args=[signed.public_id]),
        reverse("agreement_send", args=[make_agreement(practice, client).public_id]),
        reverse("client_list"),
        reverse("client_edit", args=[client.public_id]),
        reverse("practice_edit"),
        reverse("practice_defaults"),
        reverse("subprocessor_list"),
        reverse("breach_list"),
        reverse("breach_create"),
        reverse("breach_detail", args=[breach.public_id]),
        reverse("retention_list"),
        reverse("security_log"),
        reverse("verify"),
    ]
    problems = []
    # Both sizes over the same pages: the data above is made once.
    for size in SIZES:
        for url in urls:
            _check(page, live_server.url + url, size, problems)
    assert not problems, "\n".join(problems)


@pytest.mark.usefixtures("render_once")
def test_client_pages(browser, live_server):
    coach = make_coach()
    _agreement, token = send_for_signing(coach)
    context = browser.new_context()
    page = axe_page(context)
    page.goto(live_server.url + reverse("signing_open", args=[token]))
    problems = []
    for size in SIZES:
        _check(page, live_server.url + reverse("signing_page"), size, problems)
    # On the phone, "Verwerkersovereenkomst" (one long word) stays whole in both headings:
    # the page is now at phone size, from the last check.
    for heading in ("#summary-heading", ".doc .doc-title"):
        lines = page.evaluate(
            """selector => { const range = document.createRange();
            range.selectNodeContents(document.querySelector(selector));
            return range.getClientRects().length; }""",
            heading,
        )
        assert lines == 1, f"{heading} takes {lines} lines on a phone"
    # Once a code was sent, the page has the code field.
    page.locator("button[data-send-code]").click()
    page.locator("#signer-code-sent").wait_for()
    for size in SIZES:
        _check(page, live_server.url + reverse("signing_page"), size, problems)
    _check(page, live_server.url + reverse("two_factor:login"), "phone", problems)
    _check(page, live_server.url + reverse("signup"), "phone", problems)
    assert not problems, "\n".join(problems)
