"""A breach notification is never sent blind: the coach sees the exact email first, her
note is labelled as hers, and the AP's form is one click from the decision."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from breaches.actions import breach_create, breach_update
from breaches.models import ClientNotification
from core.origin import Origin

from .factories import make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def breach(coach):
    anna = make_client(coach.practice, "Anna Jansen", email="anna@example.test")
    breach = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Laptop gestolen uit de auto",
        discovered_at=timezone.now() - datetime.timedelta(hours=2),
        clients=[anna],
    )
    breach_update(
        breach=breach,
        origin=Origin.of_account(coach),
        changes={
            "consequences": "Anderen kunnen je verslagen lezen.",
            "measures": "Laptop op afstand gewist.",
        },
    )
    breach.refresh_from_db()
    return breach


def test_the_coach_sees_the_exact_email_before_it_goes(
    coach_client, breach, django_capture_on_commit_callbacks
):
    anna = breach.clients.get()
    detail = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert 'name="preview"' in detail
    assert "Het meldformulier datalekken van de AP" in detail

    url = reverse("breach_notify", args=[breach.public_id])
    note = "Verander je wachtwoord <b>vandaag</b>."
    preview = coach_client.post(url, {"clients": [anna.pk], "message": note, "preview": "1"})
    assert preview.status_code == 200
    page = preview.text
    assert "Beste Anna Jansen," in page
    assert "Laptop gestolen uit de auto" in page
    assert "Toelichting van Coachpraktijk De Linde" in page
    assert "Verander je wachtwoord &lt;b&gt;vandaag&lt;/b&gt;." in page  # escaped
    assert "anna@example.test" in page
    # What art. 34(2) requires: the likely consequences and the measures too.
    assert "Anderen kunnen je verslagen lezen." in page
    assert "Laptop op afstand gewist." in page
    assert not ClientNotification.objects.exists()  # nothing sent by looking
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(url, {"clients": [anna.pk], "message": note})
    (notification,) = ClientNotification.objects.all()
    assert notification.delivered
    (message,) = mail.outbox
    assert "Toelichting van Coachpraktijk De Linde\nVerander je wachtwoord <b>vandaag</b>." in (
        message.body
    )
    html = message.alternatives[0][0]
    assert "<strong>Toelichting van Coachpraktijk De Linde</strong>" in html
    assert "&lt;b&gt;vandaag&lt;/b&gt;" in html


def test_a_stranger_cannot_preview(client, stranger, breach):
    from .conftest import login_verified

    login_verified(client, stranger)
    url = reverse("breach_notify", args=[breach.public_id])
    response = client.post(url, {"clients": [breach.clients.get().pk], "preview": "1"})
    assert response.status_code == 404
