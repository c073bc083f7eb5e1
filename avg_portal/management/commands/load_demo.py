from base64 import b32encode
from binascii import unhexlify
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.utils import get_otpauth_url

from avg_portal.models import User
from core.practices import practice_create

DEMO_EMAIL = "demo@avg-portal.test"
DEMO_PASSWORD = "demo-coach-2026"  # noqa: S105 - printed for the developer on purpose


class Command(BaseCommand):
    help = "Create a demo practice and coach (once) and print how to log in. Development only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates a known password: it runs only with DJANGO_DEBUG=1."
            )
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = self._create()
        device = TOTPDevice.objects.get(user=user, name="default")
        secret = b32encode(unhexlify(device.key)).decode()
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Demo login for AVG Portal:",
                    f"  email:     {DEMO_EMAIL}",
                    f"  password:  {DEMO_PASSWORD}",
                    f"  TOTP key:  {secret}  (add it to an authenticator app, or run",
                    "             .venv/bin/python manage.py demo_code for the current code)",
                    f"  otpauth:   {get_otpauth_url(DEMO_EMAIL, secret, settings.OTP_TOTP_ISSUER)}",
                    "",
                ]
            )
        )

    @transaction.atomic
    def _create(self) -> User:
        practice = practice_create(
            name="Coachpraktijk De Linde",
            statutory_seat="Tilburg",
            address="Lindelaan 12, 5038 AB Tilburg",
            kvk_number="12345678",
            email="info@delinde.test",
            phone="013 123 45 67",
            breach_contact_role="de coach",
            breach_contact_phone="06 12345678",
            breach_contact_email="privacy@delinde.test",
            default_penalty_per_violation=Decimal("2500.00"),
            default_penalty_per_day=Decimal("250.00"),
        )
        user = User.objects.create_user(
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            full_name="Mado Remkes",
            practice=practice,
            email_confirmed_at=timezone.now(),
        )
        TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        return user
