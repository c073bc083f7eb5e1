from pathlib import Path

import pytest
from django.urls import reverse

from agreements.models import Agreement

from ..conftest import PASSWORD, make_coach, totp_code
from ..pdf_reading import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url, coach):
    page.goto(base_url + reverse("two_factor:login"))
    page.locator("#id_auth-username").fill(coach.email)
    page.locator("#id_auth-password").fill(PASSWORD)
    page.get_by_role("button", name="Volgende").click()
    page.get_by_label("Code").fill(totp_code(coach.totpdevice_set.get()))
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(base_url + reverse("dashboard"))


def test_draft_an_agreement_with_two_rows_and_download_its_pdf(page, live_server, screenshot):
    coach = make_coach()
    log_in(page, live_server.url, coach)

    # A new client, straight on to a new agreement.
    page.get_by_role("link", name="Cliënten", exact=True).first.click()
    page.get_by_role("link", name="Cliënt toevoegen").click()
    page.locator("#id_name").fill("Zoë Ünal-Brontë")
    page.locator("#id_residence").fill("Breda")
    page.locator("#id_email").fill("zoe@example.test")
    page.get_by_role("button", name="Opslaan en overeenkomst opstellen").click()
    page.locator("#id_coaching_agreement_date").fill("2026-09-01")
    page.get_by_role("button", name="Concept maken").click()
    page.wait_for_url("**/edit/")

    # Bijlage 1: remove the three default rows, add two of our own.
    for checkbox in page.get_by_label("Deze verwerking verwijderen").all():
        checkbox.check()
    for description, retention in (
        ("Intakegesprek vastleggen", "1 jaar"),
        ("Verslagen van sessies", "2 jaar"),
    ):
        page.get_by_role("button", name="Verwerking toevoegen").click()
        row = page.locator(".activity-row").last
        row.locator("textarea[name$=description]").fill(description)
        row.locator("textarea[name$=purposes]").fill("Coaching")
        row.locator("input[name$=controller]").fill("Coachpraktijk De Linde")
        row.locator("input[name$=processor]").fill("Coachpraktijk De Linde")
        row.locator("textarea[name$=personal_data]").fill("Naam, aantekeningen")
        row.locator("input[name$=location]").fill("Versleutelde laptop")
        row.locator("input[name$=retention]").fill(retention)
    page.locator("#id_penalty_per_violation").fill("2500")
    page.locator("#id_penalty_per_day").fill("250")
    page.get_by_label("Privacy screens medewerkers").check()
    screenshot(page, "agreement_form", full_page=True)
    page.get_by_role("button", name="Opslaan en voorbeeld bekijken").click()
    page.wait_for_url("**/agreements/*/")

    agreement = Agreement.objects.get()
    assert list(agreement.activities.values_list("description", "retention")) == [
        ("Intakegesprek vastleggen", "1 jaar"),
        ("Verslagen van sessies", "2 jaar"),
    ]
    assert "privacy_screens" in agreement.measures
    assert page.get_by_text("Verslagen van sessies").first.is_visible()
    screenshot(page, "agreement_preview", full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    pdf = download_info.value
    assert pdf.suggested_filename.endswith(".pdf")
    text = pdf_text(Path(pdf.path()).read_bytes())
    assert "Zoë Ünal-Brontë" in text
    assert "Intakegesprek vastleggen" in text
    assert "Verslagen van sessies" in text
    assert "CONCEPT" in text
