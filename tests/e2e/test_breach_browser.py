import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from breaches.models import Breach, ClientNotification

from ..conftest import make_coach
from ..factories import make_client
from .test_draft_agreement_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_a_breach_see_the_countdown_notify_a_client_and_download_the_register(
    page, live_server, screenshot_dir
):
    coach = make_coach()
    client = make_client(coach.practice)
    log_in(page, live_server.url, coach)

    page.get_by_role("link", name="Datalek melden").first.click()
    page.wait_for_load_state()
    discovered = timezone.localtime() - datetime.timedelta(hours=1)
    page.locator("#id_summary").fill("Laptop met sessieverslagen gestolen uit de auto")
    page.locator("#id_system_name").fill("Laptop")
    page.locator("#id_discovered_at").fill(discovered.strftime("%Y-%m-%dT%H:%M"))

    # A dropped connection or a reload loses nothing: the typed text comes back.
    page.reload()
    expect(page.locator("#id_summary")).to_have_value(
        "Laptop met sessieverslagen gestolen uit de auto"
    )
    expect(page.locator("[data-autosave-notice]")).to_be_visible()

    page.locator("summary", has_text="Getroffen cliënten").click()
    page.get_by_label(client.name).check()
    page.screenshot(path=f"{screenshot_dir}/breach_form.png", full_page=True)
    page.get_by_role("button", name="Datalek vastleggen").click()
    page.wait_for_url(re.compile(r".*/breaches/[0-9a-f-]{36}/$"))

    breach = Breach.objects.get()
    assert list(breach.clients.all()) == [client]
    countdown = page.locator(".countdown").first
    expect(countdown).to_be_visible()
    expect(countdown).to_have_text(re.compile(r"^2[23] u \d\d min$"))
    due = timezone.localtime(breach.client_deadline).strftime("%H:%M")
    expect(page.locator(".deadline-card").first).to_contain_text(due)
    page.screenshot(path=f"{screenshot_dir}/breach_detail.png", full_page=True)

    # Complete a section later: which personal data.
    page.get_by_role(
        "link", name=re.compile(r"Invullen of wijzigen\W+Welke persoonsgegevens")
    ).click()
    page.get_by_label("gezondheidsgegevens").check()
    page.get_by_label("Aantal records").fill("40")
    page.screenshot(path=f"{screenshot_dir}/breach_section.png", full_page=True)
    page.get_by_role("button", name="Opslaan", exact=True).click()
    page.wait_for_url(re.compile(r".*/breaches/[0-9a-f-]{36}/$"))
    breach.refresh_from_db()
    assert breach.data_categories == ["health"]
    assert breach.records_count == 40

    # Inform the client: he is ticked already, as not yet informed.
    page.get_by_role("button", name="Bekijk de e-mail").click()
    expect(page.get_by_text("Beste Zoë Ünal-Brontë")).to_be_visible()  # the exact email, first
    page.get_by_role("button", name="Verstuur hem aan 1 cliënt").click()
    expect(page.get_by_text("De cliënten zijn per e-mail geïnformeerd.")).to_be_visible()
    (notification,) = ClientNotification.objects.all()
    assert notification.delivered
    assert [m.to for m in mail.outbox] == [[client.email]]
    expect(page.locator(".deadline-card").first).to_contain_text("Gedaan")

    # The report in the AP's order.
    with page.expect_download() as report_info:
        page.get_by_role("link", name="Rapport downloaden (PDF)").click()
    Path(f"{screenshot_dir}/breach_report.pdf").write_bytes(
        Path(report_info.value.path()).read_bytes()
    )

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Datalekken").click()
    expect(page.get_by_role("heading", name="Register van datalekken")).to_be_visible()
    page.screenshot(path=f"{screenshot_dir}/breach_register.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Register downloaden (CSV)").click()
    raw = Path(download_info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Wat is er gebeurd"] == "Laptop met sessieverslagen gestolen uit de auto"
    assert client.name in record["Cliënten geïnformeerd"]

    # The dashboard lists the open breach with what is still due.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Overzicht").click()
    card = page.locator("section", has=page.get_by_role("heading", name="Datalekken"))
    expect(card).to_contain_text(breach.reference)
    expect(card).to_contain_text("Besluit over melden bij de AP")
    page.screenshot(path=f"{screenshot_dir}/breach_dashboard.png", full_page=True)
