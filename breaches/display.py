"""A breach's answers and timeline changes as label/value pairs, for pages and documents."""

import datetime
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Field
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import (
    TRIAGE_QUESTIONS,
    Breach,
    BreachUpdate,
    ConsequenceKind,
    DataCategory,
    IncidentKind,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TRIAGE_LABELS = dict(TRIAGE_QUESTIONS)
CHOICE_FIELDS = {field.name: field.choices for field in Breach._meta.fields if field.choices}
# The ticked lists, stored as lists of codes.
LIST_FIELDS: dict[str, type[models.TextChoices]] = {
    "data_categories": DataCategory,
    "incident_kinds": IncidentKind,
    "consequence_kinds": ConsequenceKind,
}
EXTRA_LABELS = {
    "clients": lambda: _("affected clients"),
    "deadline": lambda: _("deadline"),
    "overdue": lambda: _("overdue"),
    # In one follow-up's timeline entry: when that one was sent.
    "authority_followup_at": lambda: _("sent to the AP at"),
}


def field_label(name: str) -> "StrOrPromise":
    if name in TRIAGE_LABELS:
        return TRIAGE_LABELS[name]
    if name in EXTRA_LABELS:
        return EXTRA_LABELS[name]()
    try:
        return cast("Field[Any, Any]", Breach._meta.get_field(name)).verbose_name
    except Exception:  # a name from an older version of the model
        return name


# Ticked boxes: an unticked one is a "no" only once its question was answered. The nature
# of the breach is answered by ticking at least one of the three; whether it concerns a
# vulnerable group, once anything is said about the persons concerned.
NATURE = ("nature_confidentiality", "nature_integrity", "nature_availability")
PERSONS = ("persons_min", "persons_max", "persons_group")


def _unanswered_box(breach: Breach, name: str) -> bool:
    if name in NATURE:
        return not any(getattr(breach, box) for box in NATURE)
    if name == "vulnerable_group":
        return not breach.vulnerable_group and all(
            getattr(breach, field) in (None, "") for field in PERSONS
        )
    return False


def shown_value(breach: Breach, name: str) -> str:
    """The answer to one field, as a reader sees it; '' when not answered."""
    if _unanswered_box(breach, name):
        return ""
    if name == "clients":
        return ", ".join(client.name for client in breach.clients.all())
    if name == "data_categories":
        return ", ".join(str(label) for label in breach.category_labels())
    if name == "incident_kinds":
        return ", ".join(str(label) for label in breach.incident_labels())
    if name == "consequence_kinds":
        return ", ".join(str(label) for label in breach.consequence_labels())
    # Only concrete fields get here: "clients" and "data_categories" are handled above.
    field = cast("Field[Any, Any]", Breach._meta.get_field(name))
    value = getattr(breach, name)
    if field.choices and value:
        return str(getattr(breach, f"get_{name}_display")())
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "j F Y, H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "j F Y")
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    return str(value)


def unanswered_facts(breach: Breach) -> list[tuple[str, "StrOrPromise"]]:
    """The facts the register must hold (art. 33(5)) and the AP's form asks for first that
    the report does not give yet, with the section that asks for each: said before the
    coach closes the breach."""
    missing: list[tuple[str, StrOrPromise]] = []
    if _unanswered_box(breach, NATURE[0]):
        missing.append(("what", _("the nature of the breach")))
    if not breach.data_categories and not breach.data_other.strip():
        missing.append(("data", _("which personal data")))
    if breach.persons_min is None and breach.persons_max is None:
        missing.append(("people", _("how many persons")))
    if not breach.consequences.strip():
        missing.append(("cause", _("the likely consequences")))
    return missing


def answers(breach: Breach, names: Iterable[str]) -> list[tuple["StrOrPromise", str]]:
    return [(field_label(name), shown_value(breach, name)) for name in names]


def client_label(reference: Mapping[str, str | None]) -> str:
    """A client as a timeline entry refers to her (breaches.actions.client_references), or
    the pseudonym that replaced her reference when she was erased."""
    name = reference.get("name") or ""
    return f"{name} <{reference['email']}>" if reference.get("email") else name


def change_rows(update: BreachUpdate) -> list[tuple["StrOrPromise", str]]:
    """What a timeline entry changed, as a reader sees it. Older entries stored affected
    clients as text, and are shown as they are."""
    rows: list[tuple[StrOrPromise, str]] = []
    for name, value in update.changes.items():
        if name == "clients" and isinstance(value, list):
            value = ", ".join(client_label(reference) for reference in value)
        elif name in LIST_FIELDS and value:
            choices = dict(LIST_FIELDS[name].choices)
            value = ", ".join(str(choices.get(code.strip(), code)) for code in value.split(","))
        elif name in CHOICE_FIELDS:
            value = str(dict(CHOICE_FIELDS[name]).get(value, value))
        elif value in ("ja", "nee"):
            value = _("yes") if value == "ja" else _("no")
        else:
            value = _moment_in_words(name, value)
        rows.append((field_label(name), value))
    return rows


def _moment_in_words(name: str, value: object) -> object:
    """A date or moment as the timeline stores it (breaches.actions.shown: ISO, local
    time), shown as the rest of the page writes them: "27 november 2026, 08:00"."""
    try:
        field = Breach._meta.get_field(name)
    except FieldDoesNotExist:
        return value
    if not isinstance(value, str) or not value:
        return value
    try:
        if isinstance(field, models.DateTimeField):
            moment = datetime.datetime.strptime(value, "%Y-%m-%d %H:%M")
            return date_format(moment, "j F Y, H:i")
        if isinstance(field, models.DateField):
            return date_format(datetime.date.fromisoformat(value), "j F Y")
    except ValueError:
        return value
    return value
