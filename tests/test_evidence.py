"""Evidence that is exactly what happened: the address a link went to, the moment and the
hash the coach signed, the consent sentence and text version, events in a hash chain; and
signature input that cannot crash the signing pages."""

import base64
import io
import zlib

import pytest
from django.urls import reverse
from PIL import Image

from agreements.evidence import chain_hash, verify_chain
from agreements.models import Agreement, AgreementEvent, Party, Signature

from .conftest import stored_pdf
from .signing_helpers import client_post, send_for_signing
from .test_signing import open_link, pdf_text

pytestmark = pytest.mark.django_db

CONSENT_NL = "Ik heb de verwerkersovereenkomst gelezen en ga ermee akkoord."


def sign_as_client(client, token, capture, **overrides):
    open_link(client, token)
    with capture(execute=True):
        return client.post(reverse("signing_page"), client_post(**overrides))


def test_the_evidence_names_the_address_the_link_went_to(
    client, coach_client, coach, django_capture_on_commit_callbacks
):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    first_address = agreement.client.email
    assert agreement.signing_links.get().sent_to == first_address
    # The coach corrects the client's address after the link went out.
    agreement.client.email = "nieuw-adres@example.test"
    agreement.client.save()

    sign_as_client(client, token, django_capture_on_commit_callbacks)
    agreement.refresh_from_db()
    text = pdf_text(stored_pdf(agreement)).replace("\n", " ")
    assert f"uitgenodigd via {first_address}" in text
    assert (
        "nieuw-adres@example.test"
        not in text.split("Bewijs van ondertekening")[1].split("Gebeurtenissen")[0]
    )


def test_the_coach_signs_at_the_moment_of_her_signing_event_the_hash_she_was_shown(
    coach, django_capture_on_commit_callbacks
):
    agreement, _token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    signature = Signature.objects.get(document=agreement, party=Party.PRACTICE)
    event = agreement.events.get(kind=AgreementEvent.Kind.SIGNED_BY_PRACTICE)
    assert signature.signed_at == event.at
    assert signature.document_sha256 == agreement.document_sha256
    assert agreement.document_sha256 in event.detail
    # Her signature comes after the draft was made and before the link went out.
    created = agreement.events.get(kind=AgreementEvent.Kind.CREATED)
    sent = agreement.events.get(kind=AgreementEvent.Kind.SENT)
    assert created.id < event.id < sent.id
    assert created.at <= event.at <= sent.at


def test_the_consent_sentence_and_text_version_are_recorded_and_printed(
    client, coach, django_capture_on_commit_callbacks
):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    sign_as_client(client, token, django_capture_on_commit_callbacks)
    signature = Signature.objects.get(document=agreement, party=Party.CLIENT)
    assert signature.consent_text == CONSENT_NL
    assert signature.text_version == "2026.1"
    coach_signature = Signature.objects.get(document=agreement, party=Party.PRACTICE)
    assert coach_signature.text_version == "2026.1"
    text = " ".join(pdf_text(stored_pdf(Agreement.objects.get(pk=agreement.pk))).split())
    assert f"Aangevinkt “{CONSENT_NL}”" in text
    assert "Tekstversie 2026.1" in text


def test_events_form_a_hash_chain_whose_head_is_printed(
    client, coach, django_capture_on_commit_callbacks
):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    sign_as_client(client, token, django_capture_on_commit_callbacks)
    agreement = Agreement.objects.get(pk=agreement.pk)
    events = list(agreement.events.order_by("id"))
    assert len(events) >= 6
    assert events[0].previous_sha256 == ""
    for before, after in zip(events, events[1:], strict=False):
        assert after.previous_sha256 == before.sha256
        assert after.sha256 == chain_hash(before.sha256, after)
    assert verify_chain(events) is None

    # The evidence page ends the trail with the hash of its last event (the sealing).
    completed = agreement.events.get(kind=AgreementEvent.Kind.COMPLETED)
    text = pdf_text(stored_pdf(agreement)).replace(" ", "").replace("\n", "")
    assert completed.sha256 in text

    # A changed, a removed and an inserted event each break the chain where they are.
    tampered = AgreementEvent.objects.get(pk=events[2].pk)
    tampered.detail = "iets anders"
    assert verify_chain([*events[:2], tampered, *events[3:]]).event_id == events[2].pk
    removed = events[:2] + events[3:]
    assert verify_chain(removed).event_id == events[3].pk
    inserted = AgreementEvent(
        agreement=agreement,
        kind="viewed",
        actor="client",
        at=events[2].at,
        previous_sha256=events[1].sha256,
    )
    inserted.sha256 = chain_hash(events[1].sha256, inserted)
    assert verify_chain([*events[:2], inserted, *events[2:]]).event_id == events[2].pk


