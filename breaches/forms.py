"""Forms for the breach report, one short section at a time, and for each decision.

Forms only check input; the actions in breaches/actions.py check again and do the work.
"""

import datetime
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .actions import CLOCK_TOLERANCE, EARLIEST_DISCOVERY
from .models import (
    COMMON_CATEGORIES,
    SENSITIVE_CATEGORIES,
    TRIAGE_QUESTIONS,
    Breach,
    DataCategory,
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


class BreachSectionForm(forms.ModelForm):
    """A section of the report. `changes()` gives the values the action saves."""

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
        return {
            name: self.cleaned_data[name]
            for name in self._meta.fields or ()
            if name in self.cleaned_data and name != "clients"
        }

    def chosen_clients(self) -> "QuerySet[Client] | None":
        return self.cleaned_data.get("clients") if "clients" in self.fields else None


class NewBreachForm(BreachSectionForm):
    """The first report: only what happened and when it was discovered are required."""

    class Meta:
        model = Breach
        fields = ["summary", "system_name", "discovered_at", "clients"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["discovered_at"].help_text = _(
            "When you became aware of it. The deadlines run from this moment."
        )
        self.fields["summary"].help_text = _(
            "E.g. my laptop was stolen from the car; an email with a report went to the wrong "
            "person."
        )


class WhatSectionForm(BreachSectionForm):
    class Meta:
        model = Breach
        fields = [
            "summary",
            "system_name",
            "discovered_at",
            "occurred_from",
            "occurred_until",
            "occurred_note",
            "ongoing",
            "nature_confidentiality",
            "nature_integrity",
            "nature_availability",
        ]


class DataSectionForm(BreachSectionForm):
    common_categories = forms.MultipleChoiceField(
        label=_("Personal data involved"),
        choices=[(c.value, c.label) for c in COMMON_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    sensitive_categories = forms.MultipleChoiceField(
        label=_("Sensitive personal data involved"),
        help_text=_("These raise the risk for the persons: tick them with care."),
        choices=[(c.value, c.label) for c in DataCategory if c in SENSITIVE_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Breach
        fields = ["data_other", "records_count", "unintelligible", "unintelligible_note"]

    field_order = ["common_categories", "sensitive_categories", *Meta.fields]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = set(self.instance.data_categories or ())
        self.fields["common_categories"].initial = [
            code for code, _label in _choices(self.fields["common_categories"]) if code in chosen
        ]
        self.fields["sensitive_categories"].initial = [
            code for code, _label in _choices(self.fields["sensitive_categories"]) if code in chosen
        ]

    def changes(self) -> dict[str, Any]:
        chosen = set(self.cleaned_data["common_categories"]) | set(
            self.cleaned_data["sensitive_categories"]
        )
        # Stored in catalogue order, so the list does not depend on the order of the form.
        return super().changes() | {
            "data_categories": [code for code in DataCategory.values if code in chosen]
        }


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


class CauseSectionForm(BreachSectionForm):
    class Meta:
        model = Breach
        fields = ["root_cause", "consequences", "measures"]


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
    "triage": (_("In doubt? The questions of Bijlage 3"), TriageSectionForm),
}


def section_fields(form_class: type[BreachSectionForm]) -> list[str]:
    """The breach fields a section fills in, in the order of the form."""
    fields = list(form_class._meta.fields or ())
    if form_class is DataSectionForm:
        fields.insert(0, "data_categories")
    return fields


class NotifyClientsForm(forms.Form):
    clients: "forms.ModelMultipleChoiceField[Client]" = forms.ModelMultipleChoiceField(
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


class AuthorityDecisionForm(forms.Form):
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


class SubjectsDecisionForm(forms.Form):
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


class CloseForm(forms.Form):
    measures = forms.CharField(
        label=_("Measures taken"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you did to stop the breach, limit the damage and prevent it again."),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you reopen the breach?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
