"""Forms for the breach report, one short section at a time, and for each decision.

Forms only check input; the actions in breaches/actions.py check again and do the work.
"""

import datetime
import uuid
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.text import PlainTextForm

from .actions import CLOCK_TOLERANCE, EARLIEST_DISCOVERY
from .models import (
    COMMON_CATEGORIES,
    OTHER_SENSITIVE_CATEGORIES,
    SPECIAL_CATEGORIES,
    TRIAGE_QUESTIONS,
    Breach,
    ClientNotification,
    ConsequenceKind,
    DataCategory,
    IncidentKind,
    SubjectsDecision,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from core.models import Client, Practice

YES_NO_UNKNOWN = (("True", _("yes")), ("False", _("no")), ("", _("don't know")))


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


def checkboxes(label: "StrOrPromise", choices: Any, **kwargs: Any) -> forms.MultipleChoiceField:
    """A list of choices to tick, stored as a list of codes on the breach."""
    return forms.MultipleChoiceField(
        label=label,
        choices=[(c.value, c.label) for c in choices],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        **kwargs,
    )


CATALOGUES = {
    "data_categories": DataCategory.values,
    "incident_kinds": IncidentKind.values,
    "consequence_kinds": ConsequenceKind.values,
}

# A group of a section's fields under a heading; a tuple in it is one row on a wide screen
# (e.g. a date and its time).
Fieldset = tuple["StrOrPromise | None", list[str | tuple[str, ...]]]


def check_not_future(
    value: datetime.datetime | None, message: "StrOrPromise"
) -> datetime.datetime | None:
    if value and value > timezone.now() + CLOCK_TOLERANCE:
        raise forms.ValidationError(message, code="future")
    return value


def now_for_input() -> datetime.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def _choices(field: forms.Field) -> "list[tuple[str, StrOrPromise]]":
    """The choices of a choice field, which Django keeps as a list of (value, label) pairs
    (django-stubs types them as anything a choices argument may be)."""
    choices = cast(forms.ChoiceField, field).choices
    return cast("list[tuple[str, StrOrPromise]]", choices)


class BreachSectionForm(PlainTextForm, forms.ModelForm):
    """A section of the report. `changes()` gives the values the action saves.

    `fieldsets` groups the fields under headings, in the order of the AP's form; the
    ticked lists of `list_fields` (form field → breach field) are stored as lists of codes.
    """

    fieldsets: "list[Fieldset]" = []
    list_fields: dict[str, str] = {}

    def __init__(self, *args: Any, practice: "Practice", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.NullBooleanField):
                field.widget = forms.RadioSelect(choices=YES_NO_UNKNOWN)
            elif isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3
            if name == "discovered_at":
                field.widget = DateTimeLocalInput()
            elif name in ("occurred_from", "occurred_until"):
                field.widget = DateInput()
            elif name in ("occurred_from_time", "occurred_until_time"):
                field.widget = TimeInput()
                field.help_text = _("Dutch time, if you know it.")
        for name in ("unintelligible", "contact_details_known"):
            if name in self.fields:
                self.fields[name].widget = forms.RadioSelect(
                    choices=[*_choices(self.fields[name])[1:], ("", _("don't know"))]
                )
        if "clients" in self.fields:
            clients = cast("forms.ModelMultipleChoiceField[Client]", self.fields["clients"])
            # The widget first: setting the queryset gives the widget its choices.
            clients.widget = forms.CheckboxSelectMultiple()
            clients.queryset = practice.clients.all()
            clients.help_text = _(
                "The clients whose data is involved; you inform them from the breach's page."
            )
        for name in ("persons_min", "persons_max", "records_count"):
            if name in self.fields:
                self.fields[name].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        # The ticked lists show what the breach holds now.
        for form_name, breach_name in self.list_fields.items():
            chosen = set(getattr(self.instance, breach_name) or ())
            self.fields[form_name].initial = [
                code for code, _label in _choices(self.fields[form_name]) if code in chosen
            ]

    def clean_discovered_at(self) -> datetime.datetime:
        value = self.cleaned_data["discovered_at"]
        check_not_future(value, _("The moment of discovery cannot be in the future."))
        if value and value < EARLIEST_DISCOVERY:
            raise forms.ValidationError(_("Enter a moment of discovery after the year 2000."))
        return value

    def clean_occurred_from(self) -> datetime.date | None:
        value = self.cleaned_data["occurred_from"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("This date is in the future."))
        return value

    def changes(self) -> dict[str, Any]:
        changes = {
            name: self.cleaned_data[name]
            for name in self._meta.fields or ()
            if name in self.cleaned_data and name != "clients"
        }
        for breach_name in dict.fromkeys(self.list_fields.values()):
            chosen: set[str] = set()
            for form_name, target in self.list_fields.items():
                if target == breach_name:
                    chosen |= set(self.cleaned_data.get(form_name) or ())
            # Stored in catalogue order, so the list does not depend on the order of the form.
            changes[breach_name] = [code for code in CATALOGUES[breach_name] if code in chosen]
        return changes

    def fieldset_rows(self) -> "list[tuple[StrOrPromise | None, list[list[forms.BoundField]]]]":
        """The fields grouped for the page: (heading, rows of fields); fields that no group
        names come last."""
        placed: set[str] = set()
        groups: list[tuple[StrOrPromise | None, list[list[forms.BoundField]]]] = []
        for legend, rows in self.fieldsets:
            bound_rows = []
            for row in rows:
                names = (row,) if isinstance(row, str) else row
                names = tuple(name for name in names if name in self.fields)
                placed.update(names)
                if names:
                    bound_rows.append([self[name] for name in names])
            groups.append((legend, bound_rows))
        rest = [[self[name]] for name in self.fields if name not in placed]
        if rest:
            groups.append((None, rest))
        return groups

    def chosen_clients(self) -> "QuerySet[Client] | None":
        return self.cleaned_data.get("clients") if "clients" in self.fields else None


class NewBreachForm(BreachSectionForm):
    """The first report: only what happened and when it was discovered are required."""

    # This form's own key: sent twice, it logs one breach (breaches.actions.breach_create).
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Breach
        fields = ["summary", "system_name", "discovered_at", "clients"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4()
        self.fields["discovered_at"].help_text = _(
            "When you became aware of it. The deadlines run from this moment."
        )
        self.fields["summary"].help_text = _(
            "E.g. my laptop was stolen from the car; an email with a report went to the wrong "
            "person."
        )


class WhatSectionForm(BreachSectionForm):
    incident = checkboxes(_("What kind of incident is it?"), IncidentKind)
    list_fields = {"incident": "incident_kinds"}

    class Meta:
        model = Breach
        fields = [
            "summary",
            "incident_other",
            "system_name",
            "discovered_at",
            "occurred_from",
            "occurred_from_time",
            "occurred_until",
            "occurred_until_time",
            "occurred_note",
            "ongoing",
            "nature_confidentiality",
            "nature_integrity",
            "nature_availability",
        ]

    fieldsets = [
        (_("What happened"), ["summary", "incident", "incident_other", "system_name"]),
        (
            _("When"),
            [
                "discovered_at",
                ("occurred_from", "occurred_from_time"),
                ("occurred_until", "occurred_until_time"),
                "occurred_note",
                "ongoing",
            ],
        ),
        (
            _("Nature of the breach"),
            ["nature_confidentiality", "nature_integrity", "nature_availability"],
        ),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident_other"].help_text = _(
            "Required when you tick 'other'; also for anything the list does not say."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())
        if (
            IncidentKind.OTHER in (cleaned.get("incident") or ())
            and not (cleaned.get("incident_other") or "").strip()
        ):
            self.add_error("incident_other", _("Describe the other kind of incident."))
        return cleaned


class DataSectionForm(BreachSectionForm):
    common_categories = checkboxes(_("Personal data involved"), COMMON_CATEGORIES)
    special_categories = checkboxes(
        _("Special categories of personal data (art. 9 GDPR)"),
        SPECIAL_CATEGORIES,
        help_text=_("These raise the risk for the persons: tick them with care."),
    )
    sensitive_categories = checkboxes(
        _("Other sensitive personal data"), OTHER_SENSITIVE_CATEGORIES
    )
    list_fields = {
        "common_categories": "data_categories",
        "special_categories": "data_categories",
        "sensitive_categories": "data_categories",
    }

    class Meta:
        model = Breach
        fields = ["data_other", "records_count", "unintelligible", "unintelligible_note"]

    fieldsets = [
        (
            _("Which personal data"),
            ["common_categories", "special_categories", "sensitive_categories", "data_other"],
        ),
        (_("How much"), ["records_count"]),
        (_("Protection"), ["unintelligible", "unintelligible_note"]),
    ]


class PeopleSectionForm(BreachSectionForm):
    class Meta:
        model = Breach
        fields = [
            "persons_min",
            "persons_max",
            "persons_group",
            "vulnerable_group",
            "contact_details_known",
            "clients",
        ]

    fieldsets = [
        (_("How many persons"), [("persons_min", "persons_max")]),
        (_("Who they are"), ["persons_group", "vulnerable_group", "contact_details_known"]),
        (_("Affected clients"), ["clients"]),
    ]


class CauseSectionForm(BreachSectionForm):
    consequence = checkboxes(_("What may the breach mean for the persons?"), ConsequenceKind)
    list_fields = {"consequence": "consequence_kinds"}

    class Meta:
        model = Breach
        fields = ["root_cause", "consequence_severity", "consequences", "measures"]
        widgets = {"consequence_severity": forms.RadioSelect}

    fieldsets = [
        (_("Cause"), ["root_cause"]),
        (_("Consequences"), ["consequence", "consequence_severity", "consequences"]),
        (_("Measures"), ["measures"]),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        severity = self.fields["consequence_severity"]
        severity.widget = forms.RadioSelect(
            choices=[*_choices(severity)[1:], ("", _("don't know yet"))]
        )
        self.fields["consequences"].help_text = _(
            "In your own words: the clients' email quotes this (art. 34 GDPR)."
        )
        self.fields["measures"].help_text = _(
            "What you did or will do to stop the breach, limit the damage and prevent it "
            "again. The clients' email quotes this."
        )


class OthersSectionForm(BreachSectionForm):
    class Meta:
        model = Breach
        fields = [
            "other_org_name",
            "other_org_role",
            "other_org_details",
            "cross_border",
            "cross_border_countries",
            "other_authorities_notified",
            "other_authorities",
        ]

    fieldsets = [
        (
            _("Another organisation involved"),
            ["other_org_name", "other_org_role", "other_org_details"],
        ),
        (
            _("International aspects"),
            [
                "cross_border",
                "cross_border_countries",
                "other_authorities_notified",
                "other_authorities",
            ],
        ),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role = self.fields["other_org_role"]
        role.widget = forms.RadioSelect(choices=[*_choices(role)[1:], ("", _("none or unknown"))])
        self.fields["other_org_name"].help_text = _(
            "E.g. the processor or sub-processor where it happened; leave empty if none."
        )
        self.fields["cross_border_countries"].help_text = _("If yes: e.g. Belgium, Germany.")
        self.fields["other_authorities"].help_text = _(
            "If yes: which, e.g. the Belgian Gegevensbeschermingsautoriteit."
        )


class TriageSectionForm(BreachSectionForm):
    class Meta:
        model = Breach
        fields = [
            "triage_security_problem",
            "triage_personal_data",
            "triage_sensitive",
            "triage_large_scale",
            "triage_vulnerable",
            "triage_supplier",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, question in TRIAGE_QUESTIONS:
            self.fields[name].label = question


# The sections of the report, in the order of the AP's form. Each saves on its own.
SECTIONS: "dict[str, tuple[StrOrPromise, type[BreachSectionForm]]]" = {
    "what": (_("What happened and when"), WhatSectionForm),
    "data": (_("Which personal data"), DataSectionForm),
    "people": (_("Whose data"), PeopleSectionForm),
    "cause": (_("Cause, consequences and measures"), CauseSectionForm),
    "others": (_("Other organisations and countries"), OthersSectionForm),
    "triage": (_("In doubt? The questions of Bijlage 3"), TriageSectionForm),
}


def section_fields(form_class: type[BreachSectionForm]) -> list[str]:
    """The breach fields a section fills in, in the order of the form."""
    fields = list(form_class._meta.fields or ())
    order = [
        name
        for _legend, rows in form_class.fieldsets
        for row in rows
        for name in ((row,) if isinstance(row, str) else row)
    ]
    shown: list[str] = []
    for name in order:
        name = form_class.list_fields.get(name, name)
        if name not in shown and (name in fields or name in form_class.list_fields.values()):
            shown.append(name)
    return shown + [name for name in fields if name not in shown]


class ClientsField(forms.ModelMultipleChoiceField):
    """The breach's clients, each with whether and when its email reached the mail server:
    the form stays for a second email, so who already has one must show."""

    latest: dict[int, ClientNotification] = {}  # the newest notification per client

    def label_from_instance(self, obj: "Client") -> str:
        return _client_label(obj, self.latest.get(obj.pk))


def _client_label(client: "Client", notification: ClientNotification | None) -> str:
    if notification is None:
        return client.name
    if notification.delivered and notification.sent_at:
        when = date_format(timezone.localtime(notification.sent_at), "j F Y, H:i")
        status = gettext("informed on %(date)s") % {"date": when}
    elif notification.sent_at:
        status = gettext("the email could not be sent")
    else:
        status = gettext("email waiting to be sent")
    return f"{client.name} ({status})"


class NotifyClientsForm(PlainTextForm, forms.Form):
    clients: "forms.ModelMultipleChoiceField[Client]" = ClientsField(
        label=_("Inform these clients"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("A personal note (optional)"),
        help_text=_("Added to the email, e.g. what the client can do himself."),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, breach: Breach, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clients = cast("forms.ModelMultipleChoiceField[Client]", self.fields["clients"])
        clients.queryset = breach.clients.all()
        if not self.is_bound:
            clients.initial = [c.pk for c in breach.clients_still_to_inform()]
        cast(ClientsField, clients).latest = {
            n.client_id: n for n in breach.notifications.all() if n.client_id
        }


class AuthorityDecisionForm(PlainTextForm, forms.Form):
    NOTIFIED = "notified"
    NOT_NOTIFIED = "not_notified"

    decision = forms.ChoiceField(
        label=_("Did you notify the AP?"),
        choices=[
            (NOTIFIED, _("Yes, I notified the AP")),
            (NOT_NOTIFIED, _("No, I do not notify the AP")),
        ],
        widget=forms.RadioSelect,
    )
    notified_at = forms.DateTimeField(
        label=_("Notified at"), required=False, widget=DateTimeLocalInput()
    )
    reference = forms.CharField(
        label=_("The AP's reference number"),
        max_length=100,
        required=False,
        help_text=_("The number in the AP's confirmation."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required when you do not notify (e.g. the data was encrypted and the risk is "
            "unlikely), or when you notified after 72 hours."
        ),
    )

    def clean_notified_at(self) -> datetime.datetime | None:
        return check_not_future(
            self.cleaned_data["notified_at"],
            _("The moment of notification cannot be in the future."),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())
        if cleaned.get("decision") == self.NOTIFIED:
            if not cleaned.get("notified_at") and "notified_at" not in self.errors:
                self.add_error("notified_at", _("Enter when you notified the AP."))
            if not cleaned.get("reference"):
                self.add_error("reference", _("Enter the AP's reference number."))
        elif cleaned.get("decision") == self.NOT_NOTIFIED and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Give the reason for not notifying the AP."))
        return cleaned


class AuthorityFollowUpForm(PlainTextForm, forms.Form):
    sent_at = forms.DateTimeField(label=_("Sent to the AP at"), widget=DateTimeLocalInput())
    reference = forms.CharField(
        label=_("The AP's reference number"),
        max_length=100,
        required=False,
        help_text=_("Leave as it is unless the AP gave the follow-up a number of its own."),
    )
    text = forms.CharField(
        label=_("What did you add or correct?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_sent_at(self) -> datetime.datetime | None:
        return check_not_future(
            self.cleaned_data["sent_at"], _("This moment cannot be in the future.")
        )


class AuthorityWithdrawalForm(PlainTextForm, forms.Form):
    withdrawn_at = forms.DateTimeField(label=_("Withdrawn at"), widget=DateTimeLocalInput())
    reference = forms.CharField(
        label=_("The AP's reference number"),
        max_length=100,
        required=False,
        help_text=_("The number in the AP's confirmation of the withdrawal, if it gave one."),
    )
    reason = forms.CharField(
        label=_("Why do you withdraw the notification?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. the lost laptop was found unopened: it was not a data breach."),
    )

    def clean_withdrawn_at(self) -> datetime.datetime | None:
        return check_not_future(
            self.cleaned_data["withdrawn_at"], _("This moment cannot be in the future.")
        )


class SubjectsDecisionForm(PlainTextForm, forms.Form):
    decision = forms.ChoiceField(
        label=_("Are the persons themselves informed?"),
        choices=[c for c in SubjectsDecision.choices if c[0] != SubjectsDecision.PENDING],
        widget=forms.RadioSelect,
        help_text=_(
            "Required when the risk to them is high, unless the data was unintelligible, "
            "measures removed the high risk, or it takes disproportionate effort."
        ),
    )
    reason = forms.CharField(
        label=_("Explanation"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why, and if informed: when and how."),
    )


class CloseForm(PlainTextForm, forms.Form):
    measures = forms.CharField(
        label=_("Measures taken"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you did to stop the breach, limit the damage and prevent it again."),
    )


class ReopenForm(PlainTextForm, forms.Form):
    reason = forms.CharField(
        label=_("Why do you reopen the breach?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
