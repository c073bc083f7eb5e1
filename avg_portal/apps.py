from django import forms
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy


class AvgPortalConfig(AppConfig):
    default = True
    name = "avg_portal"
    verbose_name = "AVG Portal"

    def ready(self) -> None:
        from . import audit, checks, emails  # noqa: F401 - checks registers the deploy checks

        audit.connect_signals()
        emails.wanted_while(emails.PASSWORD_RESET, emails.password_reset_wanted)
        _choices_without_the_value()


def _choices_without_the_value() -> None:
    """Django's "Select a valid choice. %(value)s is not one of the available choices."
    repeats whatever was posted: ten thousand characters, or a right-to-left override, on
    the page. The app's forms say which choice to make instead. (Set before any form class
    is made: forms are imported with the views, after the apps are ready.)"""
    message = gettext_lazy("Choose one of the options given.")
    for field in (
        forms.ChoiceField,
        forms.MultipleChoiceField,
        forms.ModelChoiceField,
        forms.ModelMultipleChoiceField,
    ):
        field.default_error_messages = field.default_error_messages | {"invalid_choice": message}


class OTPAdminConfig(admin_apps.AdminConfig):
    """The admin site, behind the same second factor as the rest of the app."""

    default = False
    default_site = "django_otp.admin.OTPAdminSite"
