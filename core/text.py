"""What text from a form may hold. Every form of the app mixes in `PlainTextForm`
(tests/test_plain_text.py checks that none is left out), so that a name, a description or a
breach report cannot carry characters that show one thing and store another.

- Line breaks of other kinds (vertical tab, form feed, NEL, Unicode's line and paragraph
  separators), which text pasted from a word processor can hold, become ordinary ones; in
  a one-line field a run of line breaks and tabs becomes one space (a browser never sends
  a line break there, and a tab would show up in an email).
- Other control characters (a bell, an escape) are refused: browsers cannot type them, a
  crafted request can, and they would reach the PDF, the email and the CSV export.
- So are the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069), with which "Jan<U+202E>fdp.exe" prints as "Janexe.pdf" ("Trojan
  Source"): the signed PDF would show the parties something other than what was recorded.
  The marks that right-to-left writing needs (U+200E, U+200F, U+061C) stay allowed, as do
  joiners.

Passwords are left alone: they are never shown or printed, and refusing a character a
password manager made would only lock someone out. So are hidden fields: the page's own
values (a drawn signature, a form's key), which the form decodes or checks itself.

Only forms check this: values stored before may still hold such characters, and a coach
who edits one is asked to type it again.
"""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Line breaks of other kinds: vertical tab, form feed, NEL, line and paragraph separator.
OTHER_BREAKS = re.compile("[\x0b\x0c\x85\u2028\u2029]")
# In one line: a run of line breaks and tabs, with the spaces around them. A match starts
# only where a run of spaces does (the lookbehind): otherwise a long run of spaces with no
# break after it would be tried from each of its spaces, in quadratic time.
BREAKS = re.compile("(?<! )(?: *(?:\r\n|[\r\n\t\x0b\x0c\x85\u2028\u2029]))+ *")
# Refused: the bidirectional embeddings, overrides and isolates; the C0 controls but NUL
# (which Django refuses itself), the tab and the line breaks; DEL and the C1 controls but
# NEL (a line break, above). Character classes, which take linear time on a text of many
# kilobytes (a breach report).
REFUSED = re.compile("[\u202a-\u202e\u2066-\u2069\x01-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


def plain_text(text: str, *, multiline: bool) -> str:
    """`text` with its line breaks made ordinary ones (CRLF, as a browser sends a text
    area's), or in one line a space for a run of breaks and tabs."""
    if multiline:
        return OTHER_BREAKS.sub("\r\n", text)
    return BREAKS.sub(" ", text)


def refused_characters(text: str) -> list[str]:
    """The characters of `text` that no field takes, in order, once each."""
    return list(dict.fromkeys(REFUSED.findall(text)))


def without_refused(text: str) -> str:
    """`text` without the characters no field takes: what can be typed of a value stored
    before they were refused."""
    return REFUSED.sub("", text)


@deconstructible
class PlainTextValidator:
    """Refuses control characters and the bidirectional controls, naming them by code
    point."""

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str):
            return
        refused = refused_characters(value)
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
        return isinstance(other, PlainTextValidator)


def _with_plain_breaks(field: forms.CharField, *, multiline: bool) -> Callable[..., Any]:
    to_python = field.to_python

    def convert(value: Any) -> Any:
        # Beyond the field's length the value is refused for that; not worked on first.
        if isinstance(value, str) and (field.max_length is None or len(value) <= field.max_length):
            value = plain_text(value, multiline=multiline)
        return to_python(value)

    convert.plain_text = True  # type: ignore[attr-defined]
    return convert


if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object  # a mixin: first among a form's bases, before Django's form class


class PlainTextForm(_FormBase):
    """Mixed into every form: before the form is cleaned, each of its text fields gets its
    line breaks made plain (for one line or several, by its widget) and
    `PlainTextValidator`; password and hidden fields excepted. (Not in `__init__`:
    django-two-factor passes a form only the arguments its signature names.)"""

    def full_clean(self) -> None:
        for field in self.fields.values():
            if (
                not isinstance(field, forms.CharField)
                or isinstance(field.widget, (forms.PasswordInput, forms.HiddenInput))
                or getattr(field.to_python, "plain_text", False)
            ):
                continue
            multiline = isinstance(field.widget, forms.Textarea)
            # The form's own copy of the field: the class's fields are not changed.
            field.to_python = _with_plain_breaks(field, multiline=multiline)  # type: ignore[method-assign]
            field.validators.append(PlainTextValidator())
        super().full_clean()
