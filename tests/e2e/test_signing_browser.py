"""The whole promise, as people would do it: the coach signs and sends, the client signs on
a phone from the emailed link (delivered by a real SMTP server) with the code from a second
email, both get the sealed PDF."""

import io
import re
import time

import pytest
from django.urls import reverse
from pypdf import PdfReader

from agreements.models import Agreement, AgreementStatus
from avg_portal.seal import SealInvalid, verify_seal

from ..conftest import make_coach, stored_pdf
from .test_draft_agreement_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def draw_signature(page):
    # The pad listens once the page's scripts have run (at the end of the body, before the
    # load event); strokes drawn earlier, as a busy machine allows, would be lost.
    page.wait_for_load_state("load")
    canvas = page.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + 20 + step * 22, y + box["height"] * (0.3 + 0.4 * (step % 2)))
    page.mouse.up()


def link_path(message):
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/sign/[A-Za-z0-9_-]+/)", body).group(1)


def code_email(smtp_server, address, timeout=10):
    """The signer-code email the SMTP server received for this address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = [m for m in smtp_server.to(address) if "Je code om" in m["Subject"]]
        if codes:
            return codes[-1]
        time.sleep(0.1)
    raise AssertionError(f"no code email to {address}")


def code_in(message):
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"^\s*(\d{6})\s*$", body, re.MULTILINE).group(1)


def test_coach_sends_client_signs_on_a_phone_both_get_the_sealed_pdf(
    browser, page, live_server, smtp_server, screenshot_dir, screenshot
):
    coach = make_coach()
    log_in(page, live_server.url, coach)

    page.goto(live_server.url + reverse("client_create"))
    page.locator("#id_name").fill("Zoë Ünal-Brontë")
    page.locator("#id_residence").fill("Breda")
    page.locator("#id_email").fill("zoe@example.test")
    page.get_by_role("button", name="Opslaan en overeenkomst opstellen").click()
    page.locator("#id_coaching_agreement_date").fill("2026-09-01")
    page.get_by_role("button", name="Concept maken").click()
    page.wait_for_url("**/edit/")
    page.get_by_role("button", name="Opslaan en voorbeeld bekijken").click()
    page.get_by_role("link", name="Ondertekenen en versturen").click()

    page.locator("#id_name").fill("Mado Remkes")
    draw_signature(page)
    page.get_by_label("Ik heb de verwerkersovereenkomst gelezen en ga ermee akkoord.").check()
    screenshot(page, "coach_sign", full_page=True)
    page.get_by_role("button", name="Ondertekenen en naar de cliënt sturen").click()
    page.get_by_text("Ondertekend en verstuurd naar zoe@example.test").wait_for()

    (invitation,) = smtp_server.to("zoe@example.test")
    assert "Coachpraktijk De Linde" in invitation["Subject"]
    path = link_path(invitation)

    # The client, on a phone, in a browser of his own.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    client_page = phone.new_page()
    client_page.goto(live_server.url + path)
    assert client_page.url == live_server.url + reverse("signing_page")  # the token is gone
    assert client_page.get_by_text("Contractspartijen").is_visible()
    screenshot(client_page, "client_sign_top")
    draw_signature(client_page)
    client_page.get_by_label("Functie").fill("Cliënt")
    client_page.get_by_label("Plaats").fill("Breda")
    client_page.get_by_label(
        "Ik heb de verwerkersovereenkomst gelezen en ga ermee akkoord."
    ).check()
    screenshot(client_page, "client_sign_form", full_page=False)

    # Before the sign button, the code: asked for here, it comes in a second email.
    assert client_page.get_by_role("button", name="Onderteken de overeenkomst").count() == 0
    client_page.get_by_role("button", name="Stuur mij een code").click()
    client_page.get_by_text("We sturen een code naar z…@example.test").wait_for()
    message = code_email(smtp_server, "zoe@example.test")
    assert "/sign/" not in message.get_body(preferencelist=("plain",)).get_content()
    # What he filled in is still there, the drawing too.
    assert client_page.get_by_label("Plaats").input_value() == "Breda"
    assert client_page.get_by_label(
        "Ik heb de verwerkersovereenkomst gelezen en ga ermee akkoord."
    ).is_checked()
    client_page.get_by_label("Code uit de e-mail").fill(code_in(message))
    screenshot(client_page, "client_sign_code", full_page=False)
    client_page.get_by_role("button", name="Onderteken de overeenkomst").click()
    client_page.get_by_role(
        "heading", name="Dank je wel, de overeenkomst is ondertekend"
    ).wait_for()
    screenshot(client_page, "client_done")
    phone.close()

    # The coach sees it signed and archived, and downloads the stored, sealed file.
    agreement = Agreement.objects.get()
    assert agreement.events.filter(kind="signer_code_confirmed").exists()
    page.goto(live_server.url + reverse("agreement_detail", args=[agreement.public_id]))
    assert page.get_by_text(
        "Door beide partijen ondertekend, verzegeld en gearchiveerd"
    ).is_visible()
    assert agreement.status == AgreementStatus.SIGNED
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download ondertekende PDF").click()
    with open(download_info.value.path(), "rb") as downloaded:
        pdf = downloaded.read()
    assert pdf == stored_pdf(agreement)
    with open(f"{screenshot_dir}/signed-agreement.pdf", "wb") as kept:
        kept.write(pdf)  # to look at: pdftoppm -png test-results/signed-agreement.pdf

    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    assert "Mado Remkes" in text
    assert "Zoë Ünal-Brontë" in text
    assert "Bewijs van ondertekening" in text
    assert "is gecontroleerd met een eenmalige code" in " ".join(text.split())
    assert sum(len(p.images) for p in reader.pages) >= 2  # both drawn signatures
    verify_seal(pdf)
    flipped = bytearray(pdf)
    flipped[len(flipped) // 3] ^= 0x01
    with pytest.raises(SealInvalid):
        verify_seal(bytes(flipped))

    # Both parties received the sealed PDF through the SMTP server.
    for address in ("zoe@example.test", coach.email):
        messages = [m for m in smtp_server.to(address) if "ondertekende" in m["Subject"]]
        assert len(messages) == 1, address
        (attachment,) = list(messages[0].iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == pdf
