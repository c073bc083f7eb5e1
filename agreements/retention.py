"""When a Bijlage 1 row's data is due for destruction, from its structured retention period.

A period runs from an event: the end of the agreement (the date the coaching agreement
ended, clause 2.3) or the end of the financial year in which it ended (31 December; the
fiscal duty to keep records runs from there). Month and year arithmetic lands on the same
day of the month, or on the month's last day when that day does not exist: 31 January plus
one month is the end of February, 29 February 2028 plus one year is 28 February 2029.

A due date of None means "unknown, keep": the agreement has not ended, or a row has only a
free-text period. The app never treats an unknown date as permission to destroy.
"""

import calendar
import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q

from avg_portal.emails import Delivery
from avg_portal.models import OutboxMessage

from . import notices
from .annexes import effective_annexes
from .models import (
    Addendum,
    AddendumActivity,
    Agreement,
    AgreementEnding,
    AgreementStatus,
    Practice,
    ProcessingActivityFields,
    RetentionFrom,
    RetentionReminder,
    RetentionUnit,
)


def add_period(start: datetime.date, amount: int, unit: str) -> datetime.date:
    """`start` plus `amount` days, months or years."""
    if unit == RetentionUnit.DAY:
        return start + datetime.timedelta(days=amount)
    if unit == RetentionUnit.MONTH:
        return _add_months(start, amount)
    if unit == RetentionUnit.YEAR:
        return _add_months(start, 12 * amount)
    raise ValueError(f"Unknown retention unit: {unit!r}")


def _add_months(start: datetime.date, months: int) -> datetime.date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(start.day, last_day))


def period_start(retention_from: str, ending: AgreementEnding) -> datetime.date:
    """The day the period starts running, for an agreement that ended as `ending` says."""
    ended_on = ending.coaching_ended_on
    if retention_from == RetentionFrom.AGREEMENT_END:
        return ended_on
    if retention_from == RetentionFrom.FINANCIAL_YEAR_END:
        return datetime.date(ended_on.year, 12, 31)
    raise ValueError(f"Unknown retention start: {retention_from!r}")


def has_structured_period(activity: ProcessingActivityFields) -> bool:
    return bool(activity.retention_amount and activity.retention_unit and activity.retention_from)


def activity_due_date(
    activity: ProcessingActivityFields, ending: AgreementEnding | None
) -> datetime.date | None:
    """The day the row's data is due for destruction; None if that cannot be computed."""
    if ending is None or not has_structured_period(activity):
        return None
    start = period_start(activity.retention_from, ending)
    if activity.retention_amount is None:  # has_structured_period ruled this out
        return None
    return add_period(start, activity.retention_amount, activity.retention_unit)


def agreement_keep_until(agreement: Agreement) -> datetime.date | None:
    """The last day any of the agreement's data must be kept: the latest due date of the
    Bijlage 1 rows in force when it ended (the agreement's own, or those of its latest
    signed addendum by then: agreements.annexes). None ("unknown, keep") if it has not
    ended or any row lacks a structured period."""
    ending: AgreementEnding | None = getattr(agreement, "ending", None)
    if ending is None:
        return None
    rows = effective_annexes(agreement, on=ending.coaching_ended_on).activities
    due_dates = [activity_due_date(activity, ending) for activity in rows]
    known = [due_on for due_on in due_dates if due_on is not None]
    if not known or len(known) != len(due_dates):
        return None
    return max(known)


@dataclass(frozen=True)
class DueRow:
    agreement: Agreement
    # The row of the Bijlage 1 in force when the agreement ended: the agreement's own, or
    # its latest signed addendum's (agreements.annexes).
    activity: ProcessingActivityFields
    due_on: datetime.date | None
    days_left: int | None

    @property
    def is_overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def key(self) -> tuple[str, int]:
        """Which row this is, across the agreement's and the addenda's rows."""
        kind = "addendum" if isinstance(self.activity, AddendumActivity) else "agreement"
        return kind, self.activity.pk


