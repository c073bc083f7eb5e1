from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("The practice's records")

    def ready(self) -> None:
        # Imported here: these modules use the models, which are not loaded when apps.py is.
        from agreements.signals import terms_changed

        from .record_entries import on_terms_changed

        # The agreements app may not import this one: it announces, and this app listens.
        terms_changed.connect(on_terms_changed, dispatch_uid="records.record_entries")
