"""The 24- and 72-hour deadlines count elapsed hours from the discovery, and are shown in
Dutch local time, also across the clock changes of 2026 (29 March, 25 October)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from breaches import deadlines
from breaches.actions import breach_create
from breaches.deadlines import State
from breaches.models import BreachUpdate
from breaches.reminders import send_deadline_reminders
from core.origin import Origin

AMS = ZoneInfo("Europe/Amsterdam")
UTC = datetime.UTC


def local(*args):
    return datetime.datetime(*args, tzinfo=AMS)


def shown(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


@pytest.mark.parametrize(
    ("discovered", "client_due", "authority_due"),
    [
        # March: at 02:00 CET the clocks jump to 03:00 CEST, so 24 elapsed hours end an hour
        # later on the clock than they started.
        (local(2026, 3, 29, 1, 59), "2026-03-30 02:59 CEST", "2026-04-01 02:59 CEST"),
        (local(2026, 3, 28, 3, 30), "2026-03-29 04:30 CEST", "2026-03-31 04:30 CEST"),
        (local(2026, 3, 29, 3, 1), "2026-03-30 03:01 CEST", "2026-04-01 03:01 CEST"),
        # October: at 03:00 CEST the clocks go back to 02:00 CET: an hour earlier on the clock.
        (local(2026, 10, 25, 1, 59), "2026-10-26 00:59 CET", "2026-10-28 00:59 CET"),
        (local(2026, 10, 24, 12, 0), "2026-10-25 11:00 CET", "2026-10-27 11:00 CET"),
        (local(2026, 10, 25, 3, 1), "2026-10-26 03:01 CET", "2026-10-28 03:01 CET"),
        # Late in the evening: the deadline is the next day, same time.
        (local(2026, 6, 10, 23, 30), "2026-06-11 23:30 CEST", "2026-06-13 23:30 CEST"),
        # 23:30 on the evening before the October change: the clock shows 22:30 the next day.
        (local(2026, 10, 24, 23, 30), "2026-10-25 22:30 CET", "2026-10-27 22:30 CET"),
    ],
    ids=[
        "march-01:59-night-of-change",
        "march-day-before",
        "march-just-after",
        "october-01:59-night-of-change",
        "october-day-before",
        "october-just-after",
        "23:30-summer",
        "23:30-before-october-change",
    ],
)
def test_deadlines_count_elapsed_hours_and_show_local_time(discovered, client_due, authority_due):
    client_deadline = deadlines.client_deadline(discovered)
    authority_deadline = deadlines.authority_deadline(discovered)
    assert client_deadline - discovered == datetime.timedelta(hours=24)
    assert authority_deadline - discovered == datetime.timedelta(hours=72)
    assert shown(client_deadline) == client_due
    assert shown(authority_deadline) == authority_due
    # The same moment given in UTC gives the same deadline.
    assert deadlines.client_deadline(discovered.astimezone(UTC)) == client_deadline


def test_wall_clock_arithmetic_would_be_an_hour_off():
    """Why the deadlines are computed in UTC: adding hours in Europe/Amsterdam adds clock
    hours, which across the October change is 25 elapsed hours."""
    discovered = local(2026, 10, 24, 12, 0)
    naive_sum = discovered + datetime.timedelta(hours=24)
    assert naive_sum.astimezone(UTC) - discovered.astimezone(UTC) == datetime.timedelta(hours=25)
    assert deadlines.client_deadline(discovered) == naive_sum - datetime.timedelta(hours=1)


def test_naive_discovery_is_refused():
    with pytest.raises(ValueError):
        deadlines.client_deadline(datetime.datetime(2026, 10, 24, 12, 0))


@pytest.mark.django_db
def test_breach_page_shows_local_deadlines_across_october_change(coach_client, coach):
    breach = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Laptop gestolen",
        discovered_at=local(2026, 10, 25, 1, 59),
    )
    page = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert "26 oktober 2026, 00:59" in page
    assert "28 oktober 2026, 00:59" in page
    # Long past: both deadlines are overdue, and say so.
    assert page.count("VERSTREKEN") >= 2


def test_deadline_states():
    due = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)

    def state(now, met_at=None):
        return deadlines.Deadline("clients", "x", due, met_at, now).state

    assert state(due - datetime.timedelta(hours=5)) == State.DUE
    assert state(due - datetime.timedelta(hours=3)) == State.DUE_SOON
    assert state(due) == State.OVERDUE
    assert state(due + datetime.timedelta(hours=1), met_at=due) == State.MET


@pytest.mark.django_db
def test_reminders_before_and_after_each_deadline_are_sent_once(
    coach, django_capture_on_commit_callbacks
):
    discovered = timezone.now() - datetime.timedelta(hours=1)
    breach = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="USB-stick kwijt",
        discovered_at=discovered,
    )

    def run(hours_after_discovery):
        with django_capture_on_commit_callbacks(execute=True):
            return send_deadline_reminders(
                now=discovered + datetime.timedelta(hours=hours_after_discovery)
            )

    assert run(2) == 0
    assert run(21) == 1  # 3 hours before the clients' deadline
    assert run(22) == 0  # already sent
    assert run(25) == 1  # the clients' deadline passed
    assert run(69) == 1  # 3 hours before the AP's deadline
    assert run(80) == 1  # the AP's deadline passed
    assert run(200) == 0
    subjects = [message.subject for message in mail.outbox]
    assert len(subjects) == 4
    assert all(coach.email in message.to for message in mail.outbox)
    assert "Termijn verstreken" in subjects[1]
    assert "cliënten" in subjects[0].lower()
    breach.refresh_from_db()
    assert breach.client_reminder_sent_at and breach.client_overdue_sent_at
    assert breach.authority_reminder_sent_at and breach.authority_overdue_sent_at
    assert breach.updates.filter(kind=BreachUpdate.Kind.REMINDER).count() == 4


@pytest.mark.django_db
def test_no_reminder_when_the_obligation_is_met_or_the_breach_closed(coach):
    from breaches.actions import (
        breach_close,
        breach_record_authority_decision,
        breach_record_data_subjects_decision,
    )

    discovered = timezone.now() - datetime.timedelta(hours=1)
    breach = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Mail verkeerd",
        discovered_at=discovered,
    )
    breach_record_authority_decision(
        breach=breach,
        origin=Origin.of_account(coach),
        notified=False,
        reason="Versleuteld, geen risico.",
    )
    # The AP's deadline is met; the clients' one is not (no client informed).
    assert send_deadline_reminders(now=discovered + datetime.timedelta(hours=80)) == 1
    breach_record_data_subjects_decision(
        breach=breach,
        origin=Origin.of_account(coach),
        decision="low_risk",
        reason="Geen hoog risico.",
    )
    breach_close(breach=breach, origin=Origin.of_account(coach), measures="Adres gecorrigeerd.")
    other = breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Nog een",
        discovered_at=discovered,
    )
    breach_close_refused = other  # open, so it is reminded; the closed one is not
    sent = send_deadline_reminders(now=discovered + datetime.timedelta(hours=100))
    assert sent == 2
    assert breach_close_refused.updates.filter(kind=BreachUpdate.Kind.REMINDER).count() == 2


@pytest.mark.django_db
def test_management_command_runs(coach, capsys):
    breach_create(
        practice=coach.practice,
        origin=Origin.of_account(coach),
        summary="Telefoon gestolen",
        discovered_at=timezone.now() - datetime.timedelta(hours=30),
    )
    call_command("breach_deadline_reminders")
    assert "1 reminder(s) sent" in capsys.readouterr().out
