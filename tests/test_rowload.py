"""The coach and her device are read on every request by a statement made once
(`avg_portal.rowload`): the same objects as the ORM gives, and the same refusals."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agreements.models import Practice
from avg_portal.models import User
from avg_portal.rowload import get_by_pk

from .conftest import login_verified, make_coach

pytestmark = pytest.mark.django_db


def _values(instance):
    fields = type(instance)._meta.concrete_fields
    return {field.attname: getattr(instance, field.attname) for field in fields}


def test_the_coach_and_her_practice_are_what_the_orm_reads(coach):
    expected = User.objects.select_related("practice").get(pk=coach.pk)
    with CaptureQueriesContext(connection) as queries:
        loaded = get_by_pk(User, coach.pk, related="practice")
        practice = loaded.practice
    assert len(queries) == 1
    assert _values(loaded) == _values(expected)
    assert _values(practice) == _values(expected.practice)
    # Values of every kind came through the database's converters: a moment with its zone,
    # a flag as a flag.
    assert loaded.email_confirmed_at.tzinfo is not None
    assert loaded.is_active is True
    assert loaded._state.adding is False and loaded._state.db == "default"
    assert isinstance(practice, Practice) and practice.pk == coach.practice_id


def test_a_user_without_a_practice_has_none_and_a_missing_row_is_none(db):
    admin = User.objects.create_user(email="beheer@example.test", password="x" * 20)
    with CaptureQueriesContext(connection) as queries:
        loaded = get_by_pk(User, admin.pk, related="practice")
        assert loaded.practice is None
    assert len(queries) == 1
    assert get_by_pk(User, admin.pk + 1000, related="practice") is None
    assert get_by_pk(TOTPDevice, 10**9) is None
    # Beyond what the key column holds: no row, not a database error.
    assert get_by_pk(TOTPDevice, 2**70) is None
    assert get_by_pk(User, -(2**70), related="practice") is None


def test_the_device_is_what_the_orm_reads(coach):
    device = coach.totpdevice_set.get()
    expected = TOTPDevice.objects.get(pk=device.pk)
    assert _values(get_by_pk(TOTPDevice, device.pk)) == _values(expected)


def _page_with_device(client, persistent_id):
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id
    session.save()
    return client.get(reverse("dashboard"))


def test_a_session_naming_a_device_that_is_not_hers_is_not_verified(client, coach):
    """django-otp's rules stand: another coach's device, an unconfirmed or deleted one, a
    label that is no device, or nonsense, leave the coach at the second-factor step."""
    other = make_coach("ander@example.test")
    login_verified(client, coach)
    assert client.get(reverse("dashboard")).status_code == 200
    unconfirmed = TOTPDevice.objects.create(user=coach, name="nieuw", confirmed=False)
    deleted = TOTPDevice.objects.create(user=coach, name="weg", confirmed=True)
    deleted_id = deleted.persistent_id
    deleted.delete()
    for persistent_id in (
        other.totpdevice_set.get().persistent_id,
        unconfirmed.persistent_id,
        deleted_id,
        f"avg_portal.user/{coach.pk}",
        "otp_totp.totpdevice/abc",
        "otp_totp.totpdevice/99999999999999999999999",
        "geen.model/1",
        "zonder-schuine-streep",
    ):
        response = _page_with_device(client, persistent_id)
        assert response.status_code == 302, persistent_id
        assert response.url.startswith(reverse("two_factor:login")), persistent_id
        # The session forgets a device that did not pass.
        assert DEVICE_ID_SESSION_KEY not in client.session, persistent_id


def test_a_backup_code_device_verifies_the_session(client, coach):
    backup = StaticDevice.objects.create(user=coach, name="backup", confirmed=True)
    login_verified(client, coach)
    response = _page_with_device(client, backup.persistent_id)
    assert response.status_code == 200
    assert response.wsgi_request.user.otp_device == backup
