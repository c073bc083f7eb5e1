"""The signer code: before he signs, the client asks for a 6-digit code, receives it in an
email of its own, and types it into the signing form. Wrong, expired, reused, exhausted and
foreign codes are refused with a clear message and no signature; the right one signs, and the
evidence says what it proves and what it does not."""

import datetime
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from agreements import documents, signer_codes
from agreements.models import Signature, SignerCode
from avg_portal.models import OutboxMessage

from .conftest import stored_pdf
from .factories import make_agreement, make_client
from .signing_helpers import (
    client_post,
    code_from,
    request_code,
    send_for_signing,
)
from .test_signing import open_link, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(coach, django_capture_on_commit_callbacks):
    return send_for_signing(coach, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def session(client, sent):
    """The client's browser on the signing page, no code asked for yet."""
    agreement, token = sent
    open_link(client, token, confirm_code=False)
    return agreement


def kinds(agreement):
    return list(agreement.events.values_list("kind", flat=True))


def no_client_signature(agreement):
    return not Signature.objects.filter(document=agreement, party="client").exists()


def summary(response):
    """The error list at the top of the page."""
    text = response.text
    start = text.index('id="signing-errors"')
    return text[start : text.index("</div>", start)]


# Asking for a code ---------------------------------------------------------------------------


def test_the_page_asks_for_a_code_before_it_offers_to_sign(client, session):
    page = client.get(reverse("signing_page")).text
    assert "Stuur mij een code" in page
    assert "z…@example.test" in page  # to the address of the link, partly hidden
    assert "Onderteken de overeenkomst" not in page  # no sign button before a code was sent
    assert 'formaction="/sign/code/#signer-code-sent"' in page


def test_sending_a_code_is_post_only(client, session):
    response = client.get(reverse("signing_send_code"))
    assert response.status_code == 405
    assert not SignerCode.objects.exists()


def test_a_stranger_without_a_signing_session_gets_no_code(client, sent):
    response = Browser().post(reverse("signing_send_code"))
    assert "Open de overeenkomst met de link in je e-mail" in response.text
    assert not SignerCode.objects.exists()
    assert not OutboxMessage.objects.filter(purpose="agreements.signer_code").exists()


def test_the_code_comes_in_an_email_of_its_own_and_only_its_hash_is_kept(
    client, session, django_capture_on_commit_callbacks
):
    agreement = session
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signing_send_code"), client_post())
    assert response.status_code == 200
    assert "We sturen een code naar z…@example.test" in response.text
    # What he filled in before comes back (the drawing too, from the hidden field).
    assert 'value="Breda"' in response.text
    assert 'value="data:image/png;base64,' in response.text

    message = mail.outbox[-1]
    assert message.to == [agreement.client.email]
    assert "code" in message.subject
    assert "/sign/" not in message.body  # apart from the link
    digits = code_from(message)
    assert digits in message.alternatives[0][0]

    code = SignerCode.objects.get()
    assert code.channel == "email"
    assert code.sent_to == agreement.client.email
    assert code.expires_at == code.created_at + timedelta(minutes=10)
    stored = [code.salt, code.code_hmac, code.sent_to, code.channel]
    assert all(digits not in value for value in stored)
    assert len(code.code_hmac) == 64
    event = agreement.events.get(kind="signer_code_sent")
    assert event.detail == f"email → {agreement.client.email}"
    assert event.actor == "client"
    delivered = agreement.events.filter(kind="email_accepted").last()
    assert delivered.detail == f"signing code → {agreement.client.email}"
    # Sent, the message no longer holds the digits anywhere.
    row = OutboxMessage.objects.get(purpose="agreements.signer_code")
    assert row.status == "sent" and digits not in row.body_text


def test_after_sending_the_page_asks_for_the_code_and_offers_to_sign(client, session):
    request_code(client)
    page = client.get(reverse("signing_page")).text
    assert 'name="code"' in page
    assert 'autocomplete="one-time-code"' in page
    assert "Onderteken de overeenkomst" in page
    assert "Stuur mij een nieuwe code" in page
    # The sign button comes first, so Enter in a field signs instead of sending a new code.
    assert page.index("Onderteken de overeenkomst</button>") < page.index(
        "Stuur mij een nieuwe code"
    )


# The right code ------------------------------------------------------------------------------


def test_the_right_code_lets_the_client_sign(client, session, django_capture_on_commit_callbacks):
    agreement = session
    digits = request_code(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signing_page"), client_post(code=digits))
    assert response.status_code == 302, summary(response)
    assert response.url == reverse("signing_done")

    signature = Signature.objects.get(document=agreement, party="client")
    code = SignerCode.objects.get()
    assert code.confirmed_at is not None
    assert code.signature == signature
    trail = kinds(agreement)
    assert trail.index("signer_code_sent") < trail.index("signer_code_confirmed")
    assert trail.index("signer_code_confirmed") < trail.index("signed_client")
    confirmed = agreement.events.get(kind="signer_code_confirmed")
    assert confirmed.detail == f"email → {agreement.client.email}"
    assert confirmed.ip_address == "127.0.0.1"

    # The sealed PDF says what was checked, and what was not.
    agreement.refresh_from_db()
    text = " ".join(pdf_text(stored_pdf(agreement)).split())
    assert "Wat is gecontroleerd, en wat niet" in text
    assert (
        f"het e-mailadres {agreement.client.email} is gecontroleerd met een eenmalige code" in text
    )
    sent_at = code.created_at.astimezone(datetime.UTC)
    assert f"om {sent_at:%H:%M:%S} UTC per e-mail naar dat adres gestuurd" in text
    assert "Niet gecontroleerd: de identiteit van de ondertekenaars" in text
    assert "Er is geen identiteitsbewijs" in text
    assert "met een wachtwoord en een code uit een authenticator-app" in text
    assert "SHA-256-vingerafdruk" in text
    assert "ondertekencode bevestigd" in text  # the event in the trail


def test_a_confirmed_code_survives_a_form_error(client, session):
    """The code is right but the consent is missing: the code stays confirmed for this
    session, and the next submit signs without typing it again."""
    agreement = session
    digits = request_code(client)
    response = client.post(reverse("signing_page"), client_post(code=digits, consent=""))
    assert response.status_code == 400
    assert "Vink aan dat je" in summary(response)
    assert "Je code is bevestigd" in response.text
    response = client.post(reverse("signing_page"), client_post())
    assert response.status_code == 302
    assert Signature.objects.filter(document=agreement, party="client").count() == 1


# Refusals ------------------------------------------------------------------------------------


def test_a_wrong_code_is_refused(client, session):
    agreement = session
    digits = request_code(client)
    wrong = f"{(int(digits) + 1) % 10**6:06d}"
    response = client.post(reverse("signing_page"), client_post(code=wrong))
    assert response.status_code == 400
    assert "Deze code klopt niet" in summary(response)
    assert "je kunt het nog 4 keer proberen" in summary(response)
    assert no_client_signature(agreement)
    assert SignerCode.objects.get().attempts == 1
    # Nothing else is lost: the fields and the drawing come back.
    assert 'value="Breda"' in response.text
    assert 'value="data:image/png;base64,' in response.text
    assert "signer_code_confirmed" not in kinds(agreement)


def test_a_code_that_is_not_six_digits_is_refused_without_counting(client, session):
    agreement = session
    request_code(client)
    response = client.post(reverse("signing_page"), client_post(code="12a"))
    assert "De code heeft 6 cijfers" in summary(response)
    response = client.post(reverse("signing_page"), client_post(code=""))
    assert "Typ de code van 6 cijfers uit de e-mail" in summary(response)
    assert SignerCode.objects.get().attempts == 0
    assert no_client_signature(agreement)


def test_an_expired_code_is_refused(client, session):
    agreement = session
    digits = request_code(client)
    SignerCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(reverse("signing_page"), client_post(code=digits))
    assert response.status_code == 400
    assert "Deze code is verlopen: een code is 10 minuten geldig" in summary(response)
    assert no_client_signature(agreement)
    assert SignerCode.objects.get().confirmed_at is None


def test_a_code_can_be_used_once(client, session, sent):
    """Confirmed in one browser, the code is spent: a second browser with the same link
    (a forwarded email, say) cannot use it."""
    agreement, token = sent
    digits = request_code(client)
    client.post(reverse("signing_page"), client_post(code=digits, consent=""))
    other = Browser()
    open_link(other, token, confirm_code=False)
    response = other.post(reverse("signing_page"), client_post(code=digits))
    assert response.status_code == 400
    assert "Deze code is al gebruikt. Vraag een nieuwe code aan." in summary(response)
    assert no_client_signature(agreement)


def test_too_many_wrong_codes_end_the_code(client, session):
    agreement = session
    digits = request_code(client)
    wrong = f"{(int(digits) + 1) % 10**6:06d}"
    for _attempt in range(signer_codes.MAX_ATTEMPTS - 1):
        response = client.post(reverse("signing_page"), client_post(code=wrong))
        assert "Deze code klopt niet" in summary(response)
    response = client.post(reverse("signing_page"), client_post(code=wrong))
    assert "De code is te vaak verkeerd ingevuld. Vraag een nieuwe code aan." in summary(response)
    # Now even the right code no longer works.
    response = client.post(reverse("signing_page"), client_post(code=digits))
    assert "De code is te vaak verkeerd ingevuld" in summary(response)
    assert no_client_signature(agreement)
    assert SignerCode.objects.get().attempts == signer_codes.MAX_ATTEMPTS
    # A new code works.
    response = client.post(reverse("signing_page"), client_post(code=request_code(client)))
    assert response.status_code == 302


def test_a_newer_code_replaces_the_older_one(client, session):
    agreement = session
    first = request_code(client)
    second = request_code(client)
    if first == second:  # one in a million
        return
    response = client.post(reverse("signing_page"), client_post(code=first))
    # With slow mail the first email can come last: the client is told which code counts.
    sent_at = timezone.localtime(SignerCode.objects.latest("created_at").created_at)
    assert (
        f"Deze code is vervangen door een nieuwere: gebruik de code uit de e-mail van "
        f"{sent_at:%H:%M}." in summary(response)
    )
    assert no_client_signature(agreement)
    response = client.post(reverse("signing_page"), client_post(code=second))
    assert response.status_code == 302
    assert not no_client_signature(agreement)


@pytest.mark.usefixtures("render_once")  # about the flow, not the text
def test_a_code_of_another_link_is_refused(
    client, session, coach, django_capture_on_commit_callbacks
):
    """Two clients of the same practice: the code mailed to one does not sign the other's
    agreement, and stays usable for its own."""
    agreement = session
    bas = make_client(coach.practice, "Bas", email="bas@example.test")
    other_agreement, other_token = send_for_signing(
        coach, make_agreement(coach.practice, bas), capture=django_capture_on_commit_callbacks
    )
    other = Browser()
    open_link(other, other_token, confirm_code=False)
    foreign = request_code(other)
    request_code(client)
    response = client.post(reverse("signing_page"), client_post(code=foreign))
    assert response.status_code == 400
    assert "Deze code klopt niet" in summary(response)
    assert no_client_signature(agreement)
    response = other.post(reverse("signing_page"), client_post(code=foreign))
    assert response.status_code == 302
    assert not no_client_signature(other_agreement)


def test_a_code_is_needed_to_sign(client, session):
    """A POST without any code asked for (the sign button is not even shown) is refused."""
    agreement = session
    response = client.post(reverse("signing_page"), client_post())
    assert response.status_code == 400
    assert "Vraag een code aan met de knop ‘Stuur mij een code’" in summary(response)
    assert no_client_signature(agreement)


def test_codes_sent_per_link_are_limited(client, session):
    from agreements.signing_views import CODE_SENDS_PER_LINK

    for _n in range(CODE_SENDS_PER_LINK):
        assert client.post(reverse("signing_send_code")).status_code == 200
    response = client.post(reverse("signing_send_code"), client_post())
    assert response.status_code == 429
    assert "Je hebt in korte tijd veel codes aangevraagd" in summary(response)
    assert 'value="Breda"' in response.text  # still nothing lost
    assert SignerCode.objects.count() == CODE_SENDS_PER_LINK


def test_wrong_codes_are_limited_beyond_each_codes_own_tries(client, session):
    """New codes do not buy endless guesses: the link and the address are counted too."""
    from agreements import signing_views

    agreement = session
    digits = request_code(client)
    wrong = f"{(int(digits) + 1) % 10**6:06d}"
    for _n in range(signing_views.CODE_MISSES_PER_LINK):
        if signer_codes.live_code(agreement.signing_links.get()) is None:
            digits = request_code(client)
            wrong = f"{(int(digits) + 1) % 10**6:06d}"
        client.post(reverse("signing_page"), client_post(code=wrong))
    digits = request_code(client)
    response = client.post(reverse("signing_page"), client_post(code=digits))
    assert "Te veel verkeerde codes" in summary(response)
    assert no_client_signature(agreement)


# Without a code ------------------------------------------------------------------------------


def test_a_practice_can_sign_without_a_code(client, coach, django_capture_on_commit_callbacks):
    coach.practice.signer_code_required = False
    coach.practice.save(update_fields=["signer_code_required"])
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    open_link(client, token)
    page = client.get(reverse("signing_page")).text
    assert "Stuur mij een code" not in page
    assert 'name="code"' not in page
    assert client.post(reverse("signing_send_code")).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signing_page"), client_post())
    assert response.status_code == 302
    assert Signature.objects.filter(document=agreement, party="client").exists()
    assert not SignerCode.objects.exists()
    assert "signer_code_sent" not in kinds(agreement)
    agreement.refresh_from_db()
    text = " ".join(pdf_text(stored_pdf(agreement)).split())
    assert "Er is geen aparte code gevraagd" in text
    assert "Niet gecontroleerd: de identiteit van de ondertekenaars" in text


def test_the_coach_switches_the_code_off_in_her_practice_details(coach_client, coach):
    from agreements.forms import PracticeForm

    page = coach_client.get(reverse("practice_edit")).text
    assert "Ondertekening door je cliënten" in page
    assert "De cliënt om een code vragen voor het ondertekenen" in page
    data = {name: getattr(coach.practice, name) or "" for name in PracticeForm.Meta.fields} | {
        "signer_code_required": ""
    }
    response = coach_client.post(reverse("practice_edit"), data)
    assert response.status_code == 302, response.text
    coach.practice.refresh_from_db()
    assert coach.practice.signer_code_required is False


def test_new_practices_ask_for_a_code(coach):
    assert coach.practice.signer_code_required is True


# The evidence page ---------------------------------------------------------------------------


def test_the_evidence_names_the_time_stamping_authorities_without_credentials(
    client, session, settings
):
    agreement = session
    client.post(reverse("signing_page"), client_post(code=request_code(client)))
    agreement.refresh_from_db()
    assert agreement.is_signed

    settings.TSA_URLS = []
    text = " ".join(pdf_text(documents.render_pdf(agreement, final=True)).split())
    assert "Er is geen tijdstempeldienst gebruikt" in text

    settings.TSA_URLS = [
        "https://user:secret@tsa.example.test/tsr",
        "http://backup.example.test:8080/",
    ]
    text = " ".join(pdf_text(documents.render_pdf(agreement, final=True)).split())
    assert "tijdstempel (RFC 3161) van de tijdstempeldienst https://tsa.example.test/tsr" in text
    assert "als die niet antwoordt, van http://backup.example.test:8080/" in text
    assert "secret" not in text


@pytest.mark.usefixtures("render_once")  # about the flow, not the text
def test_a_double_click_on_sign_says_signed_not_code_used(
    client, session, django_capture_on_commit_callbacks, monkeypatch
):
    """The second click of a double click can pass the page's check before the first one
    has signed; it then finds the code used. The client reads that it is signed."""
    from agreements import signing_views

    digits = request_code(client)
    form = client_post(code=digits)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("signing_page"), form).status_code == 302
    # The second click, as if it had been checked before the first one signed.
    monkeypatch.setattr(signing_views, "_link_state", lambda link: None)
    second = client.post(reverse("signing_page"), form)
    assert "Al ondertekend" in second.text
    assert "<title>Al ondertekend" in second.text
    assert "al gebruikt" not in second.text
    assert Signature.objects.filter(document=session, party="client").count() == 1
