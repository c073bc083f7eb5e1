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
    page, live_server, screenshot_dir, screenshot
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
    screenshot(page, "breach_form", full_page=True)
    page.get_by_role("button", name="Datalek vastleggen").click()
    page.wait_for_url(re.compile(r".*/breaches/[0-9a-f-]{36}/$"))

    breach = Breach.objects.get()
    assert list(breach.clients.all()) == [client]
    countdown = page.locator(".countdown").first
    expect(countdown).to_be_visible()
    expect(countdown).to_have_text(re.compile(r"^2[23] u \d\d min$"))
    due = timezone.localtime(breach.client_deadline).strftime("%H:%M")
    expect(page.locator(".deadline-card").first).to_contain_text(due)
    screenshot(page, "breach_detail", full_page=True)

    # Complete a section later: which personal data.
    page.get_by_role(
        "link", name=re.compile(r"Invullen of wijzigen\W+Welke persoonsgegevens")
    ).click()
    page.get_by_label("gezondheidsgegevens").check()
    page.get_by_label("Aantal records").fill("40")
    screenshot(page, "breach_section", full_page=True)
    page.get_by_role("button", name="Opslaan", exact=True).click()
    page.wait_for_url(re.compile(r".*/breaches/[0-9a-f-]{36}/$"))
    breach.refresh_from_db()
    assert breach.data_categories == ["health"]
    assert breach.records_count == 40

    # The email cannot go before the report says what art. 34 requires it to tell.
    expect(page.get_by_text("Dit ontbreekt nog:")).to_be_visible()

    # The AP's questions, grouped under headings; the coach fills them in on her phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role(
        "link", name=re.compile(r"Invullen of wijzigen\W+Wat er is gebeurd en wanneer")
    ).click()
    expect(page.get_by_role("group", name="Wanneer")).to_be_visible()
    screenshot(page, "breach_form_phone", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("apparaat verloren of gestolen (bijv. laptop, telefoon, USB-stick)").check()
    page.locator("#id_occurred_from").fill(discovered.strftime("%Y-%m-%d"))
    page.locator("#id_occurred_from_time").fill("00:05")
    page.get_by_role("button", name="Opslaan en verder").click()
    page.wait_for_url(re.compile(r".*/edit/data/$"))
    page.goto(f"{live_server.url}/breaches/{breach.public_id}/edit/cause/")
    page.get_by_label("stigmatisering of uitsluiting").check()
    page.get_by_label("aanzienlijk").check()
    page.get_by_label("Mogelijke gevolgen voor de betrokkenen").fill(
        "Anderen kunnen de sessieverslagen lezen."
    )
    page.get_by_label("Getroffen maatregelen").fill("Laptop op afstand gewist.")
    screenshot(page, "breach_form_phone_cause", full_page=True)
    page.get_by_role("button", name="Opslaan en verder").click()
    page.wait_for_url(re.compile(r".*/edit/others/$"))
    page.get_by_label("Naam van de andere betrokken organisatie").fill("Wolkopslag B.V.")
    page.get_by_label("een subverwerker").check()
    page.locator("#id_cross_border_1").check()  # "nee"
    screenshot(page, "breach_form_phone_others", full_page=True)
    page.get_by_role("button", name="Opslaan", exact=True).click()
    page.wait_for_url(re.compile(r".*/breaches/[0-9a-f-]{36}/$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "breach_detail_phone", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    breach.refresh_from_db()
    assert breach.incident_kinds == ["lost_device"]
    assert breach.occurred_from_time == datetime.time(0, 5)
    assert breach.consequence_kinds == ["stigma"]
    assert breach.consequence_severity == "significant"
    assert breach.other_org_role == "sub_processor"
    assert breach.cross_border is False
    expect(page.get_by_text("Dit ontbreekt nog:")).to_have_count(0)

    # Inform the client: he is ticked already, as not yet informed.
    page.get_by_role("button", name="Bekijk de e-mail").click()
    expect(page.get_by_text("Anderen kunnen de sessieverslagen lezen.")).to_be_visible()
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
    screenshot(page, "breach_register", full_page=True)
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
    screenshot(page, "breach_dashboard", full_page=True)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_section_of_the_report_and_the_aps_follow_up_pass_axe(browser, live_server, size):
    """The report's sections (the AP's questions in groups), a breach notified to the AP with
    a follow-up, and the register: no serious or critical axe finding, no English, nothing
    wider than a phone."""
    from django.test import Client as DjangoClient
    from django.urls import reverse

    from breaches import actions
    from core.origin import Origin

    from ..conftest import login_verified
    from .test_accessibility import _check, _cookie_for, axe_page

    coach = make_coach()
    client = make_client(coach.practice)
    origin = Origin.of_account(coach)
    breach = actions.breach_create(
        practice=coach.practice,
        origin=origin,
        summary="Laptop gestolen",
        discovered_at=timezone.now() - datetime.timedelta(hours=3),
        clients=[client],
    )
    actions.breach_record_authority_decision(
        breach=breach,
        origin=origin,
        notified=True,
        notified_at=timezone.now() - datetime.timedelta(hours=1),
        reference="M-2026-0042",
    )
    actions.breach_record_authority_followup(
        breach=breach, origin=origin, sent_at=timezone.now(), text="Aantal personen bijgesteld."
    )
    context = browser.new_context()
    context.add_cookies(_cookie_for(live_server, login_verified(DjangoClient(), coach)))
    page = axe_page(context)
    sections = ["what", "data", "people", "cause", "others", "triage"]
    urls = [reverse("breach_edit", args=[breach.public_id, s]) for s in sections]
    urls += [reverse("breach_detail", args=[breach.public_id]), reverse("breach_list")]
    # The save bar sticks to the bottom of the screen while the form scrolls under it; axe
    # would count the ticks that happen to be under it as too small a target. At the end
    # of the form nothing is under it. ("instant": Bootstrap makes scrolling smooth, and axe
    # would run while it still moves.)
    page.add_init_script(
        "addEventListener('load', () => scrollTo({top: 1e6, behavior: 'instant'}))"
    )
    problems: list[str] = []
    for url in urls:
        _check(page, live_server.url + url, size, problems)
    assert not problems, "\n".join(problems)
    # The register, the last page checked, reads line by line on a phone: what happened
    # gets the width of the screen, not a letter a line in a seventh of it.
    if size == "phone":
        width = page.locator(".breach-register td").nth(2).bounding_box()["width"]
        assert width > 250, width
