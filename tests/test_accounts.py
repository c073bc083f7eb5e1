import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agreements.models import Practice
from avg_portal.models import SecurityEvent, User
from avg_portal.tokens import make_email_confirmation_token

from .conftest import PASSWORD, make_coach, totp_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("two_factor:login")


def login_password(client, email, password=PASSWORD):
    return client.post(
        LOGIN,
        {"login_view-current_step": "auth", "auth-username": email, "auth-password": password},
    )


def login_token(client, code):
    return client.post(LOGIN, {"login_view-current_step": "token", "token-otp_token": code})


def link_from(message):
    return re.search(r"https?://[^\s\"<]+", message.body).group(0)


def test_a_password_like_the_practice_name_or_the_coach_name_is_refused(coach_client, coach):
    """Signing up, and changing it later: the practice's name is on every agreement it sends."""
    from django.test import Client

    from avg_portal.models import User

    response = signup(
        Client(),
        email="nieuw@praktijk.test",
        practice="Coachpraktijk Zonnebloem",
        password="CoachpraktijkZonnebloem",
    )
    assert response.status_code == 200
    assert "Het wachtwoord lijkt te veel op de naam van je praktijk." in response.text
    assert not User.objects.filter(email="nieuw@praktijk.test").exists()

    coach.full_name = "Marieke van der Linden"
    coach.save(update_fields=["full_name"])
    for like, message in (
        (coach.practice.name, "Het wachtwoord lijkt te veel op de naam van je praktijk."),
        ("MariekeVanDerLinden", "Het wachtwoord lijkt te veel op je naam."),
    ):
        response = coach_client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": like, "new_password2": like},
        )
        assert response.status_code == 200, like
        assert message in response.text
    coach.refresh_from_db()
    assert coach.check_password(PASSWORD)


def signup(client, email="zoe@praktijk-unal.test", practice="Praktijk Zoë Ünal", password=PASSWORD):
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("signup"),
            {
                "email": email,
                "practice_name": practice,
                "password1": password,
                "password2": password,
            },
        )


def test_sign_up_confirm_enrol_log_in_and_fill_in_practice(client):
    response = signup(client, email="Zoe@Praktijk-Unal.test")
    assert response.status_code == 200
    assert "Controleer je e-mail" in response.text
    user = User.objects.get()
    assert user.email == "zoe@praktijk-unal.test"
    assert user.practice.name == "Praktijk Zoë Ünal"
    assert not user.email_confirmed

    # The confirmation email: a GET shows a button, only the POST confirms.
    (message,) = mail.outbox
    assert message.to == ["zoe@praktijk-unal.test"]
    assert "Bevestig je e-mailadres" in message.subject
    path = link_from(message).removeprefix("http://127.0.0.1:8000")
    assert "Bevestig" in client.get(path).text
    user.refresh_from_db()
    assert not user.email_confirmed
    response = client.post(path)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_confirmed

    # Password step; with no authenticator app yet, every page leads to enrolment.
    response = login_password(client, "zoe@praktijk-unal.test")
    assert response.status_code == 302
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor:setup"))

    setup = reverse("two_factor:setup")
    client.get(setup)
    response = client.post(setup, {"setup_view-current_step": "welcome"})
    assert "QR" in response.text
    secret = client.session["django_two_factor-qr_secret_key"]
    assert secret in response.text  # the key is shown as text too
    qr = client.get(reverse("two_factor:qr"))
    assert qr["Content-Type"].startswith("image/svg+xml")
    device = TOTPDevice(key=signing_hex(secret))
    response = client.post(
        setup, {"setup_view-current_step": "generator", "generator-token": totp_code(device)}
    )
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed

    # Backup codes: shown once, in the response that makes them.
    response = client.post(reverse("two_factor:backup_tokens"))
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", response.text)
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    assert not any(code in client.get(reverse("two_factor:backup_tokens")).text for code in codes)

    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302

    # Log in again: password, then a fresh code (the enrolment code may not be replayed).
    login_password(client, "zoe@praktijk-unal.test")
    response = login_token(client, totp_code(device, steps_ahead=1))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200

    # The practice's email address starts as the one she signed up with.
    form = client.get(reverse("practice_edit")).context["form"]
    assert form["email"].value() == "zoe@praktijk-unal.test"
    response = client.post(
        reverse("practice_edit"),
        {
            "name": "Praktijk Zoë Ünal",
            "statutory_seat": "Tilburg",
            "address": "Stationsstraat 1, 5038 EA Tilburg",
            "kvk_number": "87654321",
            "email": "info@praktijk-unal.test",
            "phone": "013 765 43 21",
            "breach_contact_role": "de coach",
            "breach_contact_phone": "06 87654321",
            "breach_contact_email": "privacy@praktijk-unal.test",
            "default_penalty_per_violation": "2500.00",
            "default_penalty_per_day": "250",
        },
    )
    assert response.status_code == 302
    practice = Practice.objects.get(pk=user.practice_id)
    assert practice.kvk_number == "87654321"
    assert practice.is_complete
    assert str(practice.default_penalty_per_day) == "250.00"

    kinds = list(user.security_events.order_by("created_at", "id").values_list("kind", flat=True))
    assert kinds == [
        "signup",
        "email_confirmed",
        "login",  # the password step; enrolment follows before any coach page opens
        "otp_added",
        "backup_codes",
        "logout",
        "login",
    ]