def due_for_destruction(practice: Practice, *, today: datetime.date) -> list[DueRow]:
    """Every Bijlage 1 row of the practice's ended, signed agreements with its due date,
    soonest first; rows without a computable date come last (keep them until decided)."""
    agreements = (
        Agreement.objects.filter(
            practice=practice, status=AgreementStatus.SIGNED, ending__isnull=False
        )
        .select_related("ending", "client")
        # The unsigned PDF, tens of kilobytes a row, is not shown here.
        .defer("document_pdf")
        .prefetch_related(
            "activities",
            Prefetch("addenda", queryset=Addendum.objects.defer("document_pdf")),
            "addenda__activities",
        )
    )
    rows: list[DueRow] = []
    for agreement in agreements:
        ending = agreement.ending
        for activity in effective_annexes(agreement, on=ending.coaching_ended_on).activities:
            due_on = activity_due_date(activity, ending)
            days_left = (due_on - today).days if due_on else None
            rows.append(DueRow(agreement, activity, due_on, days_left))
    rows.sort(
        key=lambda row: (
            row.due_on is None,
            row.due_on or datetime.date.max,
            row.agreement.client_name,
            row.activity.position,
        )
    )
    return rows


# The coach hears of a row this many days before it falls due, or as soon as it is overdue.
REMIND_DAYS_AHEAD = 30


def rows_to_remind(practice: Practice, *, today: datetime.date) -> list[DueRow]:
    """The practice's rows due within REMIND_DAYS_AHEAD days or overdue, not yet reminded."""
    horizon = today + datetime.timedelta(days=REMIND_DAYS_AHEAD)
    reminders = RetentionReminder.objects.filter(
        Q(activity__agreement__practice=practice)
        | Q(addendum_activity__addendum__agreement__practice=practice)
    ).values_list("activity_id", "addendum_activity_id")
    reminded = {
        ("agreement", activity_id) if activity_id else ("addendum", addendum_activity_id)
        for activity_id, addendum_activity_id in reminders
    }
    return [
        row
        for row in due_for_destruction(practice, today=today)
        if row.due_on is not None and row.due_on <= horizon and row.key not in reminded
    ]


def send_reminders(*, today: datetime.date) -> int:
    """One email per practice with rows falling due; each row is announced once. Returns
    the number of emails queued. A row counts as announced only when the mail server took
    the email (record_reminder_email); until then a later run leaves the practice alone
    while its email still waits in the outbox."""
    practices = Practice.objects.filter(
        agreements__status=AgreementStatus.SIGNED, agreements__ending__isnull=False
    ).distinct()
    queued = 0
    for practice in practices:
        if _reminder_waiting(practice):
            continue
        rows = rows_to_remind(practice, today=today)
        if rows:
            notices.send_retention_reminder(practice, rows, today=today)
            queued += 1
    return queued


def _reminder_waiting(practice: Practice) -> bool:
    return OutboxMessage.objects.filter(
        purpose=notices.RETENTION_REMINDER,
        subject_id__startswith=f"{practice.pk}/",
        status=OutboxMessage.Status.QUEUED,
    ).exists()


def record_reminder_email(message: OutboxMessage, delivery: Delivery) -> None:
    """The mail server took a retention reminder: its rows are announced. They are the rows
    the email listed: those due as of the day it was written, of agreements whose end was
    recorded before it was queued (a signed agreement's rows and its end never change)."""
    if not delivery.accepted:
        return
    practice_id, day = message.subject_id.split("/")
    practice = Practice.objects.get(pk=practice_id)
    today = datetime.date.fromisoformat(day)
    RetentionReminder.objects.bulk_create(
        [
            RetentionReminder(**_reminded_row(row), due_on=row.due_on, sent_on=today)
            for row in rows_to_remind(practice, today=today)
            if row.due_on is not None  # rows_to_remind keeps only dated rows
            and row.agreement.ending.recorded_at <= message.created_at
        ],
        ignore_conflicts=True,
    )


def _reminded_row(row: DueRow) -> dict[str, ProcessingActivityFields]:
    if isinstance(row.activity, AddendumActivity):
        return {"addendum_activity": row.activity}
    return {"activity": row.activity}
