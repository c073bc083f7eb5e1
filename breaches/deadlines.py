"""The two deadlines that start when the coach becomes aware of a breach.

Clause 7.1 of the agreement: the affected clients are informed within 24 hours.
Art. 33(1) GDPR: the AP is notified within 72 hours.

The law counts elapsed hours, so both are computed in UTC. Adding hours to a datetime in
Europe/Amsterdam would add wall-clock hours instead, and be an hour off across a clock change.
They are shown in local time (settings.TIME_ZONE) with timezone.localtime.
"""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from .models import Breach

CLIENT_HOURS = 24
AUTHORITY_HOURS = 72
# The coach gets a reminder this long before a deadline that is not met yet.
REMIND_BEFORE = datetime.timedelta(hours=4)


def _after(discovered_at: datetime.datetime, hours: int) -> datetime.datetime:
    if timezone.is_naive(discovered_at):
        raise ValueError("discovered_at must be an aware datetime")
    return discovered_at.astimezone(datetime.UTC) + datetime.timedelta(hours=hours)


def client_deadline(discovered_at: datetime.datetime) -> datetime.datetime:
    return _after(discovered_at, CLIENT_HOURS)


def authority_deadline(discovered_at: datetime.datetime) -> datetime.datetime:
    return _after(discovered_at, AUTHORITY_HOURS)


class State:
    MET = "met"
    DUE = "due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Deadline:
    kind: str  # "clients" or "authority"
    label: "StrOrPromise"
    due_at: datetime.datetime
    met_at: datetime.datetime | None
    now: datetime.datetime

    @property
    def state(self) -> str:
        if self.met_at is not None:
            return State.MET
        if self.now >= self.due_at:
            return State.OVERDUE
        if self.now >= self.due_at - REMIND_BEFORE:
            return State.DUE_SOON
        return State.DUE

    @property
    def is_met(self) -> bool:
        return self.state == State.MET

    @property
    def is_overdue(self) -> bool:
        return self.state == State.OVERDUE

    @property
    def met_late(self) -> bool:
        return self.met_at is not None and self.met_at > self.due_at

    @property
    def local_due_at(self) -> datetime.datetime:
        return timezone.localtime(self.due_at)

    @property
    def remaining(self) -> datetime.timedelta:
        """Time left (negative when overdue)."""
        return self.due_at - self.now

    @property
    def remaining_text(self) -> str:
        return format_duration(abs(self.remaining))


def format_duration(delta: datetime.timedelta) -> str:
    """'5 h 07 min' or '2 d 3 h': what a countdown shows."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def deadlines_for(breach: "Breach", *, now: datetime.datetime | None = None) -> list[Deadline]:
    now = now or timezone.now()
    return [
        Deadline(
            kind="clients",
            label=_("Inform the affected clients"),
            due_at=breach.client_deadline,
            met_at=breach.clients_informed_at,
            now=now,
        ),
        Deadline(
            kind="authority",
            label=_("Decide on notifying the AP"),
            due_at=breach.authority_deadline,
            met_at=breach.authority_done_at,
            now=now,
        ),
    ]
