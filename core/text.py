"""What text from a form may hold. Every form of the app mixes in `PlainTextForm`
(tests/test_plain_text.py checks that none is left out), so that a name, a description or a
breach report cannot carry characters that show one thing and store another:

- control characters (a bell, an escape, a line break in a one-line field): browsers cannot
  type them, a crafted request can, and they reach the PDF, the email and the CSV export;
- the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), with
  which "Jan<U+202E>fdp.exe" prints as "Janexe.pdf" ("Trojan Source"): the signed PDF
  would show the parties something other than what was recorded. The marks that right-to-
  left writing needs (U+200E, U+200F, U+061C) stay allowed, as do joiners.

Passwords are left alone: they are never shown or printed, and refusing a character a
password manager made would only lock someone out.
"""

import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Refused everywhere: the bidirectional embeddings, overrides and isolates; the C0 controls
# but NUL (which Django refuses itself), the tab and the line breaks; DEL and the C1
# controls. Refused in one line only: the line breaks and Unicode's line and paragraph
# separators. A regular expression: a drawn signature is a field of half a megabyte.
_ALWAYS = "\u202a-\u202e\u2066-\u2069\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BREAKS = "\n\r\u2028\u2029"
REFUSED = {
    True: re.compile(f"[{_ALWAYS}]"),
    False: re.compile(f"[{_ALWAYS}{_BREAKS}]"),
}


def refused_characters(text: str, *, multiline: bool) -> list[str]:
    """The characters of `text` that a field of this kind refuses, in order, once each."""
    return list(dict.fromkeys(REFUSED[multiline].findall(text)))


@deconstructible
class PlainTextValidator:
    """Refuses control characters (line breaks too, unless `multiline`) and the
    bidirectional controls, naming them by code point."""

    def __init__(self, *, multiline: bool) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str):
            return
        refused = refused_characters(value, multiline=self.multiline)
        if refused:
            raise ValidationError(
                _(
                    "This text contains invisible control or direction characters (%(codes)s). "
                    "Remove them (type the text again rather than pasting it) and try again."
                ),
                code="control_characters",
                params={"codes": ", ".join(f"U+{ord(char):04X}" for char in refused)},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator) and other.multiline == self.multiline


if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object  # a mixin: first among a form's bases, before Django's form class


class PlainTextForm(_FormBase):
    """Mixed into every form: before the form is cleaned, each of its text fields gets
    `PlainTextValidator`, for one line or several by its widget; password fields excepted.
    (Not in `__init__`: django-two-factor passes a form the arguments its signature names.)"""

    def full_clean(self) -> None:
        for field in self.fields.values():
            if (
                isinstance(field, forms.CharField)
                and not isinstance(field.widget, forms.PasswordInput)
                and not any(isinstance(v, PlainTextValidator) for v in field.validators)
            ):
                multiline = isinstance(field.widget, forms.Textarea)
                field.validators.append(PlainTextValidator(multiline=multiline))
        super().full_clean()
