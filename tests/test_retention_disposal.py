"""Recording that a Bijlage 1 row's data was destroyed or returned (art. 5(2) GDPR): the
retention list, the dashboard and the reminders stop asking for it, the agreement's evidence
trail has it, and the database keeps the record as it was written."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from agreements.evidence import verify_chain
from agreements.models import (
    Agreement,
    AgreementEnding,
    AgreementEvent,
    AgreementStatus,
    RetentionDisposal,
)
from agreements.retention import due_for_destruction, rows_to_remind
from records.todo import todo_list

from .conftest import login_verified
from .factories import make_agreement, make_client

pytestmark = pytest.mark.django_db


def ended(agreement, ended_on=datetime.date(2020, 1, 31)):
    """A signed agreement that ended long ago: its rows are overdue."""
    Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.SIGNED)
    AgreementEnding.objects.create(agreement=agreement, coaching_ended_on=ended_on)
    return Agreement.objects.get(pk=agreement.pk)


def dispose_url(agreement, activity, kind="agreement"):
    return reverse("retention_dispose", args=[agreement.public_id, kind, activity.pk])


def record(coach_client, agreement, activity, **fields):
    data = {"disposition": "destroyed", "done_on": timezone.localdate().isoformat()}
    data["method"] = "Sessieverslagen versnipperd, bestanden gewist."
    return coach_client.post(dispose_url(agreement, activity), data | fields, follow=True)


def test_a_recorded_destruction_takes_the_row_off_every_list(coach, coach_client):
    practice = coach.practice
    agreement = ended(make_agreement(practice, make_client(practice, "Anna")))
    first, *others = agreement.activities.all()
    rows = len(others) + 1
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=30)
    before = due_for_destruction(practice, today=today)
    assert before[0].activity == first and before[0].is_overdue
    page = coach_client.get(reverse("retention_list")).text
    assert page.count("Vernietiging vastleggen") == rows

    response = record(coach_client, agreement, first)
    assert response.redirect_chain[-1][0].endswith(f"#row-agreement-{first.pk}")
    assert "Vastgelegd dat de gegevens zijn vernietigd of teruggegeven (Anna)" in response.text
    assert "Vernietigd op" in response.text
    assert "Sessieverslagen versnipperd, bestanden gewist." in response.text
    assert response.text.count("Vernietiging vastleggen") == rows - 1

    disposal = RetentionDisposal.objects.get()
    assert (disposal.activity, disposal.disposition, disposal.done_on) == (
        first,
        "destroyed",
        today,
    )
    assert disposal.recorded_by == coach.email
    rows = due_for_destruction(practice, today=today)
    listed = due_for_destruction(practice, today=today)
    # The open rows first, as before; the recorded one last and no longer overdue.
    assert [(row.activity, row.is_overdue) for row in listed] == [
        *[(row.activity, row.is_overdue) for row in before[1:]],
        (first, False),
    ]
    still_due = [row.activity for row in before[1:] if row.due_on <= horizon]
    assert [row.activity for row in rows_to_remind(practice, today=today)] == still_due
    (retention_item,) = [t for t in todo_list(practice) if "Bijlage 1" in t.title]
    assert f"{len(still_due)} rij" in retention_item.title

    # On the agreement's evidence trail, in the coach's words, and the chain still holds.
    event = agreement.events.get(kind=AgreementEvent.Kind.DATA_DISPOSED)
    assert event.detail == (
        f"Bijlage 1 row 1: destroyed on {today:%Y-%m-%d}: "
        "Sessieverslagen versnipperd, bestanden gewist."
    )
    assert verify_chain(agreement.events.order_by("id")) is None
    detail = coach_client.get(reverse("agreement_detail", args=[agreement.public_id])).text
    with translation.override("nl"):
        in_words = date_format(today, "j F Y")
    assert f"Bijlage 1, rij 1: vernietigd op {in_words}: Sessieverslagen" in detail

    # Every row done: the dashboard no longer asks.
    for other in others:
        record(coach_client, agreement, other, disposition="returned")
    assert not [t for t in todo_list(practice) if "Bijlage 1" in t.title]
    assert rows_to_remind(practice, today=today) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"method": "  "}, "Dit veld is verplicht"),
        ({"disposition": "burned"}, "Kies een van de mogelijkheden"),
        ({"done_on": "tomorrow"}, "deze datum ligt in de toekomst"),
        ({"done_on": "2019-01-01"}, "niet vóór het sluiten van de overeenkomst"),
    ],
)
def test_a_wrong_record_is_refused_in_words(coach, coach_client, fields, message):
    agreement = ended(make_agreement(coach.practice, agreement_date=datetime.date(2019, 6, 1)))
    first = agreement.activities.first()
    if fields.get("done_on") == "tomorrow":
        fields["done_on"] = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = record(coach_client, agreement, first, **fields)
    assert message in response.text
    assert not RetentionDisposal.objects.exists()
    assert not agreement.events.filter(kind=AgreementEvent.Kind.DATA_DISPOSED).exists()


def test_a_row_is_recorded_once_and_only_for_its_own_ended_agreement(coach, coach_client):
    practice = coach.practice
    agreement = ended(make_agreement(practice))
    first = agreement.activities.first()
    record(coach_client, agreement, first)
    again = record(coach_client, agreement, first, method="Nog eens")
    assert "is al vastgelegd" in again.text
    assert RetentionDisposal.objects.get().method.startswith("Sessieverslagen")

    # Another agreement's row through this agreement's address, and a row of an agreement
    # that has not ended.
    other = ended(make_agreement(practice))
    response = record(coach_client, agreement, other.activities.last())
    assert "staat niet in Bijlage 1" in response.text
    running = make_agreement(practice)
    Agreement.objects.filter(pk=running.pk).update(status=AgreementStatus.SIGNED)
    response = record(coach_client, running, running.activities.first())
    assert "Leg eerst vast dat de overeenkomst is beëindigd" in response.text
    assert RetentionDisposal.objects.count() == 1


def test_a_stranger_gets_404_and_a_get_changes_nothing(coach, coach_client, stranger, client):
    agreement = ended(make_agreement(coach.practice))
    first = agreement.activities.first()
    theirs = login_verified(client, stranger)
    data = {"disposition": "destroyed", "done_on": "2026-01-01", "method": "x"}
    assert theirs.post(dispose_url(agreement, first), data).status_code == 404
    assert coach_client.get(dispose_url(agreement, first)).status_code == 405
    assert coach_client.post(dispose_url(agreement, first, kind="bogus"), data).status_code == 404
    assert not RetentionDisposal.objects.exists()


def test_the_database_keeps_the_record_as_written(coach, coach_client):
    agreement = ended(make_agreement(coach.practice))
    record(coach_client, agreement, agreement.activities.first())
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionDisposal.objects.update(done_on=datetime.date(2021, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionDisposal.objects.all().delete()
    assert RetentionDisposal.objects.get().done_on == timezone.localdate()
