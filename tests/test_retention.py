import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from agreements.actions import agreement_save_draft
from agreements.forms import ACTIVITY_FIELDS, ActivityFormSet
from agreements.models import (
    Agreement,
    AgreementEnding,
    AgreementStatus,
    ProcessingActivity,
    RetentionReminder,
)
from agreements.retention import (
    activity_due_date,
    add_period,
    agreement_keep_until,
    due_for_destruction,
    rows_to_remind,
    send_reminders,
)
from avg_portal.emails import deliver_due_messages

from .conftest import login_verified, make_coach, make_practice
from .factories import make_agreement, make_client

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        (D(2026, 1, 1), 30, "day", D(2026, 1, 31)),
        (D(2026, 12, 31), 1, "day", D(2027, 1, 1)),
        (D(2028, 2, 28), 1, "day", D(2028, 2, 29)),
        (D(2026, 1, 15), 1, "month", D(2026, 2, 15)),
        (D(2026, 11, 30), 3, "month", D(2027, 2, 28)),
        # Month ends: the same day if it exists, else the month's last day.
        (D(2026, 1, 31), 1, "month", D(2026, 2, 28)),
        (D(2028, 1, 31), 1, "month", D(2028, 2, 29)),
        (D(2026, 3, 31), 1, "month", D(2026, 4, 30)),
        (D(2026, 1, 31), 12, "month", D(2027, 1, 31)),
        (D(2026, 12, 15), 1, "month", D(2027, 1, 15)),
        (D(2026, 5, 10), 2, "year", D(2028, 5, 10)),
        # Leap days: 29 February plus a year is 28 February, plus four years 29 February.
        (D(2028, 2, 29), 1, "year", D(2029, 2, 28)),
        (D(2028, 2, 29), 4, "year", D(2032, 2, 29)),
        (D(2028, 2, 29), 12, "month", D(2029, 2, 28)),
        (D(2026, 12, 31), 7, "year", D(2033, 12, 31)),
    ],
)
def test_add_period(start, amount, unit, expected):
    assert add_period(start, amount, unit) == expected


def test_add_period_refuses_an_unknown_unit():
    with pytest.raises(ValueError):
        add_period(D(2026, 1, 1), 1, "week")


def _ended(agreement, ended_on):
    """A signed agreement that ended on `ended_on` (status set directly: no PDF needed)."""
    Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.SIGNED)
    AgreementEnding.objects.create(agreement=agreement, coaching_ended_on=ended_on)
    return Agreement.objects.select_related("ending").get(pk=agreement.pk)


@pytest.mark.parametrize(
    ("retention_from", "ended_on", "expected"),
    [
        ("agreement_end", D(2026, 3, 31), D(2028, 3, 31)),
        ("agreement_end", D(2028, 2, 29), D(2030, 2, 28)),
        # The financial year ends on 31 December of the year the agreement ended.
        ("financial_year_end", D(2026, 3, 31), D(2028, 12, 31)),
        ("financial_year_end", D(2026, 12, 31), D(2028, 12, 31)),
        ("financial_year_end", D(2027, 1, 1), D(2029, 12, 31)),
    ],
)
def test_activity_due_date_counts_from_its_event(retention_from, ended_on, expected):
    activity = ProcessingActivity(
        retention_amount=2, retention_unit="year", retention_from=retention_from
    )
    ending = AgreementEnding(coaching_ended_on=ended_on)
    assert activity_due_date(activity, ending) == expected


def test_no_due_date_without_an_end_or_a_structured_period():
    structured = ProcessingActivity(
        retention_amount=2, retention_unit="year", retention_from="agreement_end"
    )
    assert activity_due_date(structured, None) is None
    free_text = ProcessingActivity(retention="zo lang als nodig")
    assert activity_due_date(free_text, AgreementEnding(coaching_ended_on=D(2026, 1, 1))) is None


def test_new_agreements_get_the_structured_defaults(coach):
    agreement = make_agreement(coach.practice)
    periods = [
        (a.retention_amount, a.retention_unit, a.retention_from) for a in agreement.activities.all()
    ]
    assert periods == [
        (2, "year", "agreement_end"),
        (2, "year", "agreement_end"),
        (7, "year", "financial_year_end"),
    ]


def test_keep_until_is_the_latest_due_date(coach):
    agreement = make_agreement(coach.practice)
    assert agreement_keep_until(agreement) is None  # not ended: unknown, keep
    agreement = _ended(agreement, D(2026, 6, 30))
    # 2 years after the end, and 7 years after 31 December 2026.
    assert agreement_keep_until(agreement) == D(2033, 12, 31)
    # One row with only free text makes the whole agreement "unknown, keep".
    agreement.activities.filter(position=2).update(
        retention_amount=None, retention_unit="", retention_from=""
    )
    assert agreement_keep_until(Agreement.objects.get(pk=agreement.pk)) is None


def test_the_database_refuses_half_a_period(coach):
    activity = make_agreement(coach.practice).activities.first()
    with pytest.raises(IntegrityError):
        ProcessingActivity.objects.filter(pk=activity.pk).update(retention_unit="")


