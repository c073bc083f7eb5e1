from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AvgPortalConfig(AppConfig):
    default = True
    name = "avg_portal"
    verbose_name = "AVG Portal"

    def ready(self) -> None:
        from . import audit, checks  # noqa: F401 - registers the deploy checks

        audit.connect_signals()


class OTPAdminConfig(admin_apps.AdminConfig):
    """The admin site, behind the same second factor as the rest of the app."""

    default = False
    default_site = "django_otp.admin.OTPAdminSite"
