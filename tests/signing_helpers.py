"""Helpers for the signing tests: a drawn signature, and an agreement sent for signing."""

import base64
import io
import re

from django.core import mail
from django.test import RequestFactory
from PIL import Image, ImageDraw

from agreements import signing
from agreements.signing import SignatureInput
from core.origin import Origin

from .factories import make_agreement


def signature_png(width=400, height=150):
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(20, 100), (120, 30), (220, 110), (360, 40)], fill=(11, 42, 91, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def data_url(png):
    return "data:image/png;base64," + base64.b64encode(png).decode()


def coach_request(coach, ip="198.51.100.10"):
    request = RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT="TestBrowser/1.0")
    request.user = coach
    return request


def send_for_signing(coach, agreement=None, *, capture=None):
    """Sign as the coach and send; returns (agreement, token from the emailed link)."""
    agreement = agreement or make_agreement(coach.practice)
    outbox_before = len(mail.outbox)
    signature = SignatureInput(
        name="Mado Remkes",
        function="Coach",
        place="Tilburg",
        method="drawn",
        image=signature_png(),
    )
    if capture is not None:
        with capture(execute=True):
            signing.agreement_sign_and_send(
                agreement=agreement,
                signature=signature,
                origin=Origin.of_coach(coach_request(coach)),
            )
    else:
        signing.agreement_sign_and_send(
            agreement=agreement, signature=signature, origin=Origin.of_coach(coach_request(coach))
        )
    agreement.refresh_from_db()
    invitation = mail.outbox[outbox_before]
    return agreement, token_from(invitation)


def token_from(message):
    return re.search(r"/sign/([A-Za-z0-9_-]{40,})/", message.body).group(1)


def client_post(drawn=True, **overrides):
    data = {
        "name": "Zoë Ünal-Brontë",
        "function": "Cliënt",
        "place": "Breda",
        "method": "drawn" if drawn else "typed",
        "signature_image": data_url(signature_png()) if drawn else "",
        "typed_signature": "" if drawn else "Zoë Ünal-Brontë",
        "consent": "on",
    }
    return data | overrides
