import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from avg_portal.models import User

from .load_demo import DEMO_EMAIL


class Command(BaseCommand):
    help = "Print the demo coach's current TOTP code. Development only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code runs only with DJANGO_DEBUG=1.")
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            raise CommandError("No demo coach yet: run `make run` (or manage.py load_demo) first.")
        device = TOTPDevice.objects.get(user=user, name="default")
        code = totp(device.bin_key, device.step, device.t0, device.digits)
        remaining = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(f"{code:0{device.digits}d}  (valid for {remaining} more seconds)")
