import datetime
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.forms.boundfield import BoundWidget
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import PlainTextForm

from .document_versions import CURRENT_VERSION, DocumentVersion, get_version, supplement_for
from .models import (
    RETENTION_ALL_OR_NONE,
    Addendum,
    AddendumActivity,
    Agreement,
    Client,
    Declaration,
    DefaultProcessingActivity,
    Practice,
    ProcessingActivity,
    RetentionUnit,
    SigningWords,
    Subprocessor,
    SubprocessorNotice,
)
from .retention import text_disagrees
from .signing import SignatureInput, SignatureRejected, png_from_data_url
from .subprocessors import earliest_effective_date, printed_text

# A drawn signature arrives as a base64 PNG data URL; anything longer is refused unread.
SIGNATURE_FIELD_MAX_LENGTH = 800_000

# Dates far outside a coaching practice's life are typing errors (9999, 1066).
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def check_plausible_date(value: datetime.date | None) -> datetime.date | None:
    if value and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise forms.ValidationError(
            _("Enter a date between %(start)s and %(end)s."),
            params={"start": EARLIEST_DATE.year, "end": LATEST_DATE.year},
            code="implausible_date",
        )
    return value


class MeasuresField(forms.MultipleChoiceField):
    """The Bijlage 2 ticks, offered from a document version's catalogue."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, version: DocumentVersion, **kwargs: Any) -> None:
        super().__init__(
            choices=[(measure.code, measure.label) for measure in version.measures],
            required=False,
            # Bootstrap's checkboxes: `_security_fields.html` lays the boxes out itself.
            widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            **kwargs,
        )


if TYPE_CHECKING:
    _ProfileFormBase = forms.ModelForm[Practice | Agreement | Addendum]
else:
    _ProfileFormBase = object


class SecurityProfileFormMixin(_ProfileFormBase):
    """Bijlage 2 fields, shared by the agreement and the practice defaults."""

    version: DocumentVersion

    security_fields = (
        "data_kind",
        "data_subjects",
        "processing_purpose",
        "storage",
        "extra_measures",
    )

    def setup_measures(self, version: DocumentVersion) -> None:
        self.version = version
        self.fields["measures"] = MeasuresField(version=version, label=_("Security measures"))
        self.fields["measures"].initial = self.instance.measures
        data_kind = cast(forms.ChoiceField, self.fields["data_kind"])
        choices = cast("list[tuple[str, str]]", data_kind.choices)
        data_kind.widget = forms.RadioSelect(
            choices=choices[1:] if choices[0][0] == "" else choices
        )
        self.fields["extra_measures"].widget.attrs["rows"] = 3

    def technical_measure_fields(self) -> list[BoundWidget]:
        codes = {m.code for m in self.version.technical_measures}
        return [box for box in self["measures"] if box.data["value"] in codes]

    def organisational_measure_fields(self) -> list[BoundWidget]:
        codes = {m.code for m in self.version.organisational_measures}
        return [box for box in self["measures"] if box.data["value"] in codes]

    def values(self) -> dict[str, Any]:
        """The cleaned values of the model's fields, as plain data for the action."""
        values = {
            name: self.cleaned_data[name]
            for name in self._meta.fields or ()
            if name in self.cleaned_data
        }
        # Kept in catalogue order, so the stored list does not depend on form order.
        chosen = set(self.cleaned_data["measures"])
        values["measures"] = [m.code for m in self.version.measures if m.code in chosen]
        return values