def _formset_data(agreement, **overrides):
    rows = list(agreement.activities.all())
    data = {
        "activities-TOTAL_FORMS": str(len(rows)),
        "activities-INITIAL_FORMS": str(len(rows)),
        "activities-MIN_NUM_FORMS": "0",
        "activities-MAX_NUM_FORMS": "30",
    }
    fields = [*ACTIVITY_FIELDS]
    for index, row in enumerate(rows):
        data[f"activities-{index}-id"] = str(row.pk)
        for field in fields:
            value = getattr(row, field)
            if isinstance(value, list):  # ticked boxes (sub-processors): one value each
                data[f"activities-{index}-{field}"] = [str(item) for item in value]
                continue
            data[f"activities-{index}-{field}"] = "" if value is None else str(value)
    return data | overrides


def test_the_form_asks_for_all_three_parts_or_none(coach):
    agreement = make_agreement(coach.practice)
    formset = ActivityFormSet(
        _formset_data(agreement, **{"activities-0-retention_from": ""}), instance=agreement
    )
    assert not formset.is_valid()
    assert "alle drie" in str(formset.forms[0].errors["retention_amount"])

    cleared = {
        "activities-0-retention_amount": "",
        "activities-0-retention_unit": "",
        "activities-0-retention_from": "",
        "activities-1-retention": "6 maanden na het einde van het coachtraject",
        "activities-1-retention_amount": "6",
        "activities-1-retention_unit": "month",
    }
    formset = ActivityFormSet(_formset_data(agreement, **cleared), instance=agreement)
    assert formset.is_valid(), formset.errors
    agreement_save_draft(agreement=agreement, values={}, activities=formset.rows())
    first, second, _third = agreement.activities.all()
    assert (first.retention_amount, first.retention_unit, first.retention_from) == (None, "", "")
    assert (second.retention_amount, second.retention_unit) == (6, "month")


def test_the_printed_period_and_the_computed_one_must_agree(coach):
    """ "2 jaar" printed beside a computed 7 years is refused, in Dutch, on the text; a text
    that names no period, or several, is left to the coach; 24 months and 2 years agree."""
    agreement = make_agreement(coach.practice)
    first = "activities-0-"
    formset = ActivityFormSet(
        _formset_data(agreement, **{f"{first}retention_amount": "7"}), instance=agreement
    )
    assert not formset.is_valid()
    (error,) = formset.forms[0].errors["retention"]
    assert error.startswith("De tekst noemt 2 jaar, maar de termijn waarmee")
    assert "7 jaar" in error
    for text, amount, unit in (
        ("24 maanden na het einde van het coachtraject", "2", "year"),
        ("Twee jaar na het einde", "2", "year"),
        ("Zo lang als nodig, daarna vernietigd", "7", "year"),
        ("Notities 2 jaar, facturen 7 jaar", "7", "year"),
        ("30 dagen", "30", "day"),
        ("2,5 jaar na het einde", "30", "month"),
        ("2 dayſ", "2", "day"),  # a long s reads as an s, as in any case-blind match
        ("Ｚeven JAAR", "7", "year"),
    ):
        data = {
            f"{first}retention": text,
            f"{first}retention_amount": amount,
            f"{first}retention_unit": unit,
        }
        formset = ActivityFormSet(_formset_data(agreement, **data), instance=agreement)
        assert formset.is_valid(), (text, formset.errors)
    for text in (
        "1 maand",
        "3 jaar",
        "twaalf dagen",
        "3 years after the end",
        "1000 dagen na het einde",
        "1.000 dagen",
        "1,5 jaar",
        "ſix years",
    ):
        data = {f"{first}retention": text}
        formset = ActivityFormSet(_formset_data(agreement, **data), instance=agreement)
        assert not formset.is_valid(), text


def test_due_for_destruction_lists_ended_agreements_soonest_first(coach, stranger):
    practice = coach.practice
    early = _ended(make_agreement(practice, make_client(practice, "Anna")), D(2020, 1, 31))
    _ended(make_agreement(practice, make_client(practice, "Bram")), D(2025, 6, 1))
    make_agreement(practice)  # a draft that never ended: not listed
    _ended(make_agreement(stranger.practice), D(2019, 1, 1))  # another practice
    rows = due_for_destruction(practice, today=D(2026, 1, 1))
    assert [(row.agreement.client_name, row.due_on) for row in rows] == [
        ("Anna", D(2022, 1, 31)),
        ("Anna", D(2022, 1, 31)),
        ("Bram", D(2027, 6, 1)),
        ("Bram", D(2027, 6, 1)),
        ("Anna", D(2027, 12, 31)),
        ("Bram", D(2032, 12, 31)),
    ]
    assert rows[0].is_overdue and rows[0].agreement == early
    assert not rows[3].is_overdue


