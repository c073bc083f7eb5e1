from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Processing agreements")

    def ready(self) -> None:
        # Imported here: these modules use the models, which are not loaded when apps.py is.
        from avg_portal.emails import on_delivery, wanted_while

        from . import (
            checks,  # noqa: F401 - registers what every signable document needs
            notices,
            retention,
            signer_codes,
            signing,
            subprocessors,
            tally,
        )

        # SQLite remakes tables in migrations, and the tally's triggers go with them.
        pre_migrate.connect(tally.lift_before_migrate, sender=self)
        post_migrate.connect(tally.restore_after_migrate, sender=self)

        on_delivery(notices.INVITATION, signing.record_link_email)
        on_delivery(notices.REMINDER, signing.record_link_email)
        wanted_while(notices.INVITATION, signing.link_email_wanted)
        wanted_while(notices.REMINDER, signing.link_email_wanted)
        on_delivery(notices.SIGNER_CODE, signing.record_code_email)
        wanted_while(notices.SIGNER_CODE, signer_codes.code_email_wanted)
        for purpose in (
            notices.DECLINED,
            notices.SEALED_TO_CLIENT,
            notices.SEALED_TO_PRACTICE,
            notices.SEALING_DELAYED,
        ):
            on_delivery(purpose, signing.record_document_email)
        on_delivery(notices.RETENTION_REMINDER, retention.record_reminder_email)
        on_delivery(notices.SUBPROCESSOR_CHANGE, subprocessors.record_notice_email)
