"""A client who uses only the keyboard can sign: every step is reachable with Tab, the
method is chosen with the arrow keys, the code asked for and typed in, the consent ticked
with Space, the form sent with Enter. A failed attempt puts the focus on the list of what to
correct."""

import pytest
from django.urls import reverse

from agreements.models import Agreement, Signature

from ..conftest import make_coach
from ..signing_helpers import receive_signer_code, send_for_signing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tab_to(page, selector, limit=80):
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_the_client_signs_with_the_keyboard_only(browser, live_server):
    coach = make_coach()
    _agreement, token = send_for_signing(coach)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + reverse("signing_open", args=[token]))

    # "Go to signing" first, then the fields.
    tab_to(page, "a[href='#sign-heading']")
    page.keyboard.press("Enter")

    # Sending without the consent: the errors get the focus, at the top of the page.
    tab_to(page, "input[name=method][value=drawn]")
    page.keyboard.press("ArrowDown")  # type the name instead of drawing
    assert page.evaluate("document.activeElement.value") == "typed"
    tab_to(page, "input[name=typed_signature]")
    page.keyboard.type("Zoë Ünal-Brontë")

    # First the code: no sign button yet; "Send me a code" brings the code field, with the
    # focus on the message that it was sent.
    assert page.locator("button[type=submit][class*=btn-primary]").count() == 1
    tab_to(page, "button[data-send-code]")
    page.keyboard.press("Enter")
    page.locator("#signer-code [role=status]").wait_for()
    focused = page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    assert 'role="status"' in focused, focused
    assert "We sturen een code" in page.evaluate("document.activeElement.textContent")
    tab_to(page, "input[name=code]")
    page.keyboard.type(receive_signer_code())

    tab_to(page, "button[type=submit][class*=btn-lg]")
    page.keyboard.press("Enter")
    page.locator("#signing-errors").wait_for()
    page.wait_for_function("document.activeElement.id === 'signing-errors'", timeout=5000)
    assert "Vink aan dat je" in page.evaluate("document.activeElement.textContent")
    assert "Je code is bevestigd" in page.inner_text("body")  # no need to type it again

    # The links in the error list lead to the fields; Space ticks the box, Enter sends.
    assert "Plaats" in page.evaluate("document.activeElement.textContent")
    tab_to(page, "#signing-errors a[href='#id_place']")
    page.keyboard.press("Enter")
    tab_to(page, "input[name=place]")
    page.keyboard.type("Breda")
    tab_to(page, "#signing-errors a[href='#id_consent']")
    page.keyboard.press("Enter")
    tab_to(page, "input[name=consent]")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") is True
    tab_to(page, "input[name=method][value=typed]")  # the choice survived the failed submit
    tab_to(page, "input[name=typed_signature]")
    page.keyboard.press("Control+A")
    page.keyboard.type("Zoë Ünal-Brontë")
    tab_to(page, "button[type=submit][class*=btn-lg]")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Dank je wel, de overeenkomst is ondertekend").wait_for()

    signature = Signature.objects.get(party="client")
    assert signature.method == "typed"
    assert signature.name == "Zoë Ünal-Brontë"
    assert signature.place == "Breda"
    assert Agreement.objects.get().status == "signed"
    assert Agreement.objects.get().events.filter(kind="signer_code_confirmed").exists()
    context.close()