def signing_hex(b32):
    from base64 import b32decode
    from binascii import hexlify

    return hexlify(b32decode(b32)).decode()


def test_wrong_password_gives_dutch_message_and_is_logged(client, coach):
    response = login_password(client, coach.email, "niet-het-wachtwoord")
    assert response.status_code == 200
    assert "Dit e-mailadres en wachtwoord horen niet bij elkaar" in response.text
    assert "_auth_user_id" not in client.session
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.attempted_email == coach.email
    assert event.ip_address == "127.0.0.1"


def test_unconfirmed_email_cannot_log_in(client):
    user = make_coach(confirmed=False)
    response = login_password(client, user.email)
    assert "Bevestig eerst je e-mailadres" in response.text
    assert "_auth_user_id" not in client.session


def test_wrong_totp_code_is_refused(client, coach):
    device = coach.totpdevice_set.get()
    login_password(client, coach.email)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = login_token(client, wrong)
    assert response.status_code == 200
    assert "Deze code klopt niet" in response.text
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind="otp_failed", user=coach).exists()


def test_reused_totp_code_is_refused(client, coach):
    device = coach.totpdevice_set.get()
    code = totp_code(device)
    login_password(client, coach.email)
    assert login_token(client, code).status_code == 302
    client.post(reverse("logout"))

    login_password(client, coach.email)
    response = login_token(client, code)
    assert response.status_code == 200
    assert "Deze code klopt niet, of is al gebruikt" in response.text
    assert "_auth_user_id" not in client.session


def test_backup_code_logs_in_once(client, coach):
    static = coach.staticdevice_set.create(name="backup")
    static.token_set.create(token="abcd2345")
    login_password(client, coach.email)
    client.post(LOGIN, {"wizard_goto_step": "backup"})
    response = client.post(
        LOGIN, {"login_view-current_step": "backup", "backup-otp_token": "abcd2345"}
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert not static.token_set.exists()

    # Used once: refused the next time, in words about backup codes, not about the app.
    client.post(reverse("logout"))
    login_password(client, coach.email)
    client.post(LOGIN, {"wizard_goto_step": "backup"})
    response = client.post(
        LOGIN, {"login_view-current_step": "backup", "backup-otp_token": "abcd2345"}
    )
    assert response.status_code == 200
    assert "Deze back-upcode klopt niet, of is al gebruikt: elke code werkt één keer." in (
        response.text
    )
    assert "je app nu toont" not in response.text
    assert "_auth_user_id" not in client.session


def test_duplicate_sign_up_email_is_refused(client, coach):
    response = signup(client, email=coach.email.upper(), practice="Nog een praktijk")
    assert response.status_code == 200
    assert "Er bestaat al een account met dit e-mailadres" in response.text
    assert User.objects.count() == 1
    assert Practice.objects.count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "geen-adres"}, "Voer een geldig e-mailadres in"),
        ({"password2": "iets-anders-12345"}, "De twee wachtwoorden verschillen"),
        ({"password1": "kort", "password2": "kort"}, "Dit wachtwoord is te kort"),
        ({"practice_name": "   "}, "Dit veld is verplicht"),
    ],
)
def test_bad_sign_up_input_is_refused_in_dutch(client, fields, message):
    data = {
        "email": "nieuw@praktijk.test",
        "practice_name": "Praktijk",
        "password1": PASSWORD,
        "password2": PASSWORD,
    } | fields
    response = client.post(reverse("signup"), data)
    assert response.status_code == 200
    assert message in response.text
    assert not User.objects.exists()
    assert not Practice.objects.exists()


