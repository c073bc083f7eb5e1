import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.document_versions import CURRENT_VERSION
from agreements.models import Agreement, AgreementStatus, ProcessingActivity

from .conftest import login_verified
from .factories import make_agreement, make_client

pytestmark = pytest.mark.django_db

ROW = {
    "description": "Sessieverslagen bijhouden",
    "purposes": "Het coachtraject uitvoeren",
    "controller": "Coachpraktijk De Linde",
    "processor": "Coachpraktijk De Linde",
    "sub_processors": "",
    "personal_data": "Aantekeningen",
    "location": "Versleutelde laptop",
    "retention": "2 jaar",
}


def post_data(agreement, rows=None, **overrides):
    """What the edit form posts: the agreement's fields, its Bijlage 1 rows and ticks."""
    existing = list(agreement.activities.all())
    rows = rows if rows is not None else [a.copy_values() | {"id": a.pk} for a in existing]
    data = {
        "agreement_date": agreement.agreement_date.isoformat(),
        "coaching_agreement_date": agreement.coaching_agreement_date.isoformat(),
        "practice_name": agreement.practice_name,
        "practice_seat": agreement.practice_seat,
        "client_name": agreement.client_name,
        "client_residence": agreement.client_residence,
        "penalty_per_violation": str(agreement.penalty_per_violation),
        "penalty_per_day": str(agreement.penalty_per_day),
        "breach_contact_role": agreement.breach_contact_role,
        "breach_contact_phone": agreement.breach_contact_phone,
        "breach_contact_email": agreement.breach_contact_email,
        "data_kind": agreement.data_kind,
        "data_subjects": agreement.data_subjects,
        "processing_purpose": agreement.processing_purpose,
        "storage": agreement.storage,
        "measures": list(agreement.measures),
        "extra_measures": agreement.extra_measures,
        "activities-TOTAL_FORMS": str(len(rows)),
        "activities-INITIAL_FORMS": str(len(existing)),
        "activities-MIN_NUM_FORMS": "0",
        "activities-MAX_NUM_FORMS": "30",
    }
    for index, row in enumerate(rows):
        for field, value in row.items():
            if field == "position":
                continue
            data[f"activities-{index}-{field}"] = "on" if value is True else value
    return data | overrides


def snapshot(agreement):
    values = Agreement.objects.values().get(pk=agreement.pk)
    rows = list(ProcessingActivity.objects.filter(agreement=agreement).values())
    return values, rows


def test_new_agreement_is_prefilled_from_practice_and_client(coach_client, coach):
    practice = coach.practice
    practice.default_penalty_per_violation = Decimal("2500")
    practice.default_penalty_per_day = Decimal("250")
    practice.save()
    client = make_client(practice)
    response = coach_client.post(
        reverse("agreement_create"),
        {"client": client.pk, "coaching_agreement_date": "2026-09-01"},
    )
    agreement = Agreement.objects.get()
    assert response.url == reverse("agreement_edit", args=[agreement.public_id])
    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.template_version == CURRENT_VERSION
    assert agreement.client_name == "Zoë Ünal-Brontë"
    assert agreement.client_residence == "Breda"
    assert agreement.practice_name == practice.name
    assert agreement.practice_seat == "Tilburg"
    assert agreement.penalty_per_violation == Decimal("2500")
    assert agreement.coaching_agreement_date == datetime.date(2026, 9, 1)
    assert agreement.breach_contact_email == practice.breach_contact_email
    assert agreement.measures == practice.measures
    assert [a.description for a in agreement.activities.all()] == [
        a.description for a in practice.default_activities.all()
    ]


def test_another_practices_client_cannot_be_chosen(coach_client, coach, stranger):
    theirs = make_client(stranger.practice)
    make_client(coach.practice, name="Eigen cliënt")
    response = coach_client.post(
        reverse("agreement_create"),
        {"client": theirs.pk, "coaching_agreement_date": "2026-09-01"},
    )
    assert response.status_code == 200
    assert "Kies een van de mogelijkheden die er staan" in response.text
    assert not Agreement.objects.exists()


