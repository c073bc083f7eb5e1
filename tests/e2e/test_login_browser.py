import pytest
from django.urls import reverse

from ..conftest import PASSWORD, make_coach, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_with_totp_and_see_the_dashboard(page, live_server, screenshot):
    coach = make_coach()
    device = coach.totpdevice_set.get()

    page.goto(live_server.url + reverse("dashboard"))
    assert page.locator("h1").inner_text() == "Inloggen"
    page.get_by_label("E-mailadres").fill(coach.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Volgende").click()

    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Inloggen").click()

    page.wait_for_url(live_server.url + reverse("dashboard"))
    assert page.locator("h1").inner_text() == coach.practice.name
    assert page.get_by_role("heading", name="Verwerkersovereenkomsten").is_visible()
    assert page.get_by_role("heading", name="Datalekken").is_visible()
    screenshot(page, "dashboard", full_page=True)
