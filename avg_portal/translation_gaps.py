"""Messages of Django and its libraries whose Dutch we give ourselves: Django 6.1's own
catalogue no longer matches some (their wording changed upstream), and some read wrong in
the app ("de e-mailadres", "token" where the app says "code"). Naming them here lets
makemessages carry them into our catalogue, which Django consults first. Never imported."""

from django.utils.translation import gettext, ngettext


def _messages() -> None:  # pragma: no cover - read by makemessages only
    ngettext(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        0,
    )
    # The empty choice of a select (django.db.models.fields.BLANK_CHOICE_LABEL, new in 6.1).
    gettext("- Select an option -")
    # django.contrib.auth's UserAttributeSimilarityValidator: "de e-mailadres" in Django's.
    gettext("The password is too similar to the %(verbose_name)s.")
    # django-two-factor-auth's code step while setting up the app.
    gettext("Entered token is not valid.")