def test_retention_list_shows_the_practice_rows(coach, coach_client, stranger, client):
    _ended(make_agreement(coach.practice, make_client(coach.practice, "Anna")), D(2020, 1, 31))
    page = coach_client.get(reverse("retention_list"))
    assert page.status_code == 200
    assert "Anna" in page.text
    assert "text-danger" in page.text  # overdue
    other = login_verified(type(client)(), stranger)
    assert "Anna" not in other.get(reverse("retention_list")).text


def test_retention_list_is_404_without_a_practice(client, db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from avg_portal.models import User

    admin = User.objects.create_user(email="admin@example.test", password="x" * 20)
    TOTPDevice.objects.create(user=admin, name="default", confirmed=True)
    assert login_verified(client, admin).get(reverse("retention_list")).status_code == 404


def test_reminders_go_out_once_per_row(coach, settings, django_capture_on_commit_callbacks):
    practice = coach.practice
    today = D(2026, 11, 1)
    # Ended 2024-11-20: the two rows of 2 years fall due 2026-11-20, within 30 days.
    _ended(make_agreement(practice, make_client(practice, "Anna")), D(2024, 11, 20))
    # Ended 2026-01-10: nothing due before 2028.
    _ended(make_agreement(practice, make_client(practice, "Bram")), D(2026, 1, 10))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=today) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to[0] == practice.email
    assert "Anna" in message.body and "Bram" not in message.body
    assert "20 november 2026" in message.body
    assert RetentionReminder.objects.count() == 2
    # The next day's run has nothing new to say.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=today + datetime.timedelta(days=1)) == 0
    assert len(mail.outbox) == 1
    assert rows_to_remind(practice, today=today) == []


def test_reminders_retry_when_the_mail_server_refuses(
    coach, settings, smtp_server, django_capture_on_commit_callbacks
):
    accepting = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1},
        }
    }
    _ended(make_agreement(coach.practice), D(2020, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=D(2026, 1, 1)) == 1  # queued, and refused
    assert not RetentionReminder.objects.exists()
    # While it waits to be tried again, the daily run does not queue a second one.
    assert send_reminders(today=D(2026, 1, 2)) == 0
    # The mail server is back: the retry delivers it, and only now are the rows announced.
    settings.MAILERS = accepting
    assert deliver_due_messages(now=timezone.now() + datetime.timedelta(minutes=2)) == 1
    assert len(smtp_server.messages) == 1
    assert RetentionReminder.objects.count() == 2


def test_a_practice_without_ended_agreements_gets_no_reminder(db):
    make_coach(practice=make_practice())
    assert send_reminders(today=D(2026, 1, 1)) == 0


def test_a_row_is_reminded_again_once_its_date_has_passed(
    coach, django_capture_on_commit_callbacks
):
    """The page promises an email before the date and one when it has passed: the second
    goes out the day after the last day of keeping, once, and not for a row whose data was
    recorded as destroyed."""
    practice = coach.practice
    # Ended 2024-11-20: the two rows of 2 years are kept until 2026-11-20.
    agreement = _ended(make_agreement(practice, make_client(practice, "Anna")), D(2024, 11, 20))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=D(2026, 11, 1)) == 1
    assert "Bewaren tot en met 20 november 2026, daarna vernietigen." in mail.outbox[-1].body

    # On the last day of keeping, nothing new; the day after, the reminder that it passed.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=D(2026, 11, 20)) == 0
        assert send_reminders(today=D(2026, 11, 21)) == 1
    overdue = mail.outbox[-1]
    assert "Bewaard tot en met 20 november 2026: vernietig de gegevens nu." in overdue.body
    assert overdue.body.count("Anna") == 2
    assert set(RetentionReminder.objects.values_list("overdue_sent_on", flat=True)) == {
        D(2026, 11, 21)
    }
    # Once is enough.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=D(2026, 11, 22)) == 0
        assert send_reminders(today=D(2027, 3, 1)) == 0
    assert len(mail.outbox) == 2
    assert rows_to_remind(practice, today=D(2026, 11, 22)) == []
    assert agreement.ending.coaching_ended_on == D(2024, 11, 20)


def test_a_row_already_overdue_when_first_announced_is_reminded_once(
    coach, django_capture_on_commit_callbacks
):
    _ended(make_agreement(coach.practice), D(2020, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders(today=D(2026, 1, 1)) == 1
        assert send_reminders(today=D(2026, 1, 2)) == 0
    assert "vernietig de gegevens nu" in mail.outbox[-1].body
    assert set(RetentionReminder.objects.values_list("overdue_sent_on", flat=True)) == {
        D(2026, 1, 1)
    }


def test_the_daily_command_reminds_of_what_falls_due_from_today(
    coach, django_capture_on_commit_callbacks
):
    # Kept two years after the end: an end two years before about ten days from now.
    soon = timezone.localdate() + datetime.timedelta(days=10)
    _ended(make_agreement(coach.practice), soon.replace(year=soon.year - 2, day=min(soon.day, 28)))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retention_reminders", stdout=out)
        call_command("retention_reminders", stdout=out)
    assert out.getvalue().splitlines() == ["1 reminder sent", "0 reminders sent"]
    assert len(mail.outbox) == 1