def test_expired_confirmation_link_is_refused(client, settings):
    user = make_coach(confirmed=False)
    token = make_email_confirmation_token(user)
    settings.EMAIL_CONFIRMATION_MAX_AGE = timedelta(seconds=-1)
    path = reverse("confirm_email", kwargs={"token": token})
    assert "verlopen" in client.get(path).text
    response = client.post(path)
    assert response.status_code == 400
    assert "verlopen" in response.text
    user.refresh_from_db()
    assert not user.email_confirmed


def test_tampered_confirmation_link_is_refused(client):
    user = make_coach(confirmed=False)
    other = make_coach("ander@praktijk.test", confirmed=False)
    token = make_email_confirmation_token(user)
    forged = signing.dumps({"u": other.pk, "e": other.email}, salt="wrong-salt")
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        response = client.post(reverse("confirm_email", kwargs={"token": bad}))
        assert response.status_code == 400
        assert "niet geldig" in response.text
    assert not User.objects.filter(email_confirmed_at__isnull=False).exists()


def test_confirmation_link_works_once(client):
    user = make_coach(confirmed=False)
    path = reverse("confirm_email", kwargs={"token": make_email_confirmation_token(user)})
    assert client.post(path).status_code == 302
    confirmed_at = User.objects.get(pk=user.pk).email_confirmed_at
    response = client.post(path)
    assert "al bevestigd" in response.text
    assert User.objects.get(pk=user.pk).email_confirmed_at == confirmed_at


def test_resend_confirmation_does_not_reveal_accounts(client, django_capture_on_commit_callbacks):
    user = make_coach(confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("resend_confirmation"), {"email": "niemand@nergens.test"})
    assert "Controleer je e-mail" in response.text
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("resend_confirmation"), {"email": user.email})
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_throttle_after_repeated_failures_lifts_after_cool_off(client, coach, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_password(client, coach.email, "fout-wachtwoord")
    # Even the right password is refused during the cool-off.
    response = login_password(client, coach.email)
    assert response.status_code == 429
    assert "te vaak mislukt" in response.text
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind="login_throttled").exists()
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.username == coach.email
    assert "fout-wachtwoord" not in attempt.post_data
    # Only that account from that address: five wrong passwords from elsewhere do not keep
    # the coach out, nor do they keep out a colleague behind the same address.
    elsewhere = Client(REMOTE_ADDR="198.51.100.23")
    assert "Voer de code van 6 cijfers in" in login_password(elsewhere, coach.email).text
    colleague = make_coach("collega@delinde.test", practice=coach.practice)
    assert "Voer de code van 6 cijfers in" in login_password(Client(), colleague.email).text

    # The cool-off passes (the attempts age); the coach gets in without an administrator.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    response = login_password(client, coach.email)
    assert response.status_code == 200
    assert "Voer de code van 6 cijfers in" in response.text  # on to the second factor
    device = coach.totpdevice_set.get()
    assert login_token(client, totp_code(device)).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_password_reset_by_email(client, coach, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://avg.example.nl:8443"
    # The link goes to the site's address, not to the Host the request came with.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": coach.email}, HTTP_HOST="127.0.0.1")
    (message,) = mail.outbox
    assert "nieuw wachtwoord" in message.subject.lower()
    path = re.search(r"https://avg\.example\.nl:8443(/\S+)", message.body).group(1)
    response = client.get(path, follow=True)
    new = "een-ander-lang-wachtwoord-7"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    coach.refresh_from_db()
    assert coach.check_password(new)
    # Resetting the password never logs in: the second factor is still needed.
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind="password_changed", user=coach).exists()


def test_change_password(coach_client, coach):
    new = "nog-een-ander-wachtwoord-8"
    response = coach_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    coach.refresh_from_db()
    assert coach.check_password(new)


def test_logout_refuses_get(coach_client):
    assert coach_client.get(reverse("logout")).status_code == 405
    assert coach_client.get(reverse("dashboard")).status_code == 200


