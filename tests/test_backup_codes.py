"""Enrolling an authenticator app ends with the backup codes, whatever page the coach was
going to; she can print or download them, and then continues where she was going."""

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import make_coach, totp_code
from .test_accounts import login_password, signing_hex

pytestmark = pytest.mark.django_db


def enrol(client, next_url):
    setup = reverse("two_factor:setup")
    client.get(f"{setup}?next={next_url}")
    client.post(f"{setup}?next={next_url}", {"setup_view-current_step": "welcome"})
    secret = client.session["django_two_factor-qr_secret_key"]
    return client.post(
        f"{setup}?next={next_url}",
        {
            "setup_view-current_step": "generator",
            "generator-token": totp_code(TOTPDevice(key=signing_hex(secret))),
            "next": next_url,
        },
    )


def test_enrolment_ends_on_the_backup_codes_then_continues_where_she_was_going(client):
    coach = make_coach("nieuw@praktijk.test", with_device=False)
    login_password(client, coach.email)
    retention = reverse("retention_list")
    response = client.get(retention)
    assert response.url.startswith(reverse("two_factor:setup"))

    response = enrol(client, retention)
    # Not straight back to the retention list: first the codes.
    assert response.status_code == 302
    assert response.url == reverse("two_factor:setup_complete")
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Maak nu back-upcodes" in page.text

    response = client.post(reverse("two_factor:backup_tokens"))
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", response.text)
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    assert "data-backup-codes-print" in response.text
    assert "data-backup-codes-download" in response.text
    assert 'src="/static/js/backup-codes.js"' in response.text
    assert f'href="{retention}">' in response.text  # continue where she was going
    assert client.get(retention).status_code == 200


def test_without_a_destination_a_new_coach_continues_to_her_practice_details(client):
    coach = make_coach("nieuw@praktijk.test", with_device=False)
    coach.practice.statutory_seat = ""
    coach.practice.save()
    login_password(client, coach.email)
    enrol(client, "")
    response = client.post(reverse("two_factor:backup_tokens"))
    assert f'href="{reverse("practice_edit")}">' in response.text
