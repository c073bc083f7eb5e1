from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Practice


class PracticeForm(forms.ModelForm):
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
            "default_penalty_per_violation",
            "default_penalty_per_day",
        ]
        widgets = {
            "default_penalty_per_violation": forms.NumberInput(attrs={"step": "0.01", "min": 0}),
            "default_penalty_per_day": forms.NumberInput(attrs={"step": "0.01", "min": 0}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in (*Practice.REQUIRED_FOR_AGREEMENTS, "address", "kvk_number", "phone"):
            self.fields[name].required = True
        self.fields["breach_contact_role"].widget.attrs["placeholder"] = _("e.g. the coach")