def test_edit_draft_with_two_rows_and_ticks(coach_client, coach):
    agreement = make_agreement(coach.practice)
    second = ROW | {"description": "Facturen maken", "retention": "7 jaar"}
    # The defaults are removed (ticked "remove", as in the form), two new rows added.
    removed = [a.copy_values() | {"id": a.pk, "DELETE": True} for a in agreement.activities.all()]
    data = post_data(
        agreement,
        rows=[*removed, ROW, second],
        penalty_per_violation="1000.50",
        measures=["virus_scan", "clean_desk"],
        extra_measures="Kluis voor papieren dossiers\n\nWachtwoordmanager",
    )
    response = coach_client.post(reverse("agreement_edit", args=[agreement.public_id]), data)
    assert response.status_code == 302
    agreement.refresh_from_db()
    rows = list(agreement.activities.all())
    assert [r.description for r in rows] == ["Sessieverslagen bijhouden", "Facturen maken"]
    assert [r.position for r in rows] == [0, 1]
    assert rows[1].retention == "7 jaar"
    assert agreement.penalty_per_violation == Decimal("1000.50")
    assert agreement.measures == ["virus_scan", "clean_desk"]
    assert agreement.extra_measure_lines() == ["Kluis voor papieren dossiers", "Wachtwoordmanager"]


def test_remove_and_add_a_row(coach_client, coach):
    agreement = make_agreement(coach.practice)
    existing = list(agreement.activities.all())
    rows = [a.copy_values() | {"id": a.pk} for a in existing]
    rows[0]["DELETE"] = True
    rows.append(ROW)
    response = coach_client.post(
        reverse("agreement_edit", args=[agreement.public_id]), post_data(agreement, rows=rows)
    )
    assert response.status_code == 302
    descriptions = list(agreement.activities.values_list("description", flat=True))
    assert descriptions == [r.description for r in existing[1:]] + [ROW["description"]]


def test_at_least_one_row_is_required(coach_client, coach):
    agreement = make_agreement(coach.practice)
    rows = [a.copy_values() | {"id": a.pk, "DELETE": True} for a in agreement.activities.all()]
    before = snapshot(agreement)
    response = coach_client.post(
        reverse("agreement_edit", args=[agreement.public_id]), post_data(agreement, rows=rows)
    )
    assert response.status_code == 200
    assert "Bijlage 1 heeft minstens één verwerking nodig" in response.text
    assert snapshot(agreement) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_name": ""}, "Dit veld is verplicht"),
        ({"penalty_per_violation": "-1"}, "Zorg ervoor dat deze waarde minstens 0 is"),
        ({"penalty_per_day": "veel"}, "Voer een getal in"),
        ({"client_residence": "x" * 100_000}, "niet meer dan 100 tekens"),
        ({"agreement_date": "9999-12-31"}, "Vul een datum in tussen 2000 en 2100"),
        ({"coaching_agreement_date": "31-02-2026"}, "Voer een geldige datum in"),
        ({"breach_contact_email": "privacy@"}, "Voer een geldig e-mailadres in"),
        ({"data_kind": "geheim"}, "Kies een van de mogelijkheden die er staan"),
        ({"measures": ["virus_scan", "laser_moat"]}, "Kies een van de mogelijkheden die er staan"),
        ({"activities-0-description": "x" * 100_000}, "niet meer dan 2000 tekens"),
        ({"activities-0-retention": ""}, "Dit veld is verplicht"),
    ],
)
def test_bad_agreement_input_is_refused_in_dutch(coach_client, coach, overrides, message):
    agreement = make_agreement(coach.practice)
    before = snapshot(agreement)
    response = coach_client.post(
        reverse("agreement_edit", args=[agreement.public_id]), post_data(agreement, **overrides)
    )
    assert response.status_code == 200
    assert message in response.text
    assert "Nog niet opgeslagen" in response.text
    assert snapshot(agreement) == before


def test_a_sent_agreement_cannot_be_edited(coach_client, coach):
    agreement = make_agreement(coach.practice)
    data = post_data(agreement, client_name="Iemand anders")
    Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.SENT)
    url = reverse("agreement_edit", args=[agreement.public_id])
    assert coach_client.get(url).status_code == 302
    assert coach_client.post(url, data).status_code == 302
    agreement.refresh_from_db()
    assert agreement.client_name == "Zoë Ünal-Brontë"


def test_delete_draft(coach_client, coach):
    agreement = make_agreement(coach.practice)
    url = reverse("agreement_delete", args=[agreement.public_id])
    assert coach_client.get(url).status_code == 405
    assert Agreement.objects.exists()
    assert coach_client.post(url).status_code == 302
    assert not Agreement.objects.exists()


def test_signed_agreement_cannot_be_deleted(coach_client, coach):
    agreement = make_agreement(coach.practice)
    Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.SIGNED)
    coach_client.post(reverse("agreement_delete", args=[agreement.public_id]))
    assert Agreement.objects.filter(pk=agreement.pk).exists()


