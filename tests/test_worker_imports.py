"""What a web worker loads when it starts and serves the login page: the WSGI application
with every URL's view, and not the libraries that only rendering, sealing, reading a
certificate or drawing the authenticator's QR code need (issue 15)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys
from avg_portal.wsgi import application
from django.test import Client, override_settings
from django.urls import get_resolver, reverse
get_resolver().url_patterns  # every view module, as the first request imports them
# The login page, as every worker serves it (sessions in a cookie: no database here).
with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
    response = Client(HTTP_HOST="localhost").get(reverse("two_factor:login"))
print(json.dumps({"status": response.status_code, "modules": sorted(sys.modules)}))
"""

# Each a library of its own with its own memory: WeasyPrint (PDF layout), pyHanko and aiohttp
# (the seal), cryptography's x509 (certificates, some 15 MB), pypdf (joining PDFs), boto3;
# qrcode with Pillow and lxml (the authenticator's QR code, drawn once per account while it
# is set up: avg_portal/two_factor_views.py).
NOT_AT_START = [
    "weasyprint",
    "pyhanko",
    "aiohttp",
    "cryptography.x509",
    "pypdf",
    "boto3",
    "qrcode",
    "PIL",
    "lxml",
]


def test_a_web_worker_serves_the_login_page_without_the_pdf_seal_certificate_and_qr_libraries():
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env |= {"DJANGO_SETTINGS_MODULE": "avg_portal.settings", "DJANGO_DEBUG": "1"}
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    served = json.loads(result.stdout.splitlines()[-1])
    loaded = set(served["modules"])

    assert served["status"] == 200
    assert "agreements.views" in loaded and "agreements.evidence_renewal" in loaded
    assert "two_factor.views.core" in loaded
    assert [name for name in NOT_AT_START if name in loaded] == []


def test_the_authenticator_qr_code_is_still_drawn_by_qrcode(rf, settings):
    """The stand-in for qrcode in two_factor.views.core hands over to the real library."""
    import io

    import qrcode
    import qrcode.image.svg
    from two_factor.utils import get_otpauth_url, totp_digits

    from avg_portal.models import User
    from avg_portal.views import QRGeneratorView

    secret = "JBSWY3DPEHPK3PXP"
    request = rf.get("/account/two-factor/qrcode/")
    request.user = User(email="zoe@praktijk-unal.test")
    request.session = {"django_two_factor-qr_secret_key": secret}
    response = QRGeneratorView.as_view()(request)

    expected = io.BytesIO()
    url = get_otpauth_url(
        accountname="zoe@praktijk-unal.test",
        issuer=settings.OTP_TOTP_ISSUER,
        secret=secret,
        digits=totp_digits(),
    )
    qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage).save(expected)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response.content == expected.getvalue()
