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
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from avg_portal.emails import Delivery
from avg_portal.models import OutboxMessage
from core.exceptions import ActionRefused
from core.origin import Origin

from . import notices
from .annexes import effective_annexes
from .models import (
    Addendum,
    AddendumActivity,
    Agreement,
    AgreementEnding,
    AgreementEvent,
    AgreementStatus,
    Practice,
    ProcessingActivity,
    ProcessingActivityFields,
    RetentionDisposal,
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


# A period as the printed text names it: a number (in digits, with a decimal comma or point
# or Dutch thousands points, or in words, Dutch or English) and a unit. The text is first
# brought to one form (NFKC, then casefold: "２", "ſ" and "JAAR" read as "2", "s", "jaar").
_NUMBER_WORDS = {
    "een": 1, "één": 1, "one": 1, "twee": 2, "two": 2, "drie": 3, "three": 3, "vier": 4,
    "four": 4, "vijf": 5, "five": 5, "zes": 6, "six": 6, "zeven": 7, "seven": 7, "acht": 8,
    "eight": 8, "negen": 9, "nine": 9, "tien": 10, "ten": 10, "elf": 11, "eleven": 11,
    "twaalf": 12, "twelve": 12, "vijftien": 15, "fifteen": 15, "twintig": 20, "twenty": 20,
}  # fmt: skip
_UNITS = {
    "dag": RetentionUnit.DAY, "dagen": RetentionUnit.DAY, "day": RetentionUnit.DAY,
    "days": RetentionUnit.DAY, "maand": RetentionUnit.MONTH, "maanden": RetentionUnit.MONTH,
    "month": RetentionUnit.MONTH, "months": RetentionUnit.MONTH, "jaar": RetentionUnit.YEAR,
    "jaren": RetentionUnit.YEAR, "year": RetentionUnit.YEAR, "years": RetentionUnit.YEAR,
}  # fmt: skip
_THOUSANDS = r"\d{1,3}(?:\.\d{3})+"
_PERIOD = re.compile(
    rf"(?<![\w.,-])({_THOUSANDS}(?![\d,])|\d+(?:[.,]\d+)?|{'|'.join(_NUMBER_WORDS)})"
    rf"\s+({'|'.join(_UNITS)})\b"
)


class Period(NamedTuple):
    amount: Fraction
    unit: str
    written: str  # the number as the text writes it: "2,5", "twee"

    def length(self) -> tuple[Fraction, str]:
        """To compare: months for months and years, else days."""
        if self.unit == RetentionUnit.YEAR:
            return self.amount * 12, RetentionUnit.MONTH
        return self.amount, self.unit


def _amount(written: str) -> Fraction:
    if written in _NUMBER_WORDS:
        return Fraction(_NUMBER_WORDS[written])
    digits = "".join(str(unicodedata.digit(char, char)) for char in written)
    if re.fullmatch(_THOUSANDS, digits):
        return Fraction(digits.replace(".", ""))
    return Fraction(digits.replace(",", "."))


def period_in_text(text: str) -> Period | None:
    """The one period that a printed retention text names, or None when it names none
    ("zo lang als nodig") or more than one (then a reader must weigh them)."""
    plain = unicodedata.normalize("NFKC", text).casefold()
    found = [
        Period(_amount(number), _UNITS[unit], number) for number, unit in _PERIOD.findall(plain)
    ]
    if len({period.length() for period in found}) != 1:
        return None
    return found[0]


def text_disagrees(text: str, amount: int | None, unit: str) -> Period | None:
    """The period the printed text names, when it differs from the structured one that
    computes the due date (12 months and 1 year agree); else None."""
    named = period_in_text(text)
    if named is None or amount is None or not unit:
        return None
    structured = Period(Fraction(amount), unit, str(amount))
    return None if named.length() == structured.length() else named


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
    def disposal(self) -> RetentionDisposal | None:
        """The record that the row's data was destroyed or returned; None while it was not."""
        return disposal_of(self.activity)

    @property
    def is_overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0 and self.disposal is None

    @property
    def key(self) -> tuple[str, int]:
        """Which row this is, across the agreement's and the addenda's rows."""
        return row_key(self.activity)


def row_key(activity: ProcessingActivityFields) -> tuple[str, int]:
    kind = "addendum" if isinstance(activity, AddendumActivity) else "agreement"
    return kind, activity.pk


def disposal_of(activity: ProcessingActivityFields) -> RetentionDisposal | None:
    try:
        disposal: RetentionDisposal = activity.disposal  # type: ignore[attr-defined]
    except RetentionDisposal.DoesNotExist:
        return None
    return disposal


def due_for_destruction(practice: Practice, *, today: datetime.date) -> list[DueRow]:
    """Every Bijlage 1 row of the practice's ended, signed agreements with its due date,
    soonest first; rows without a computable date come next (keep them until decided), and
    rows whose data was destroyed or returned last, the latest first."""
    agreements = (
        Agreement.objects.filter(
            practice=practice, status=AgreementStatus.SIGNED, ending__isnull=False
        )
        .select_related("ending", "client")
        # The unsigned PDF, tens of kilobytes a row, is not shown here.
        .defer("document_pdf")
        .prefetch_related(
            Prefetch("activities", queryset=ProcessingActivity.objects.select_related("disposal")),
            Prefetch("addenda", queryset=Addendum.objects.defer("document_pdf")),
            Prefetch(
                "addenda__activities",
                queryset=AddendumActivity.objects.select_related("disposal"),
            ),
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
    done = [row for row in rows if row.disposal is not None]
    done.sort(key=lambda row: row.disposal.done_on if row.disposal else today, reverse=True)
    return [row for row in rows if row.disposal is None] + done


# The coach hears of a row this many days before it falls due, and again once it is overdue.
REMIND_DAYS_AHEAD = 30


def rows_to_remind(practice: Practice, *, today: datetime.date) -> list[DueRow]:
    """The practice's rows not yet destroyed or returned that are due within
    REMIND_DAYS_AHEAD days and not yet announced, or overdue and not yet announced as
    overdue."""
    horizon = today + datetime.timedelta(days=REMIND_DAYS_AHEAD)
    reminders = RetentionReminder.objects.filter(
        Q(activity__agreement__practice=practice)
        | Q(addendum_activity__addendum__agreement__practice=practice)
    ).values_list("activity_id", "addendum_activity_id", "overdue_sent_on")
    # Each reminded row, and whether it was announced as overdue.
    reminded = {
        (("agreement", activity_id) if activity_id else ("addendum", addendum_activity_id)): (
            overdue_sent_on is not None
        )
        for activity_id, addendum_activity_id, overdue_sent_on in reminders
    }
    return [
        row
        for row in due_for_destruction(practice, today=today)
        if row.due_on is not None
        and row.disposal is None
        and (
            (row.key not in reminded and row.due_on <= horizon)
            or (row.due_on < today and not reminded.get(row.key, False))
        )
    ]


def send_reminders(*, today: datetime.date) -> int:
    """One email per practice with rows falling due; each row is announced before its date
    and once more when it has passed (rows_to_remind). Returns
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
    """The mail server took a retention reminder: its rows are announced, those already
    overdue as overdue. They are the rows the email listed: those due as of the day it was
    written, of agreements whose end was recorded before it was queued (a signed agreement's
    rows and its end never change)."""
    if not delivery.accepted:
        return
    practice_id, day = message.subject_id.split("/")
    practice = Practice.objects.get(pk=practice_id)
    today = datetime.date.fromisoformat(day)
    for row in rows_to_remind(practice, today=today):
        if row.due_on is None or row.agreement.ending.recorded_at > message.created_at:
            continue
        overdue_sent_on = today if row.due_on < today else None
        reminder, created = RetentionReminder.objects.get_or_create(
            **row_reference(row.activity),
            defaults={"due_on": row.due_on, "sent_on": today, "overdue_sent_on": overdue_sent_on},
        )
        if not created and overdue_sent_on and reminder.overdue_sent_on is None:
            reminder.overdue_sent_on = overdue_sent_on
            reminder.save(update_fields=["overdue_sent_on"])


def row_reference(activity: ProcessingActivityFields) -> dict[str, ProcessingActivityFields]:
    """The fields a record of one Bijlage 1 row (a reminder, a disposal) names it by: the
    agreement's own row or an addendum's."""
    if isinstance(activity, AddendumActivity):
        return {"addendum_activity": activity}
    return {"activity": activity}


def retention_record_disposal(
    *,
    agreement: Agreement,
    row: tuple[str, int],
    disposition: str,
    done_on: datetime.date,
    method: str,
    origin: Origin,
) -> RetentionDisposal:
    """The coach destroyed or returned the data of one Bijlage 1 row of an ended agreement
    (a row of the annexes in force when it ended): recorded once, and on the agreement's
    evidence trail."""
    method = method.strip()
    if disposition not in RetentionDisposal.Disposition.values:
        raise ActionRefused(_("Choose what happened to the data."))
    if not method:
        raise ActionRefused(_("Describe how the data was destroyed or returned."))
    if done_on > timezone.localdate():
        raise ActionRefused(_("The date cannot be in the future."))
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        ending = AgreementEnding.objects.filter(agreement=locked).first()
        if locked.status != AgreementStatus.SIGNED or ending is None:
            raise ActionRefused(_("Record first that the agreement ended."))
        if done_on < locked.agreement_date:
            raise ActionRefused(_("The date cannot be before the agreement was made."))
        activities = effective_annexes(locked, on=ending.coaching_ended_on).activities
        activity = next((a for a in activities if row_key(a) == row), None)
        if activity is None:
            raise ActionRefused(_("This row is not in the Bijlage 1 of this agreement."))
        if RetentionDisposal.objects.filter(**row_reference(activity)).exists():
            raise ActionRefused(_("That this row's data was destroyed or returned is recorded."))
        disposal = RetentionDisposal.objects.create(
            **row_reference(activity),
            disposition=disposition,
            done_on=done_on,
            method=method,
            recorded_by=origin.account,
        )
        locked.log(
            AgreementEvent.Kind.DATA_DISPOSED,
            origin,
            detail=(
                f"Bijlage 1 row {activity.position + 1}: {disposition} on "
                f"{done_on:%Y-%m-%d}: {method}"
            ),
        )
    return disposal
