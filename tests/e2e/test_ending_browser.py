"""After signing, as the coach and the client would do it: the coach records the end, sends
the clause 9.3 declaration, the client signs it on a phone, and the coach sees it sealed."""

import re

import pytest
from django.core import mail
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from agreements.models import Declaration, RetentionDisposal

from ..conftest import make_coach
from ..test_signing import archived
from .test_draft_agreement_browser import log_in
from .test_signing_browser import PHONE, draw_signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_end_and_declaration_of_destruction(browser, page, live_server, screenshot):
    coach = make_coach()

    class RunNow:
        """Transactional tests run after-commit work at once; this mimics the capture API."""

        def __call__(self, execute=True):
            return self

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    agreement = archived(coach, Browser(), RunNow())
    log_in(page, live_server.url, coach)
    page.goto(live_server.url + reverse("agreement_detail", args=[agreement.public_id]))
    page.locator("#id_coaching_ended_on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Einde vastleggen").click()
    page.get_by_text("Wat blijft gelden (artikel 2.4)").wait_for()

    page.get_by_label("Welke persoonsgegevens").fill("Sessieverslagen en intakeformulier")
    page.get_by_label("vernietigd", exact=True).check()
    page.get_by_label("Wanneer").fill(timezone.localdate().isoformat())
    page.get_by_label("Hoe").fill("Bestanden verwijderd en prullenbak geleegd")
    mail.outbox.clear()
    page.get_by_role("button", name="Verklaring ter ondertekening versturen").click()
    page.get_by_text("De verklaring is ter ondertekening").wait_for()
    screenshot(page, "agreement_ended", full_page=True)

    (invitation,) = [m for m in mail.outbox if "verklaring" in m.subject]
    path = re.search(r"https?://[^/\s]+(/sign/[A-Za-z0-9_-]+/)", invitation.body).group(1)
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    client_page = phone.new_page()
    client_page.goto(live_server.url + path)
    assert client_page.get_by_text("Verklaring van teruggave en/of vernietiging").is_visible()
    draw_signature(client_page)
    client_page.get_by_label("Functie").fill("Cliënt")
    client_page.get_by_label("Plaats").fill("Breda")
    client_page.get_by_label("Ik heb de verklaring gelezen en verklaar dat ze juist is.").check()
    client_page.get_by_role("button", name="Stuur mij een code").click()
    client_page.get_by_text("We sturen een code").wait_for()
    (code_email,) = [m for m in mail.outbox if "Je code om" in m.subject]
    code = re.search(r"^\s*(\d{6})\s*$", code_email.body, re.MULTILINE).group(1)
    client_page.get_by_label("Code uit de e-mail").fill(code)
    client_page.get_by_role("button", name="Onderteken de verklaring").click()
    client_page.get_by_role("heading", name="Dank je wel, de verklaring is ondertekend").wait_for()
    phone.close()

    page.reload()
    page.get_by_text("Door de cliënt ondertekend, verzegeld en opgeslagen").wait_for()
    assert Declaration.objects.get().is_archived
    screenshot(page, "declaration_signed", full_page=True)

    # The session notes destroyed: recorded on the retention list, the row is then done.
    page.goto(live_server.url + reverse("retention_list"))
    row = page.locator("tbody tr").first
    row.get_by_text("Vernietiging vastleggen").click()
    row.get_by_label("Vernietigd", exact=True).check()
    row.get_by_label("Hoe").fill("Sessieverslagen versnipperd")
    screenshot(page, "retention_record_destruction", full_page=True)
    row.get_by_role("button", name="Vastleggen").click()
    page.get_by_text("Vastgelegd dat de gegevens zijn vernietigd").wait_for()
    done = page.locator("tbody tr").last
    assert "Vernietigd op" in done.inner_text()
    assert "Sessieverslagen versnipperd" in done.inner_text()
    assert RetentionDisposal.objects.get().method == "Sessieverslagen versnipperd"
    screenshot(page, "retention_destruction_recorded", full_page=True)