class PracticeForm(PlainTextForm, forms.ModelForm[Practice]):
    class Meta:
        model = Practice
        fields = [
            "name",
            "statutory_seat",
            "address",
            "kvk_number",
            "email",
            "phone",
            "breach_contact_role",
            "breach_contact_phone",
            "breach_contact_email",
            "data_protection_officer",
            "default_penalty_per_violation",
            "default_penalty_per_day",
            "signer_code_required",
        ]
        widgets = {
            "default_penalty_per_violation": forms.NumberInput(attrs={"step": "0.01", "min": 0}),
            "default_penalty_per_day": forms.NumberInput(attrs={"step": "0.01", "min": 0}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in (*Practice.REQUIRED_FOR_AGREEMENTS, "address", "kvk_number", "phone"):
            self.fields[name].required = True
        self.fields["breach_contact_role"].widget.attrs["placeholder"] = _("e.g. the coach")


class PracticeSecurityDefaultsForm(
    PlainTextForm, SecurityProfileFormMixin, forms.ModelForm[Practice]
):
    class Meta:
        model = Practice
        fields = (*SecurityProfileFormMixin.security_fields, "default_with_supplement")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_measures(get_version(CURRENT_VERSION))


class AgreementForm(PlainTextForm, SecurityProfileFormMixin, forms.ModelForm[Agreement]):
    class Meta:
        model = Agreement
        fields = [
            "agreement_date",
            "coaching_agreement_date",
            "practice_name",
            "practice_seat",
            "client_name",
            "client_residence",
            "penalty_per_violation",
            "penalty_per_day",
            "breach_contact_role",
            "breach_contact_phone",
            "breach_contact_email",
            *SecurityProfileFormMixin.security_fields,
            "data_subject_categories",
        ]
        widgets = {
            "agreement_date": DateInput(),
            "coaching_agreement_date": DateInput(),
            "penalty_per_violation": forms.NumberInput(attrs={"step": "0.01", "min": 0}),
            "penalty_per_day": forms.NumberInput(attrs={"step": "0.01", "min": 0}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agreement = cast(Agreement, self.instance)
        self.setup_measures(get_version(agreement.template_version))
        # Bijlage 4 (art. 28 GDPR), when the agreement's text has one.
        self.supplement = supplement_for(agreement.template_version)
        if self.supplement or agreement.with_supplement:
            self.fields["with_supplement"] = forms.BooleanField(
                label=_("Add Bijlage 4 “Aanvullende afspraken (artikel 28 AVG)”"),
                required=False,
                initial=agreement.with_supplement,
                help_text=_(
                    "It adds what art. 28 GDPR asks and the text lacks: help with requests of "
                    "data subjects, audits, sub-processors and more."
                ),
            )

    def values(self) -> dict[str, Any]:
        values = super().values()
        if "with_supplement" in self.fields:
            agreement = cast(Agreement, self.instance)
            if not self.cleaned_data["with_supplement"]:
                values["supplement_version"] = ""
            elif not agreement.with_supplement and self.supplement:
                values["supplement_version"] = self.supplement.code
        return values

    def clean_agreement_date(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["agreement_date"])

    def clean_coaching_agreement_date(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["coaching_agreement_date"])


ACTIVITY_FIELDS = [
    "description",
    "purposes",
    "controller",
    "processor",
    "sub_processors",
    "subprocessor_ids",
    "personal_data",
    "location",
    "retention",
    "retention_amount",
    "retention_unit",
    "retention_from",
]
RETENTION_PARTS = ("retention_amount", "retention_unit", "retention_from")
ACTIVITY_WIDGETS: dict[str, type[forms.Widget] | forms.Widget] = {
    "description": forms.Textarea(attrs={"rows": 2}),
    "purposes": forms.Textarea(attrs={"rows": 2}),
    "personal_data": forms.Textarea(attrs={"rows": 2}),
}


class ActivityForm(
    PlainTextForm,
    forms.ModelForm[ProcessingActivity | DefaultProcessingActivity | AddendumActivity],
):
    """One Bijlage 1 row; the structured retention period is all three parts or none.

    Sub-processors are picked from the practice's register; the row prints their names. A row
    made before the register existed keeps its free text until the coach picks from the
    register or clears it (the printed text of what was signed never changes)."""

    def __init__(self, *args: Any, practice: Practice | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self._setup_subprocessors()
        self.fields["retention_amount"].widget.attrs.update({"min": 1, "max": 100})
        self.fields["retention_amount"].label = _("Number")
        self.fields["retention_unit"].label = _("Unit")
        self.fields["retention_from"].label = _("Counted from")
        for name in ("retention_unit", "retention_from"):
            # An empty choice that reads as "not set", in any language.
            field = cast(forms.ChoiceField, self.fields[name])
            field.choices = [("", "—"), *cast("list[tuple[str, str]]", field.choices)[1:]]

    def _setup_subprocessors(self) -> None:
        chosen = list(self.instance.subprocessor_ids or [])
        entries = list(self.practice.subprocessors.all()) if self.practice else []
        self.fields["subprocessor_ids"] = forms.TypedMultipleChoiceField(
            label=_("Sub-processors"),
            coerce=int,
            required=False,
            choices=[
                (entry.pk, entry.print_label())
                for entry in entries
                if entry.is_active or entry.pk in chosen
            ],
            widget=forms.CheckboxSelectMultiple,
            help_text=_(
                "Tick who else processes this data for you; manage the list under Sub-processors."
            ),
        )
        self.fields["subprocessor_ids"].initial = chosen
        self.fields["sub_processors"].widget = forms.HiddenInput()
        self.legacy_sub_processors = (
            self.instance.sub_processors if self.instance.pk and not chosen else ""
        )
        if self.legacy_sub_processors:
            self.fields["clear_sub_processors"] = forms.BooleanField(
                label=_("Remove this text"),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())
        filled = [bool(cleaned.get(name)) for name in RETENTION_PARTS]
        if any(filled) and not all(filled):
            self.add_error("retention_amount", RETENTION_ALL_OR_NONE)
        self._check_retention_text(cleaned)
        # What the row prints: the register's entries, else the earlier free text (only a row
        # that has one keeps it; typed text is not taken from the browser).
        ids = cleaned.get("subprocessor_ids") or []
        if ids and self.practice:
            cleaned["sub_processors"] = printed_text(self.practice, ids)
        elif self.legacy_sub_processors and not cleaned.get("clear_sub_processors"):
            cleaned["sub_processors"] = self.legacy_sub_processors
        else:
            cleaned["sub_processors"] = ""
        return cleaned

    def _check_retention_text(self, cleaned: dict[str, Any]) -> None:
        """The printed period and the one the due date is computed from must be the same:
        "2 jaar" printed beside a computed 7 years would keep or destroy data against what
        the client signed."""
        text, unit = cleaned.get("retention") or "", cleaned.get("retention_unit") or ""
        named = text_disagrees(text, cleaned.get("retention_amount"), unit)
        if named is None:
            return
        units = dict(RetentionUnit.choices)
        self.add_error(
            "retention",
            _(
                "The text says %(text)s, but the period the due date is computed from is "
                "%(computed)s. Make them the same: the text is what the agreement prints, the "
                "computed period decides when the data must go."
            )
            % {
                "text": f"{named.written} {units[named.unit]}",
                "computed": f"{cleaned['retention_amount']} {units[unit]}",
            },
        )


class ActivityFormSetBase(BaseInlineFormSet[Any, Any, ActivityForm]):
    """Bijlage 1 rows: at least one, at most MAX_ROWS; order as shown."""

    MAX_ROWS = 30

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Each row picks its sub-processors from the register of the practice it belongs to.
        return super().get_form_kwargs(index) | {"practice": practice_of(self.instance)}

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not self.can_delete or not self._should_delete_form(form)  # type: ignore[attr-defined]
        ]
        if not kept:
            raise forms.ValidationError(
                _("Bijlage 1 needs at least one processing activity."), code="no_rows"
            )

    def rows(self) -> list[dict[str, Any]]:
        """The rows to keep, in the order shown, as plain values for the action."""
        return [
            {name: form.cleaned_data[name] for name in ACTIVITY_FIELDS}
            for form in self.forms
            if form not in self.deleted_forms and (form.has_changed() or form.instance.pk)
        ]


def practice_of(owner: models.Model) -> Practice | None:
    """The practice whose register a Bijlage 1 row picks from: the row's practice itself,
    or the practice of its agreement (or of an addendum's agreement)."""
    if isinstance(owner, Practice):
        return owner
    if isinstance(owner, Agreement):
        return owner.practice if owner.practice_id else None
    agreement = getattr(owner, "agreement", None)
    return agreement.practice if isinstance(agreement, Agreement) else None


def activity_formset_class(
    model: type[models.Model], parent_model: type[models.Model]
) -> type[ActivityFormSetBase]:
    formset = inlineformset_factory(
        parent_model,
        model,
        form=ActivityForm,
        formset=ActivityFormSetBase,
        fields=ACTIVITY_FIELDS,
        widgets=ACTIVITY_WIDGETS,
        extra=0,
        can_delete=True,
        max_num=ActivityFormSetBase.MAX_ROWS,
        validate_max=True,
        absolute_max=ActivityFormSetBase.MAX_ROWS,
    )
    return cast(type[ActivityFormSetBase], formset)


ActivityFormSet = activity_formset_class(ProcessingActivity, Agreement)
DefaultActivityFormSet = activity_formset_class(DefaultProcessingActivity, Practice)
AddendumActivityFormSet = activity_formset_class(AddendumActivity, Addendum)


class AddendumForm(PlainTextForm, SecurityProfileFormMixin, forms.ModelForm[Addendum]):
    """The addendum's date and reason, and Bijlage 2 as it will read."""

    class Meta:
        model = Addendum
        fields = ["effective_on", "reason", *SecurityProfileFormMixin.security_fields]
        widgets = {"effective_on": DateInput(), "reason": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        addendum = cast(Addendum, self.instance)
        self.setup_measures(get_version(addendum.agreement.template_version))

    def clean_effective_on(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["effective_on"])


class NewAgreementForm(PlainTextForm, forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), empty_label=None
    )
    coaching_agreement_date = forms.DateField(
        label=_("Date of the coaching agreement"),
        widget=DateInput(),
        help_text=_("The day you and the client agreed on the coaching trajectory."),
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            "forms.ModelChoiceField[Client]", self.fields["client"]
        ).queryset = practice.clients.all()

    def clean_coaching_agreement_date(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["coaching_agreement_date"])


def no_markup(value: str) -> None:
    # A signature line is printed in the evidence; markup in it is an attack, not a name.
    if "<" in value or ">" in value:
        raise forms.ValidationError(_("Do not use < or > here."), code="markup")


class SignatureForm(PlainTextForm, forms.Form):
    """Name, function, place and a drawn or typed signature, with explicit consent."""

    name = forms.CharField(label=_("Name"), max_length=200, validators=[no_markup])
    # A private client has no function to sign in; the printed line stays empty.
    function = forms.CharField(
        label=_("Function"),
        max_length=200,
        required=False,
        validators=[no_markup],
        help_text=_("Optional, e.g. coach. Leave it empty if you sign as a private person."),
    )
    place = forms.CharField(label=_("Place"), max_length=100, validators=[no_markup])
    method = forms.ChoiceField(
        label=_("How do you sign?"),
        choices=[("drawn", _("Draw my signature")), ("typed", _("Type my name as signature"))],
        initial="drawn",
        widget=forms.RadioSelect,
    )
    # Filled by static/js/signature.js with the canvas as a PNG data URL.
    signature_image = forms.CharField(
        label=_("Signature"),
        required=False,
        widget=forms.HiddenInput,
        max_length=SIGNATURE_FIELD_MAX_LENGTH,
        error_messages={"max_length": _("The signature image is too large.")},
    )
    typed_signature = forms.CharField(
        label=_("Your name as signature"), max_length=100, required=False, validators=[no_markup]
    )
    consent = forms.BooleanField(
        label=_("I have read the processing agreement and agree to it."),
        error_messages={"required": _("Tick that you have read the agreement and agree to it.")},
    )

    # Only when the practice asks for a signer code and this session has not confirmed one
    # yet (agreements.signer_codes); the view checks it against the link's code.
    code = forms.CharField(
        label=_("Code from the email"),
        max_length=20,
        required=False,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "class": "signer-code-input",
            }
        ),
    )

    def __init__(
        self,
        *args: Any,
        words: SigningWords | None = None,
        ask_code: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not ask_code:
            del self.fields["code"]
        if words is not None:
            # What the client ticks is the document's own sentence, kept with the signature.
            self.fields["consent"].label = words.consent
            self.fields["consent"].error_messages["required"] = words.consent_required

    def clean_code(self) -> str:
        digits = "".join(str(self.cleaned_data.get("code") or "").split()).replace("-", "")
        if not digits:
            raise forms.ValidationError(_("Enter the 6-digit code from the email."))
        if not (digits.isdigit() and len(digits) == 6):
            raise forms.ValidationError(_("The code has 6 digits, for example 123456."))
        return digits

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())
        method = cleaned.get("method")
        if method == "drawn":
            try:
                cleaned["image"] = png_from_data_url(cleaned.get("signature_image", ""))
            except SignatureRejected as refusal:
                self.add_error("signature_image", str(refusal))
        elif method == "typed":
            typed = (cleaned.get("typed_signature") or "").strip()
            if not typed and "typed_signature" not in self.errors:  # not refused already
                self.add_error("typed_signature", _("Type your name as signature."))
            cleaned["image"] = b""
        return cleaned

    def signature(self) -> SignatureInput:
        data = self.cleaned_data
        typed = data["method"] == "typed"
        return SignatureInput(
            name=data["typed_signature"].strip() if typed else data["name"],
            function=data["function"],
            place=data["place"],
            method=data["method"],
            image=data["image"],
            # Word for word what was ticked, in the language the page was shown in.
            consent_text=str(self.fields["consent"].label),
        )


class DeclineForm(PlainTextForm, forms.Form):
    reason = forms.CharField(
        label=_("Why do you not sign?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your coach reads this."),
    )


class VerifyForm(PlainTextForm, forms.Form):
    document = forms.FileField(label=_("PDF file"))

    MAX_BYTES = 20 * 1024 * 1024

    def clean_document(self) -> UploadedFile:
        document = self.cleaned_data["document"]
        if document.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB: not one of ours."))
        return document


class EndForm(PlainTextForm, forms.Form):
    coaching_ended_on = forms.DateField(
        label=_("The coaching agreement ended on"),
        widget=DateInput(attrs={"class": "form-control"}),
    )

    def clean_coaching_ended_on(self) -> datetime.date | None:
        ended_on = check_plausible_date(self.cleaned_data["coaching_ended_on"])
        if ended_on and ended_on > timezone.localdate():
            raise forms.ValidationError(
                _("Record the end once it has happened; this date is in the future.")
            )
        return ended_on


class DeclarationForm(PlainTextForm, forms.ModelForm):
    """Clause 9.3: which data, returned or destroyed, when and how."""

    class Meta:
        model = Declaration
        fields = ["data_description", "disposition", "done_on", "method"]
        widgets = {
            "data_description": forms.Textarea(attrs={"rows": 2}),
            "method": forms.Textarea(attrs={"rows": 2}),
            "done_on": DateInput(),
            "disposition": forms.RadioSelect,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radio buttons need no "nothing chosen" option: none ticked says that.
        cast(
            forms.ChoiceField, self.fields["disposition"]
        ).choices = Declaration.Disposition.choices

    def clean_done_on(self) -> datetime.date | None:
        done_on = check_plausible_date(self.cleaned_data["done_on"])
        if done_on and done_on > timezone.localdate():
            raise forms.ValidationError(
                _("The declaration is about what was done; this date is in the future.")
            )
        return done_on


# The sub-processor register ----------------------------------------------------------------


class SubprocessorForm(PlainTextForm, forms.ModelForm[Subprocessor]):
    """An entry of the register, and the day the clients are told it takes effect."""

    effective_on = forms.DateField(
        label=_("Takes effect on"),
        widget=DateInput(),
        help_text=_(
            "Your clients with a signed agreement get an email now; until this day they can "
            "object, or, without Bijlage 4, give their consent. At least 30 days ahead."
        ),
    )

    class Meta:
        model = Subprocessor
        fields = [
            "name",
            "service",
            "data",
            "location",
            "outside_eea",
            "transfer_safeguard",
            "since",
        ]
        widgets = {"data": forms.Textarea(attrs={"rows": 2}), "since": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_on"].initial = earliest_effective_date()
        if not self.instance.pk:
            self.fields["since"].initial = earliest_effective_date()

    def clean_since(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["since"])

    def clean_effective_on(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["effective_on"])

    def clean(self) -> dict[str, Any]:
        cleaned = cast("dict[str, Any]", super().clean())
        if cleaned.get("outside_eea") and not (cleaned.get("transfer_safeguard") or "").strip():
            self.add_error(
                "transfer_safeguard", _("Outside the EEA, name the safeguard for the transfer.")
            )
        if not cleaned.get("outside_eea"):
            cleaned["transfer_safeguard"] = ""
        return cleaned

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields or ()}


class SubprocessorEndForm(PlainTextForm, forms.Form):
    ended_on = forms.DateField(
        label=_("No longer engaged from"),
        widget=DateInput(),
        help_text=_("Your clients with a signed agreement are told of it by email."),
    )

    def clean_ended_on(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["ended_on"])


class ConsentForm(PlainTextForm, forms.ModelForm[SubprocessorNotice]):
    """A client's consent to a change, where his agreement has no Bijlage 4 (clause 3.4)."""

    class Meta:
        model = SubprocessorNotice
        fields = ["consent_received_on", "consent"]
        widgets = {
            "consent_received_on": DateInput(),
            "consent": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = True
        self.fields["consent"].help_text = _("What the client wrote, in short.")

    def clean_consent_received_on(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["consent_received_on"])


class ObjectionForm(PlainTextForm, forms.ModelForm[SubprocessorNotice]):
    """An objection a client sent in answer to a change notice, as the coach received it."""

    class Meta:
        model = SubprocessorNotice
        fields = ["objection_received_on", "objection"]
        widgets = {
            "objection_received_on": DateInput(),
            "objection": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = True
        self.fields["objection"].help_text = _("What the client wrote, in short.")

    def clean_objection_received_on(self) -> datetime.date | None:
        return check_plausible_date(self.cleaned_data["objection_received_on"])
