import pytest
from django.urls import reverse

from agreements.models import Agreement, AgreementStatus, Client

from .factories import make_agreement, make_client

pytestmark = pytest.mark.django_db


def test_add_client(coach_client, coach):
    response = coach_client.post(
        reverse("client_create"),
        {
            "name": "Zoë Ünal-Brontë",
            "residence": "Breda",
            "email": "zoe@example.test",
            "phone": "",
            "language": "nl",
        },
    )
    assert response.status_code == 302
    client = Client.objects.get()
    assert client.practice_id == coach.practice_id
    assert (client.name, client.residence, client.email) == (
        "Zoë Ünal-Brontë",
        "Breda",
        "zoe@example.test",
    )


def test_add_client_then_draft_goes_to_the_new_agreement_form(coach_client):
    response = coach_client.post(
        reverse("client_create"),
        {
            "name": "Ångström",
            "residence": "Delft",
            "email": "a@example.test",
            "language": "en",
            "and_agreement": "1",
        },
    )
    client = Client.objects.get()
    assert response.url == f"{reverse('agreement_create')}?client={client.public_id}"
    assert client.language == "en"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Dit veld is verplicht"),
        ({"email": "geen-adres"}, "Voer een geldig e-mailadres in"),
        ({"name": "x" * 100_000}, "niet meer dan 200 tekens"),
        ({"phone": "bel me maar"}, "Voer een telefoonnummer in"),
        ({"language": "fr"}, "Kies een van de mogelijkheden die er staan"),
    ],
)
def test_bad_client_input_is_refused_in_dutch(coach_client, fields, message):
    data = {"name": "Zoë", "residence": "Breda", "email": "zoe@example.test", "language": "nl"}
    response = coach_client.post(reverse("client_create"), data | fields)
    assert response.status_code == 200
    assert message in response.text
    assert not Client.objects.exists()


def test_client_list_searches_within_own_practice(coach_client, coach, stranger):
    make_client(coach.practice, name="Zoë Ünal")
    make_client(coach.practice, name="Bram de Vries", email="bram@example.test")
    make_client(stranger.practice, name="Zoë van Anderen")
    text = coach_client.get(reverse("client_list"), {"q": "zoë"}).text
    assert "Zoë Ünal" in text
    assert "Bram de Vries" not in text
    assert "Zoë van Anderen" not in text
    assert "Bram de Vries" in coach_client.get(reverse("client_list")).text


def test_edit_client(coach_client, coach):
    client = make_client(coach.practice)
    response = coach_client.post(
        reverse("client_edit", args=[client.public_id]),
        {"name": "Zoë Ünal", "residence": "Tilburg", "email": "zoe@example.test", "language": "nl"},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.residence == "Tilburg"


def test_delete_client_with_only_drafts(coach_client, coach):
    client = make_client(coach.practice)
    make_agreement(coach.practice, client)
    response = coach_client.post(reverse("client_delete", args=[client.public_id]))
    assert response.status_code == 302
    assert not Client.objects.exists()
    assert not Agreement.objects.exists()


def test_client_with_signed_agreement_cannot_be_deleted(coach_client, coach):
    client = make_client(coach.practice)
    agreement = make_agreement(coach.practice, client)
    Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.SIGNED)
    response = coach_client.post(reverse("client_delete", args=[client.public_id]), follow=True)
    assert "kan niet worden verwijderd" in response.text
    assert Client.objects.filter(pk=client.pk).exists()
    assert Agreement.objects.filter(pk=agreement.pk).exists()


def test_delete_client_refuses_get(coach_client, coach):
    client = make_client(coach.practice)
    assert coach_client.get(reverse("client_delete", args=[client.public_id])).status_code == 405
    assert Client.objects.filter(pk=client.pk).exists()


def test_stranger_gets_404_for_another_practices_client(client, coach, stranger):
    from .conftest import login_verified

    theirs = make_client(coach.practice)
    login_verified(client, stranger)
    assert client.get(reverse("client_edit", args=[theirs.public_id])).status_code == 404
    response = client.post(
        reverse("client_edit", args=[theirs.public_id]),
        {"name": "Gekaapt", "residence": "X", "email": "x@example.test", "language": "nl"},
    )
    assert response.status_code == 404
    assert client.post(reverse("client_delete", args=[theirs.public_id])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Zoë Ünal-Brontë"


def test_a_choice_that_is_not_offered_is_refused_without_repeating_it(coach_client):
    """Django's message would put whatever was sent on the page: ten thousand characters,
    or a right-to-left override."""
    sent = "\u202e" + "x" * 10_000
    response = coach_client.post(
        reverse("client_create"),
        {"name": "Zoë", "residence": "Breda", "email": "zoe@example.test", "language": sent},
    )
    assert response.status_code in (200, 400)
    assert "Kies een van de mogelijkheden die er staan." in response.text
    assert "x" * 100 not in response.text and "\u202e" not in response.text
    assert not Client.objects.exists()
