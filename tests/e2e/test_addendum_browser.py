"""An addendum as people would make it: the coach changes Bijlage 1 and 2 of a signed
agreement on her laptop, signs and sends; the client reads old and new side by side on a
phone and signs from the emailed link (a real SMTP server); the sealed addendum verifies at
/verify/, and the changed retention period decides how long the data is kept."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements.models import Addendum, AddendumStatus, Agreement, AgreementEnding
from agreements.retention import activity_due_date, agreement_keep_until
from avg_portal.seal import verify_seal

from ..conftest import SmtpInbox, make_coach, serving_smtp, stored_pdf
from ..pdf_reading import pdf_text
from ..test_addenda import sealed_agreement
from .test_draft_agreement_browser import log_in
from .test_signing_browser import PHONE, code_email, code_in, draw_signature, link_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class RunNow:
    """Transactional tests run after-commit work at once; this mimics the capture API."""

    def __call__(self, execute=True):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_coach_changes_bijlage_1_and_2_client_signs_on_a_phone(
    browser, page, live_server, settings, screenshot_dir, screenshot
):
    coach = make_coach()
    agreement = sealed_agreement(coach, RunNow())
    first = agreement.activities.first()
    today = timezone.localdate()
    as_signed = AgreementEnding(agreement=agreement, coaching_ended_on=today)
    keep_as_signed = max(activity_due_date(row, as_signed) for row in agreement.activities.all())

    with serving_smtp(settings, SmtpInbox()) as inbox:
        log_in(page, live_server.url, coach)
        page.goto(live_server.url + reverse("agreement_detail", args=[agreement.public_id]))
        page.get_by_role("button", name="Addendum opstellen").click()
        page.wait_for_url("**/addenda/*/edit/")

        # Bijlage 1: the first row is kept 25 years from the end of the financial year.
        row = page.locator(".activity-row").first
        row.locator("input[name$=-retention]").fill("25 jaar na het einde van het boekjaar")
        row.locator("input[name$=retention_amount]").fill("25")
        row.locator("select[name$=retention_unit]").select_option("year")
        row.locator("select[name$=retention_from]").select_option("financial_year_end")
        # Bijlage 2: one more measure.
        page.get_by_label("Privacy screens medewerkers").set_checked(
            "privacy_screens" not in agreement.measures
        )
        page.get_by_label("Reden van de wijziging").fill("Langere fiscale bewaarplicht")
        screenshot(page, "addendum_form", full_page=True)
        page.get_by_role("button", name="Opslaan en voorbeeld bekijken").click()
        page.wait_for_url("**/addenda/*/")

        addendum = Addendum.objects.get()
        assert page.get_by_role("columnheader", name="Was").first.is_visible()
        assert page.get_by_role("columnheader", name="Wordt").first.is_visible()
        assert page.get_by_text(first.retention, exact=True).first.is_visible()
        screenshot(page, "addendum_preview", full_page=True)

        page.get_by_role("link", name="Ondertekenen en versturen").click()
        page.locator("#id_name").fill("Mado Remkes")
        draw_signature(page)
        page.get_by_label("Ik heb het addendum gelezen en ga ermee akkoord.").check()
        page.get_by_role("button", name="Ondertekenen en naar de cliënt sturen").click()
        page.get_by_text("Addendum ondertekend en verstuurd naar zoe@example.test").wait_for()
        addendum.refresh_from_db()
        assert addendum.status == AddendumStatus.SENT

        (invitation,) = [m for m in inbox.to("zoe@example.test") if "addendum" in m["Subject"]]
        path = link_path(invitation)

        # The client, on a phone, in a browser of his own.
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        client_page = phone.new_page()
        client_page.goto(live_server.url + path)
        assert client_page.url == live_server.url + reverse("signing_page")
        client_page.get_by_role(
            "heading", name="Addendum 1 bij je verwerkersovereenkomst"
        ).wait_for()
        assert client_page.get_by_text("25 jaar na het einde van het boekjaar").first.is_visible()
        screenshot(client_page, "addendum_client_top")
        # The side-by-side table fits the phone's width: no sideways scrolling.
        assert client_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        draw_signature(client_page)
        client_page.get_by_label("Functie").fill("Cliënt")
        client_page.get_by_label("Plaats").fill("Breda")
        client_page.get_by_label("Ik heb het addendum gelezen en ga ermee akkoord.").check()
        # The signer code comes in a second email.
        client_page.get_by_role("button", name="Stuur mij een code").click()
        client_page.get_by_text("We sturen een code naar z…@example.test").wait_for()
        client_page.get_by_label("Code uit de e-mail").fill(
            code_in(code_email(inbox, "zoe@example.test"))
        )
        client_page.get_by_role("button", name="Onderteken het addendum").click()
        client_page.get_by_role(
            "heading", name="Dank je wel, het addendum is ondertekend"
        ).wait_for()
        screenshot(client_page, "addendum_client_done")
        phone.close()

        # The coach sees it sealed, downloads it and checks it at /verify/.
        page.reload()
        page.get_by_text("Door beide partijen ondertekend, verzegeld en gearchiveerd").wait_for()
        addendum.refresh_from_db()
        assert addendum.status == AddendumStatus.SIGNED and addendum.is_archived
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download ondertekende PDF").click()
        with open(download_info.value.path(), "rb") as downloaded:
            pdf = downloaded.read()
        assert pdf == stored_pdf(addendum)
        with open(f"{screenshot_dir}/signed-addendum.pdf", "wb") as kept:
            kept.write(pdf)
        verify_seal(pdf)
        text = pdf_text(pdf)
        assert "Was Wordt" in text
        assert first.retention in text
        assert "25 jaar na het einde van het boekjaar" in text
        assert "Bewijs van ondertekening" in text

        page.goto(live_server.url + reverse("verify"))
        page.locator("input[type=file]").set_input_files(download_info.value.path())
        page.get_by_role("button", name=re.compile("Controleren|Controleer")).click()
        page.get_by_text("Echt en onveranderd").wait_for()

        # Both received the sealed addendum through the SMTP server.
        for address in ("zoe@example.test", coach.email):
            (sealed,) = [m for m in inbox.to(address) if "ondertekende addendum" in m["Subject"]]
            (attachment,) = list(sealed.iter_attachments())
            assert attachment.get_content() == pdf

        # The agreement's page lists the addendum; its end uses the changed Bijlage 1.
        page.goto(live_server.url + reverse("agreement_detail", args=[agreement.public_id]))
        page.get_by_role("link", name="Addendum 1").wait_for()
        page.locator("#id_coaching_ended_on").fill(today.isoformat())
        page.get_by_role("button", name="Einde vastleggen").click()
        page.get_by_text("Wat blijft gelden (artikel 2.4)").wait_for()
        keep_until = agreement_keep_until(Agreement.objects.get(pk=agreement.pk))
        assert keep_until == datetime.date(today.year + 25, 12, 31)
        assert keep_until != keep_as_signed
        assert page.get_by_text(f"Bewaar de gegevens tot {keep_until.day} ").is_visible()
        screenshot(page, "addendum_agreement_page", full_page=True)