def test_practice_form_rejects_bad_input_in_dutch(coach_client, coach):
    before = Practice.objects.values().get(pk=coach.practice_id)
    response = coach_client.post(
        reverse("practice_edit"),
        {
            "name": "",
            "statutory_seat": "Tilburg",
            "address": "x",
            "kvk_number": "1234",
            "email": "geen-email",
            "phone": "bel me",
            "breach_contact_role": "de coach",
            "breach_contact_phone": "06 12345678",
            "breach_contact_email": "privacy@delinde.test",
            "default_penalty_per_violation": "-5",
            "default_penalty_per_day": "x" * 100_000,
        },
    )
    assert response.status_code == 200
    text = response.text
    assert "Dit veld is verplicht" in text
    assert "Een KvK-nummer heeft precies 8 cijfers" in text
    assert "Voer een geldig e-mailadres in" in text
    assert "Voer een telefoonnummer in" in text
    assert "Zorg ervoor dat deze waarde minstens 0 is" in text
    assert Practice.objects.values().get(pk=coach.practice_id) == before


def test_security_log_shows_own_events_only(coach_client, coach, stranger):
    SecurityEvent.objects.create(kind="login", user=stranger, ip_address="203.0.113.9")
    SecurityEvent.objects.create(kind="login", user=coach, ip_address="198.51.100.7")
    text = coach_client.get(reverse("security_log")).text
    assert "198.51.100.7" in text
    assert "203.0.113.9" not in text


def test_english_through_the_language_switch(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(LOGIN)
    assert "Log in with your email address" in response.text
    assert 'lang="en"' in response.text
    client.post(reverse("set_language"), {"language": "nl", "next": "/"})
    assert "Log in met je e-mailadres" in client.get(LOGIN).text


def test_replace_the_authenticator_app_for_a_new_phone(
    coach_client, coach, django_capture_on_commit_callbacks
):
    """The current app keeps working until the new one gave a right code; then the old one
    stops, backup codes stay, and the coach is told by email."""
    old = coach.totpdevice_set.get()
    coach.staticdevice_set.create(name="backup").token_set.create(token="abcd2345")
    url = reverse("replace_authenticator")
    response = coach_client.post(url, {"password": "niet-het-wachtwoord"})
    assert "Dit wachtwoord klopt niet" in response.text
    assert TOTPDevice.objects.filter(pk=old.pk).exists()

    response = coach_client.post(url, {"password": PASSWORD})
    assert response.url == reverse("replace_authenticator_confirm")
    new = TOTPDevice.objects.get(user=coach, confirmed=False)
    assert TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()
    page = coach_client.get(response.url)
    assert "Je huidige app blijft werken" in page.text
    assert coach_client.get(page.context["QR_URL"]).status_code == 200

    confirm = reverse("replace_authenticator_confirm")
    response = coach_client.post(confirm, {"code": totp_code(old)})
    assert response.status_code == 400 and "klopt niet" in response.text
    # (django-otp makes a device wait a moment after a wrong code.)
    TOTPDevice.objects.filter(pk=new.pk).update(throttling_failure_count=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(confirm, {"code": totp_code(new)})
    assert response.url == reverse("security_log")
    assert list(TOTPDevice.objects.filter(user=coach).values_list("pk", "confirmed")) == [
        (new.pk, True)
    ]
    assert StaticToken.objects.filter(device__user=coach).exists()
    kinds = set(SecurityEvent.objects.filter(user=coach).values_list("kind", flat=True))
    assert {"otp_removed", "otp_added"} <= kinds
    (told,) = [m for m in mail.outbox if "authenticator" in m.subject.lower()]
    assert told.to == [coach.email] and "backupcode" in told.body
    # The session stays verified with the new app.
    assert coach_client.get(reverse("dashboard")).status_code == 200


def test_a_replacement_left_half_way_lets_no_one_in_with_the_password_alone(coach_client, coach):
    """Someone who knows only the password, in a session of his own, after the coach (or
    he, in a session she left open) started a replacement: the login still asks for the
    code of the current app, and enrolling an app of his own is not offered."""
    coach_client.post(reverse("replace_authenticator"), {"password": PASSWORD})
    client = Client()  # someone else's browser
    login_password(client, coach.email)
    response = client.get(reverse("client_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor:login"))
    setup = client.get(reverse("two_factor:setup"))
    assert setup.status_code == 302 or "QR" not in setup.text
    assert (
        not TOTPDevice.objects.filter(user=coach, confirmed=True).exclude(name="default").exists()
    )


def test_dutch_for_the_messages_of_django_and_two_factor(coach):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from two_factor.forms import TOTPDeviceForm

    with pytest.raises(ValidationError) as refused:
        validate_password(coach.email, coach)
    assert "Het wachtwoord lijkt te veel op je e-mailadres." in refused.value.messages
    assert (
        TOTPDeviceForm.error_messages["invalid_token"]
        == "Deze code klopt niet. Voer de code in die je app nu toont."
    )
