"""Django messages that Django 6.1's own Dutch catalogue no longer matches (their wording
changed upstream). Naming them here lets makemessages carry them into our catalogue, which
Django consults first. Never imported."""

from django.utils.translation import gettext, ngettext


def _messages() -> None:  # pragma: no cover - read by makemessages only
    ngettext(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        0,
    )
    # The empty choice of a select (django.db.models.fields.BLANK_CHOICE_LABEL, new in 6.1).
    gettext("- Select an option -")
