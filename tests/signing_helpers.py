"""Helpers for the signing tests: a drawn signature, an agreement sent for signing, and the
signer code a client types before he signs."""

import base64
import io
import re

from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from agreements import notices, signer_codes, signing
from agreements.signing import SignatureInput
from avg_portal.emails import send_queued
from avg_portal.models import OutboxMessage
from core.origin import Actor, Origin

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


CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def code_from(message):
    """The six digits in a signer-code email (an EmailMessage or its text)."""
    return CODE.search(getattr(message, "body", message)).group(1)


def receive_signer_code():
    """The digits of the newest signer code, read from the email the client receives. A test
    inside one transaction never reaches the commit after which the worker sends it, so it is
    sent here, as the worker would."""
    row = OutboxMessage.objects.filter(purpose=notices.SIGNER_CODE).order_by("-id").first()
    assert row is not None, "no signer code was sent"
    if row.status == OutboxMessage.Status.QUEUED:
        send_queued(row.pk)
    return code_from([m for m in mail.outbox if CODE.search(m.body)][-1])


def request_code(client):
    """Press "Send me a code" on the signing page; returns the digits that were sent."""
    response = client.post(reverse("signing_send_code"))
    assert response.status_code == 200, response.status_code
    return receive_signer_code()


def confirm_signer_code(client):
    """As the client does before signing: ask for a code and type it in. The session then
    holds the confirmation, so the next POST of the form signs."""
    code = request_code(client)
    response = client.post(reverse("signing_page"), {"code": code})
    assert "Je code is bevestigd" in response.text
    return code


def confirmed_code(link, *, name="Zoë Ünal-Brontë", ip="203.0.113.7"):
    """For tests that call `signing.client_sign` directly: a code sent for this link and
    confirmed, as the signing page does it, to pass as `signer_code`."""
    origin = Origin(actor=Actor.CLIENT, name=name, ip_address=ip)
    signer_codes.signer_code_send(link=link, origin=origin)
    return signer_codes.signer_code_confirm(link=link, entered=receive_signer_code(), origin=origin)


def signed_by_both(coach, capture, agreement=None):
    """An agreement the coach sent and the client signed with a confirmed code, sealed and
    archived. The client's part goes through the signing service as the signing page calls
    it, without the page's requests: for tests about what a sealed agreement is, not about
    how the page signs (test_signing posts the form)."""
    agreement, _token = send_for_signing(coach, agreement, capture=capture)
    link = agreement.signing_links.get()
    signature = SignatureInput(
        name="Zoë Ünal-Brontë",
        function="Cliënt",
        place="Breda",
        method="drawn",
        image=signature_png(),
    )
    with capture(execute=True):
        signing.client_sign(
            link=link,
            signature=signature,
            origin=Origin(actor=Actor.CLIENT, name="Zoë Ünal-Brontë", ip_address="203.0.113.7"),
            signer_code=confirmed_code(link),
        )
    agreement.refresh_from_db()
    return agreement


def end_and_send_declaration(agreement, coach, capture):
    """Record today's end of a signed agreement and send the client the declaration of
    destruction (clause 9.3); returns the declaration."""
    origin = Origin.of_account(coach)
    signing.agreement_record_end(agreement=agreement, ended_on=timezone.localdate(), origin=origin)
    with capture(execute=True):
        return signing.declaration_send(
            agreement=agreement,
            disposition="destroyed",
            data_description="Sessieverslagen",
            done_on=timezone.localdate(),
            method="Bestanden verwijderd",
            origin=origin,
        )
