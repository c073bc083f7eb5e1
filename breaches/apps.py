from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreachesConfig(AppConfig):
    name = "breaches"
    verbose_name = _("Data breaches")

    def ready(self) -> None:
        # Imported here: these modules use the models, which are not loaded when apps.py is.
        from avg_portal.emails import on_delivery

        from . import actions, notices, reminders

        on_delivery(notices.NOTIFICATION, actions.record_notification_email)
        on_delivery(notices.DEADLINE_REMINDER, reminders.record_reminder_email)