def _png_chunk(kind, data):
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _crafted_pngs():
    signature = b"\x89PNG\r\n\x1a\n"
    good = io.BytesIO()
    Image.new("RGBA", (40, 20), (0, 0, 0, 255)).save(good, "PNG")
    good = good.getvalue()
    return {
        # A PNG header followed by a chunk whose type is not ASCII: Pillow raised
        # UnicodeDecodeError and the page answered 500.
        "non-ascii chunk": base64.b64decode("iVBORw0KGgoAAAAN//79/AAAAAAAAAAAAAAAAAAAAAAA"),
        "header only": signature,
        "truncated IHDR": signature + _png_chunk(b"IHDR", b"\x00\x00\x00\x10"),
        "bad CRC": good[:29] + b"\x00\x00\x00\x00" + good[33:],
        "cut in the middle": good[: len(good) // 2],
        "huge claimed size": signature
        + _png_chunk(b"IHDR", (60000).to_bytes(4, "big") * 2 + b"\x08\x06\x00\x00\x00")
        + _png_chunk(b"IEND", b""),
    }


def refused_clearly(page):
    return any(
        message in page
        for message in ("kon niet worden gelezen", "is te groot", "handtekeningvak is leeg")
    )


@pytest.mark.parametrize("name", list(_crafted_pngs()))
def test_crafted_signature_images_are_refused_with_a_clear_message(
    name, client, coach_client, coach, django_capture_on_commit_callbacks
):
    payload = "data:image/png;base64," + base64.b64encode(_crafted_pngs()[name]).decode()

    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    open_link(client, token)
    response = client.post(reverse("signing_page"), client_post(signature_image=payload))
    assert response.status_code == 400
    assert refused_clearly(response.text)
    agreement.refresh_from_db()
    assert agreement.status == "sent"
    assert not Signature.objects.filter(document=agreement, party=Party.CLIENT).exists()

    from .factories import make_agreement

    draft = make_agreement(coach.practice)
    response = coach_client.post(
        reverse("agreement_send", args=[draft.public_id]),
        {
            "name": "Mado Remkes",
            "function": "Coach",
            "place": "Tilburg",
            "method": "drawn",
            "signature_image": payload,
            "consent": "on",
        },
    )
    assert response.status_code == 400
    assert refused_clearly(response.text)
    draft.refresh_from_db()
    assert draft.status == "draft"


@pytest.mark.parametrize(
    ("forwarded", "recorded"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("unknown", "127.0.0.1"),
        ("not-an-ip", "127.0.0.1"),
        ("", "127.0.0.1"),
    ],
)
def test_the_address_behind_a_proxy_is_an_address_or_the_proxys_own(
    client, coach, settings, django_capture_on_commit_callbacks, forwarded, recorded
):
    """Whatever a proxy (or someone reaching the app past it) writes in X-Forwarded-For,
    opening the link works and the evidence holds a valid address: the one the proxy saw,
    written with a port or brackets or not, else the address the request came from."""
    settings.AXES_IPWARE_PROXY_COUNT = 1
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    response = client.get(
        reverse("signing_open", args=[token]),
        HTTP_X_FORWARDED_FOR=forwarded,
        REMOTE_ADDR="127.0.0.1",
    )
    assert response.status_code == 302
    opened = agreement.events.get(kind=AgreementEvent.Kind.OPENED)
    assert opened.ip_address == recorded


def test_a_user_agent_with_control_characters_is_kept_as_printable_text(
    client, coach, django_capture_on_commit_callbacks
):
    """Evidence is stored and hashed into the chain: a NUL (PostgreSQL refuses it) or a lone
    surrogate (no hash can encode it) in the User-Agent is left out, not a failed page."""
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    response = client.get(
        reverse("signing_open", args=[token]), HTTP_USER_AGENT="Telefoon\x00/1.0 \udcff(é)\t"
    )
    assert response.status_code == 302
    opened = agreement.events.get(kind=AgreementEvent.Kind.OPENED)
    assert opened.user_agent == "Telefoon/1.0 (é)"
    assert verify_chain(agreement.events.order_by("id")) is None


SHA = "ab" * 32


@pytest.mark.parametrize(
    ("detail", "shown"),
    [
        ("invitation → zoe@example.test", "uitnodiging → zoe@example.test"),
        ("email → zoe@example.test", "e-mail → zoe@example.test"),
        ("signing code → zoe@example.test", "ondertekencode → zoe@example.test"),
        (
            "signed PDF to client → zoe@example.test",
            "ondertekende pdf naar de cliënt → zoe@example.test",
        ),
        (
            "signed declaration to coach → a@b.test",
            "ondertekende verklaring naar de coach → a@b.test",
        ),
        # A delivery error in words; a mail server's refusal with its own code and words.
        (
            "invitation → zoe@example.test: 550 Mailbox unavailable (tried again)",
            "uitnodiging → zoe@example.test: de mailserver weigerde de e-mail (550 Mailbox "
            "unavailable) (wordt opnieuw geprobeerd)",
        ),
        (
            "reminder → z@e.test: timed out (given up)",
            "herinnering → z@e.test: de mailserver antwoordde niet op tijd (opgegeven)",
        ),
        (f"SHA-256 of the signed text {SHA}", f"SHA-256 van de ondertekende tekst {SHA}"),
        (
            f"SHA-256 {SHA}; RFC 3161 time 2026-11-30T10:00:00+00:00 from Simulated TSA",
            f"SHA-256 {SHA}; RFC 3161-tijd 2026-11-30T10:00:00+00:00 van Simulated TSA",
        ),
        (
            f"version 2: SHA-256 {SHA}; previous version 1: SHA-256 {SHA}; timestamp valid "
            "until unknown",
            f"versie 2: SHA-256 {SHA}; vorige versie 1: SHA-256 {SHA}; tijdstempel geldig tot "
            "onbekend",
        ),
        # What is not the code's own wording is shown as written.
        ("Ik wil eerst met mijn partner overleggen.", "Ik wil eerst met mijn partner overleggen."),
        ("zoe@example.test; SHA-256 " + SHA, "zoe@example.test; SHA-256 " + SHA),
        ("invitation is what I want → not this", "invitation is what I want → not this"),
    ],
)
def test_the_timeline_shows_the_codes_words_in_dutch(detail, shown):
    assert AgreementEvent(detail=detail).shown_detail == shown


def test_the_coachs_timeline_is_dutch_and_the_evidence_unchanged(
    client, coach_client, coach, django_capture_on_commit_callbacks
):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    sign_as_client(client, token, django_capture_on_commit_callbacks)
    page = coach_client.get(reverse("agreement_detail", args=[agreement.public_id])).text
    stored = list(agreement.events.values_list("detail", flat=True))
    assert f"signed PDF to client → {agreement.client.email}" in stored
    assert f"ondertekende pdf naar de cliënt → {agreement.client.email}" in page
    assert "ondertekencode → " in page and "uitnodiging → " in page
    for english in ("signed PDF to", "signing code →", "invitation →", "of the signed text"):
        assert english not in page
    assert verify_chain(agreement.events.order_by("id")) is None
