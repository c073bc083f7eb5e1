from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Practices and clients")

    def ready(self) -> None:
        # Imported here: the module uses the models, which are not loaded when apps.py is.
        from .immutability import lift_before_migrate, restore_after_migrate

        # Once per migrate (and per flush), for the immutable rows of every app.
        pre_migrate.connect(lift_before_migrate, sender=self)
        post_migrate.connect(restore_after_migrate, sender=self)
