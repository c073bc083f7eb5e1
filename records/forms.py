from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import Client


class ClientForm(forms.ModelForm[Client]):
    class Meta:
        model = Client
        fields = ["name", "residence", "email", "phone", "language"]


class ClientSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)


class EraseForm(forms.Form):
    """Erasure cannot be undone: the coach types the client's name to confirm."""

    confirm_name = forms.CharField(label=_("Type the client's name to confirm"), max_length=200)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def clean_confirm_name(self) -> str:
        typed = " ".join(self.cleaned_data["confirm_name"].split())
        if typed.casefold() != " ".join(self.client.name.split()).casefold():
            raise forms.ValidationError(_("This is not the client's name as it is stored."))
        return typed
