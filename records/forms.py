import datetime
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.forms import DateInput, check_plausible_date
from agreements.models import RetentionDisposal
from core.models import Client
from core.text import PlainTextForm, without_refused


class ClientForm(PlainTextForm, forms.ModelForm[Client]):
    class Meta:
        model = Client
        fields = ["name", "residence", "email", "phone", "language"]


class ClientSearchForm(PlainTextForm, forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)


class EraseForm(PlainTextForm, forms.Form):
    """Erasure cannot be undone: the coach types the client's name to confirm."""

    confirm_name = forms.CharField(label=_("Type the client's name to confirm"), max_length=200)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def clean_confirm_name(self) -> str:
        typed = " ".join(self.cleaned_data["confirm_name"].split())
        # A name stored before direction characters were refused is typed without them.
        stored = " ".join(without_refused(self.client.name).split())
        if typed.casefold() != stored.casefold():
            raise forms.ValidationError(_("This is not the client's name as it is stored."))
        return typed


class DisposalForm(PlainTextForm, forms.ModelForm[RetentionDisposal]):
    """That a Bijlage 1 row's data was destroyed or returned: what, when and how."""

    class Meta:
        model = RetentionDisposal
        fields = ["disposition", "done_on", "method"]
        widgets = {
            "disposition": forms.RadioSelect,
            "done_on": DateInput(),
            "method": forms.TextInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"done_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        # Radio buttons need no "nothing chosen" option: none ticked says that.
        disposition = cast(forms.ChoiceField, self.fields["disposition"])
        disposition.choices = RetentionDisposal.Disposition.choices

    def clean_done_on(self) -> datetime.date | None:
        done_on = check_plausible_date(self.cleaned_data["done_on"])
        if done_on and done_on > timezone.localdate():
            raise forms.ValidationError(_("Record what was done; this date is in the future."))
        return done_on