def test_preview_and_pdf(coach_client, coach):
    agreement = make_agreement(coach.practice)
    response = coach_client.get(reverse("agreement_detail", args=[agreement.public_id]))
    assert "Zoë Ünal-Brontë" in response.text
    assert "Verwerkersovereenkomst" in response.text
    response = coach_client.get(reverse("agreement_pdf", args=[agreement.public_id]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("agreement_detail", "get"),
        ("agreement_edit", "get"),
        ("agreement_edit", "post"),
        ("agreement_pdf", "get"),
        ("agreement_delete", "post"),
    ],
)
def test_stranger_gets_404_for_another_practices_agreement(client, coach, stranger, name, method):
    agreement = make_agreement(coach.practice)
    login_verified(client, stranger)
    data = post_data(agreement, client_name="Gekaapt") if method == "post" else None
    response = getattr(client, method)(reverse(name, args=[agreement.public_id]), data)
    assert response.status_code == 404
    agreement.refresh_from_db()
    assert agreement.client_name == "Zoë Ünal-Brontë"


def test_agreement_list_query_count_does_not_grow(coach_client, coach):
    client = make_client(coach.practice)
    make_agreement(coach.practice, client)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = coach_client.get(reverse("agreement_list"))
        assert response.status_code == 200
        return len(queries), response

    one, _ = count_queries()
    for n in range(199):
        make_agreement(coach.practice, make_client(coach.practice, name=f"Cliënt {n}"))
    many, response = count_queries()
    assert one == many
    assert response.text.count("badge status-draft") == 25  # one page


def test_agreement_list_filters_and_searches(coach_client, coach, stranger):
    make_agreement(coach.practice, make_client(coach.practice, name="Zoë Ünal"))
    signed = make_agreement(coach.practice, make_client(coach.practice, name="Bram"))
    Agreement.objects.filter(pk=signed.pk).update(status=AgreementStatus.SIGNED)
    make_agreement(stranger.practice, make_client(stranger.practice, name="Zoë Anders"))
    text = coach_client.get(reverse("agreement_list"), {"q": "zoë"}).text
    assert "Zoë Ünal" in text
    assert "Zoë Anders" not in text
    text = coach_client.get(reverse("agreement_list"), {"status": "signed"}).text
    assert "Bram" in text
    assert "Zoë Ünal" not in text
    # A NUL in the search (PostgreSQL refuses it in any query) is left out.
    text = coach_client.get(reverse("agreement_list"), {"q": "zo\x00ë"}).text
    assert "Zoë Ünal" in text
    assert "Bram" not in text


def test_the_archive_writes_dates_in_the_coachs_language(coach_client, coach):
    """Formatted once per date and language (`agreements.views._in_words`): a date written
    in Dutch is not served to a coach who reads English."""
    make_agreement(coach.practice, agreement_date=datetime.date(2026, 3, 5))
    assert "5 maart 2026" in coach_client.get(reverse("agreement_list")).text
    coach_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    text = coach_client.get(reverse("agreement_list")).text
    assert "5 March 2026" in text and "maart" not in text


def test_practice_defaults_feed_new_agreements(coach_client, coach):
    practice = coach.practice
    existing = list(practice.default_activities.all())
    rows = [a.copy_values() | {"id": a.pk, "DELETE": True} for a in existing] + [ROW]
    data = {
        "data_kind": "normal",
        "data_subjects": "1",
        "processing_purpose": "Coaching",
        "storage": "Laptop",
        "measures": ["bitlocker"],
        "extra_measures": "",
        "activities-TOTAL_FORMS": str(len(rows)),
        "activities-INITIAL_FORMS": str(len(existing)),
        "activities-MIN_NUM_FORMS": "0",
        "activities-MAX_NUM_FORMS": "30",
    }
    for index, row in enumerate(rows):
        for field, value in row.items():
            if field != "position":
                data[f"activities-{index}-{field}"] = "on" if value is True else value
    response = coach_client.post(reverse("practice_defaults"), data)
    assert response.status_code == 302
    practice.refresh_from_db()
    assert practice.measures == ["bitlocker"]
    agreement = make_agreement(practice)
    assert agreement.measures == ["bitlocker"]
    assert agreement.data_kind == "normal"
    assert list(agreement.activities.values_list("description", flat=True)) == [ROW["description"]]


def test_incomplete_practice_is_sent_to_fill_in_details_first(coach_client, coach):
    practice = coach.practice
    practice.breach_contact_email = ""
    practice.save()
    response = coach_client.get(reverse("agreement_create"))
    assert response.url == reverse("practice_edit")
