"""Every destructive action asks first, on a page that works without JavaScript and names
what will happen; only the POST from that page acts."""

import pytest
from django.urls import reverse

from agreements.models import Agreement
from core.models import Client

from .conftest import login_verified
from .factories import make_agreement, make_client
from .signing_helpers import send_for_signing

pytestmark = pytest.mark.django_db


def test_deleting_a_draft_asks_first(coach_client, coach):
    draft = make_agreement(coach.practice)
    detail = coach_client.get(reverse("agreement_detail", args=[draft.public_id])).text
    confirm_url = reverse("agreement_delete_confirm", args=[draft.public_id])
    assert f'href="{confirm_url}"' in detail
    assert f'action="{reverse("agreement_delete", args=[draft.public_id])}"' not in detail

    page = coach_client.get(confirm_url).text
    assert f"Concept voor {draft.client_name} verwijderen?" in page
    assert "kan niet ongedaan worden gemaakt" in page
    assert (
        f'<form method="post" action="{reverse("agreement_delete", args=[draft.public_id])}"'
        in page
    )
    assert Agreement.objects.filter(pk=draft.pk).exists()  # asking changes nothing

    coach_client.post(reverse("agreement_delete", args=[draft.public_id]))
    assert not Agreement.objects.filter(pk=draft.pk).exists()


def test_withdrawing_asks_first(coach_client, coach, django_capture_on_commit_callbacks):
    agreement, _token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    confirm_url = reverse("agreement_withdraw_confirm", args=[agreement.public_id])
    assert (
        f'href="{confirm_url}"'
        in coach_client.get(reverse("agreement_detail", args=[agreement.public_id])).text
    )
    page = coach_client.get(confirm_url).text
    assert "De link van de cliënt werkt meteen niet meer" in page
    agreement.refresh_from_db()
    assert agreement.status == "sent"


def test_deleting_a_client_asks_first_and_names_her_drafts(coach_client, coach):
    client = make_client(coach.practice, "Anna Jansen")
    make_agreement(coach.practice, client)
    make_agreement(coach.practice, client)
    confirm_url = reverse("client_delete_confirm", args=[client.public_id])
    assert (
        f'href="{confirm_url}"'
        in coach_client.get(reverse("client_edit", args=[client.public_id])).text
    )
    page = coach_client.get(confirm_url).text
    assert "Anna Jansen verwijderen?" in page
    assert "De 2 concept-overeenkomsten van de cliënt worden ook verwijderd." in page
    assert Client.objects.filter(pk=client.pk).exists()


def test_a_non_draft_has_no_delete_confirmation(
    coach_client, coach, django_capture_on_commit_callbacks
):
    agreement, _token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    response = coach_client.get(reverse("agreement_delete_confirm", args=[agreement.public_id]))
    assert response.status_code == 302
    assert response.url == reverse("agreement_detail", args=[agreement.public_id])


def test_strangers_get_404_on_confirmation_pages(client, coach, stranger):
    draft = make_agreement(coach.practice)
    login_verified(client, stranger)
    for name, obj in [
        ("agreement_delete_confirm", draft),
        ("agreement_withdraw_confirm", draft),
        ("client_delete_confirm", draft.client),
    ]:
        assert client.get(reverse(name, args=[obj.public_id])).status_code == 404


def test_confirmation_pages_change_nothing_on_post(coach_client, coach):
    draft = make_agreement(coach.practice)
    for name, obj in [
        ("agreement_delete_confirm", draft),
        ("client_delete_confirm", draft.client),
    ]:
        assert coach_client.post(reverse(name, args=[obj.public_id])).status_code == 405
    assert Agreement.objects.filter(pk=draft.pk).exists()
