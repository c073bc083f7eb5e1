import hashlib
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from agreements import signer_codes, signing
from agreements.models import (
    Agreement,
    AgreementStatus,
    ArchivedAgreementError,
    Signature,
    SigningLink,
)
from avg_portal.seal import SealInvalid, verify_seal

from .conftest import login_verified, stored_pdf
from .factories import make_agreement
from .pdf_reading import page_texts
from .signing_helpers import client_post, confirm_signer_code, data_url, send_for_signing

pytestmark = pytest.mark.django_db


def pdf_text(pdf):
    return " ".join(page_texts(pdf))


@pytest.fixture
def sent(coach, django_capture_on_commit_callbacks):
    return send_for_signing(coach, capture=django_capture_on_commit_callbacks)


def open_link(client, token, *, confirm_code=True):
    """Open the emailed link as the client does; when the practice asks for a signer code
    (the default), also ask for one and type it in, so that a POST of the form signs."""
    response = client.get(reverse("signing_open", args=[token]))
    if confirm_code and response.status_code == 302:
        link = signing.link_for_token(token)
        if signer_codes.is_required(link):
            confirm_signer_code(client)
    return response


def test_coach_signs_and_sends(sent, coach):
    agreement, token = sent
    assert agreement.status == AgreementStatus.SENT
    assert agreement.document_sha256 == hashlib.sha256(bytes(agreement.document_pdf)).hexdigest()
    assert "CONCEPT" not in pdf_text(bytes(agreement.document_pdf))
    (practice_signature,) = agreement.signatures.all()
    assert practice_signature.party == "practice"
    assert practice_signature.document_sha256 == agreement.document_sha256
    assert practice_signature.ip_address == "198.51.100.10"
    assert practice_signature.image.startswith(b"\x89PNG")

    # Only the token's hash is stored.
    (link,) = SigningLink.objects.all()
    assert link.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(SigningLink.objects.values()))
    assert len(token) >= 43  # 32 random bytes
    assert link.expires_at - link.created_at == timedelta(days=14)

    (invitation,) = mail.outbox
    assert invitation.to == [agreement.client.email]
    assert "Coachpraktijk De Linde" in invitation.subject
    assert f"/sign/{token}/" in invitation.body
    assert link.expires_at.astimezone().strftime("%-d") in invitation.body
    kinds = list(agreement.events.values_list("kind", flat=True))
    assert kinds == ["created", "signed_practice", "sent", "email_accepted"]


def test_first_visit_trades_the_token_for_a_session(client, sent):
    agreement, token = sent
    response = open_link(client, token, confirm_code=False)
    assert response.status_code == 302
    assert response.url == reverse("signing_page")
    assert token not in response.url
    page = client.get(response.url)
    assert page.status_code == 200
    assert agreement.client_name in page.text
    assert "Verwerkersovereenkomst" in page.text
    assert page.headers["Cache-Control"].startswith("max-age=0")
    download = client.get(reverse("signing_document"))
    assert download.content == bytes(agreement.document_pdf)
    kinds = list(agreement.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["opened", "viewed", "downloaded"]


def test_client_signs_and_the_sealed_pdf_is_archived_and_emailed(
    client, sent, coach, django_capture_on_commit_callbacks
):
    agreement, token = sent
    open_link(client, token)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signing_page"), client_post())
    assert response.url == reverse("signing_done")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED
    assert agreement.is_archived
    signatures = {s.party: s for s in agreement.signatures.all()}
    assert signatures["client"].name == "Zoë Ünal-Brontë"
    assert signatures["client"].document_sha256 == agreement.document_sha256
    assert not SigningLink.objects.filter(used_at=None).exists()

    stored = stored_pdf(agreement)
    assert hashlib.sha256(stored).hexdigest() == agreement.final_sha256
    verify_seal(stored)
    text = pdf_text(stored)
    assert "Zoë Ünal-Brontë" in text
    assert "Mado Remkes" in text
    assert "Bewijs van ondertekening" in text
    assert agreement.document_sha256 in text.replace(" ", "").replace("\n", "")
    assert "CONCEPT" not in text
    images = sum(len(page.images) for page in PdfReader(io.BytesIO(stored)).pages)
    assert images >= 2  # both drawn signatures

    flipped = bytearray(stored)
    flipped[len(flipped) // 2] ^= 0x01
    with pytest.raises(SealInvalid):
        verify_seal(bytes(flipped))

    recipients = sorted(tuple(m.to) for m in mail.outbox)
    assert (agreement.client.email,) in recipients
    assert any(coach.email in to for to in recipients)
    for message in mail.outbox:
        ((name, content, mimetype),) = message.attachments
        assert mimetype == "application/pdf"
        assert content == stored


@pytest.mark.usefixtures("render_once")  # about the flow, not the text
def test_replay_after_signing_shows_no_agreement(client, sent, django_capture_on_commit_callbacks):
    agreement, token = sent
    open_link(client, token)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signing_page"), client_post())
    other = type(client)()
    response = open_link(other, token)
    assert "al ondertekend" in response.text
    assert agreement.client_name not in response.text
    # The old session cannot sign again either.
    response = client.post(reverse("signing_page"), client_post(name="Nog een keer"))
    assert "al ondertekend" in response.text
    assert Signature.objects.filter(party="client").count() == 1


@pytest.mark.parametrize("bad", ["tampered", "unknown", "empty-ish"])
def test_bad_tokens_show_a_clear_page_without_agreement_data(client, sent, bad):
    agreement, token = sent
    wrong = {
        "tampered": token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),
        "unknown": "x" * 43,
        "empty-ish": "-",
    }[bad]
    response = open_link(client, wrong)
    assert response.status_code == 404
    assert "Deze link werkt niet" in response.text
    assert agreement.client_name not in response.text
    assert "signing_link_id" not in client.session


def test_expired_link(client, sent):
    agreement, token = sent
    SigningLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = open_link(client, token)
    assert "verlopen" in response.text
    assert agreement.client_name not in response.text


def test_resend_revokes_the_old_link(
    client, coach_client, sent, django_capture_on_commit_callbacks
):
    agreement, token = sent
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("agreement_resend", args=[agreement.public_id]))
    from .signing_helpers import token_from

    new_token = token_from(mail.outbox[0])
    assert new_token != token
    assert "ingetrokken of vervangen" in open_link(client, token).text
    assert open_link(client, new_token).status_code == 302


def test_withdraw_kills_the_link_and_reopen_makes_a_draft(client, coach_client, sent):
    agreement, token = sent
    url = reverse("agreement_withdraw", args=[agreement.public_id])
    assert coach_client.get(url).status_code == 405
    coach_client.post(url)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.WITHDRAWN
    assert "ingetrokken" in open_link(client, token).text
    coach_client.post(reverse("agreement_reopen", args=[agreement.public_id]))
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT
    assert not agreement.signatures.exists()
    assert agreement.document_sha256 == ""


def test_session_link_dies_when_withdrawn(client, coach_client, sent):
    agreement, token = sent
    open_link(client, token)
    coach_client.post(reverse("agreement_withdraw", args=[agreement.public_id]))
    response = client.post(reverse("signing_page"), client_post())
    assert agreement.client_name not in response.text
    assert not Signature.objects.filter(party="client").exists()


def test_decline_with_reason(client, sent, coach, django_capture_on_commit_callbacks):
    agreement, token = sent
    open_link(client, token)
    mail.outbox.clear()
    response = client.post(reverse("signing_decline"), {"reason": ""})
    assert response.status_code == 400
    assert "Dit veld is verplicht" in response.text
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signing_decline"), {"reason": "Ik wil eerst <b>overleggen</b>."})
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DECLINED
    assert agreement.decline_reason == "Ik wil eerst <b>overleggen</b>."
    (notice,) = mail.outbox
    assert coach.email in notice.to
    assert "Ik wil eerst <b>overleggen</b>." in notice.body
    html = notice.alternatives[0].content
    assert "&lt;b&gt;overleggen&lt;/b&gt;" in html

    # Opening the link again says he declined, not that the link "was already used".
    again = client.get(reverse("signing_open", args=[token]))
    assert "Je hebt geweigerd deze overeenkomst te ondertekenen" in again.text
    assert "al gebruikt" not in again.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"signature_image": ""}, "Teken je handtekening"),
        ({"signature_image": "data:image/png;base64,not-base64!"}, "kon niet worden gelezen"),
        (
            {"signature_image": "data:image/gif;base64,R0lGODlhAQABAAAAACw="},
            "Teken je handtekening",
        ),
        ({"consent": ""}, "Vink aan dat je de overeenkomst"),
        ({"name": "<script>alert(1)</script>"}, "Gebruik hier geen &lt; of &gt;"),
        ({"method": "typed", "typed_signature": ""}, "Typ je naam als handtekening"),
    ],
)
def test_bad_signing_input_is_refused(client, sent, overrides, message):
    agreement, token = sent
    open_link(client, token)
    response = client.post(reverse("signing_page"), client_post() | overrides)
    assert response.status_code == 400
    assert message in response.text
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SENT
    assert not Signature.objects.filter(party="client").exists()


def test_a_typed_signature_with_a_direction_override_gets_that_one_error(client, sent):
    agreement, token = sent
    open_link(client, token)
    typed = {"method": "typed", "typed_signature": "\u05e9\u05e8\u05d4\u202e\u05db\u05d4\u05df"}
    response = client.post(reverse("signing_page"), client_post() | typed)

    assert response.status_code == 400
    assert response.context["form"].errors["typed_signature"] == [
        "Deze tekst bevat onzichtbare stuur- of richtingstekens (U+202E). Haal ze weg (typ de "
        "tekst liever opnieuw dan hem te plakken) en probeer het opnieuw."
    ]
    assert not Signature.objects.filter(party="client").exists()


def test_non_png_and_empty_pngs_are_refused(client, sent):
    from PIL import Image

    agreement, token = sent
    open_link(client, token)
    jpeg = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(jpeg, "JPEG")
    blank = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(blank, "PNG")
    for payload, message in (
        (
            "data:image/png;base64," + __import__("base64").b64encode(jpeg.getvalue()).decode(),
            "kon niet worden gelezen",
        ),
        (data_url(blank.getvalue()), "leeg"),
    ):
        response = client.post(reverse("signing_page"), client_post(signature_image=payload))
        assert response.status_code == 400
        assert message in response.text
    assert not Signature.objects.filter(party="client").exists()


def test_oversize_signature_payload_is_refused(client, sent):
    agreement, token = sent
    open_link(client, token)
    huge = "data:image/png;base64," + "A" * (20 * 1024 * 1024)
    response = client.post(reverse("signing_page"), client_post(signature_image=huge))
    assert response.status_code == 400
    assert not Signature.objects.filter(party="client").exists()


@pytest.mark.usefixtures("render_once")  # about the flow, not the text
def test_typed_signature(client, sent, django_capture_on_commit_callbacks):
    agreement, token = sent
    open_link(client, token)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signing_page"), client_post(drawn=False))
    signature = Signature.objects.get(party="client")
    assert (signature.method, signature.name, bytes(signature.image)) == (
        "typed",
        "Zoë Ünal-Brontë",
        b"",
    )


def test_guessing_links_is_rate_limited(client, sent, settings):
    agreement, token = sent
    settings.SIGNING_LINK_GUESS_LIMIT = 3
    from django.core.cache import cache

    cache.clear()
    for n in range(3):
        assert open_link(client, f"guess{n:040d}").status_code == 404
    assert open_link(client, "guess-again" + "x" * 40).status_code == 429
    # Even the right token waits out the cool-off from this address.
    assert open_link(client, token).status_code == 429
    cache.clear()


def archived(coach, client, capture):
    agreement, token = send_for_signing(coach, capture=capture)
    open_link(client, token)
    with capture(execute=True):
        client.post(reverse("signing_page"), client_post())
    agreement.refresh_from_db()
    return agreement


def test_an_archived_agreement_is_immutable(
    client, coach_client, coach, django_capture_on_commit_callbacks, monkeypatch
):
    agreement = archived(coach, client, django_capture_on_commit_callbacks)
    stored = stored_pdf(agreement)
    agreement.client_name = "Vervalst"
    with pytest.raises(ArchivedAgreementError):
        agreement.save()
    with pytest.raises(ArchivedAgreementError):
        Agreement.objects.get(pk=agreement.pk).delete()
    # The views refuse as well, and downloads serve the stored file, never a new render.
    from agreements import documents

    monkeypatch.setattr(documents, "render_pdf", lambda *a, **k: pytest.fail("rendered"))
    monkeypatch.setattr(documents, "render_agreement_pdf", lambda *a, **k: pytest.fail("rendered"))
    response = coach_client.get(reverse("agreement_pdf", args=[agreement.public_id]))
    assert b"".join(response.streaming_content) == stored
    coach_client.post(reverse("agreement_delete", args=[agreement.public_id]))
    coach_client.post(reverse("agreement_withdraw", args=[agreement.public_id]))
    coach_client.post(reverse("agreement_reopen", args=[agreement.public_id]))
    assert (
        coach_client.get(reverse("agreement_edit", args=[agreement.public_id])).status_code == 302
    )
    fresh = Agreement.objects.get(pk=agreement.pk)
    assert fresh.status == AgreementStatus.SIGNED
    assert fresh.client_name == "Zoë Ünal-Brontë"
    assert fresh.final_sha256 == hashlib.sha256(stored).hexdigest()
    # Completing again changes nothing.
    assert signing.complete(agreement.key) is None


@pytest.mark.usefixtures("render_once")  # about the flow, not the text
def test_verification_page(client, coach, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = archived(coach, client, django_capture_on_commit_callbacks)
    stored = stored_pdf(agreement)
    anonymous = type(client)()

    def check(data):
        upload = SimpleUploadedFile("x.pdf", data, content_type="application/pdf")
        return anonymous.post(reverse("verify"), {"document": upload}).text

    genuine = check(stored)
    assert "Echt en onveranderd" in genuine
    assert agreement.client_name not in genuine
    flipped = bytearray(stored)
    flipped[-500] ^= 0x01
    assert "Niet bevestigd" in check(bytes(flipped))
    assert "Niet bevestigd" in check(bytes(agreement.document_pdf))
    assert "Niet bevestigd" in check(b"not a pdf")


def test_reminders_and_expiry(coach, django_capture_on_commit_callbacks, settings):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    link = SigningLink.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert signing.expire_and_remind(now=link.created_at + timedelta(days=2)) == (0, 0)
        assert signing.expire_and_remind(now=link.created_at + timedelta(days=3, hours=1)) == (0, 1)
    (reminder,) = mail.outbox
    assert reminder.subject.startswith("Herinnering")
    from .signing_helpers import token_from

    new_token = token_from(reminder)
    assert new_token != token
    new_link = signing.link_for_token(new_token)
    assert new_link.expires_at == link.expires_at
    assert signing.link_for_token(token).is_usable(link.created_at + timedelta(days=4))

    mail.outbox.clear()
    # One more after another three days, then no more (at most two). Each run's email goes
    # out when its transaction commits: a reminder counts once it was delivered.
    for days, hours in ((6, 2), (9, 3), (12, 4)):
        with django_capture_on_commit_callbacks(execute=True):
            signing.expire_and_remind(now=link.created_at + timedelta(days=days, hours=hours))
    assert len(mail.outbox) == settings.SIGNING_MAX_REMINDERS - 1
    # Past the end date: expired, and no reminder.
    mail.outbox.clear()
    assert signing.expire_and_remind(now=link.expires_at + timedelta(minutes=1)) == (1, 0)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.EXPIRED
    assert mail.outbox == []


def test_email_failure_is_recorded_and_shown(
    coach_client, coach, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    agreement = make_agreement(coach.practice)
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            reverse("agreement_send", args=[agreement.public_id]),
            client_post(name="Mado Remkes", function="Coach", place="Tilburg"),
            follow=True,
        )
    # The coach sees it on the agreement's page (in a real request the email goes out
    # before the redirect; the test runs the after-commit work when the view has answered).
    page = coach_client.get(reverse("agreement_detail", args=[agreement.public_id]))
    assert "kon niet worden verstuurd" in page.text
    # In words, not the socket's English: "[Errno 111] Connection refused".
    assert "de mailserver was niet bereikbaar" in page.text
    assert "Errno" not in page.text and "Connection refused" not in page.text
    assert response.status_code == 200
    link = SigningLink.objects.get()
    assert link.email_failed_at is not None
    assert agreement.events.filter(kind="email_failed").exists()
    assert not agreement.events.filter(kind="email_accepted").exists()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("agreement_send", "get"),
        ("agreement_send", "post"),
        ("agreement_withdraw", "post"),
        ("agreement_resend", "post"),
        ("agreement_reopen", "post"),
        ("agreement_pdf", "get"),
        ("agreement_detail", "get"),
    ],
)
def test_stranger_gets_404_on_signing_urls(client, sent, stranger, name, method):
    agreement, token = sent
    login_verified(client, stranger)
    response = getattr(client, method)(reverse(name, args=[agreement.public_id]))
    assert response.status_code == 404
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SENT


def test_the_coach_signs_with_her_own_name_which_is_remembered(
    coach_client, coach, django_capture_on_commit_callbacks
):
    """Not the practice's name: the first time the name field is empty, and the name she
    signs with is offered the next time."""
    first, second = make_agreement(coach.practice), make_agreement(coach.practice)
    page = coach_client.get(reverse("agreement_send", args=[first.public_id]))
    assert page.context["form"]["name"].value() in ("", None)
    assert 'value="Coachpraktijk De Linde"' not in page.text
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            reverse("agreement_send", args=[first.public_id]),
            client_post(name="Mado Remkes", function="Coach", place="Tilburg"),
        )
    coach.refresh_from_db()
    assert coach.full_name == "Mado Remkes"
    page = coach_client.get(reverse("agreement_send", args=[second.public_id]))
    assert page.context["form"]["name"].value() == "Mado Remkes"


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("[Errno 111] Connection refused", "de mailserver was niet bereikbaar"),
        ("timed out", "de mailserver antwoordde niet op tijd"),
        ("[Errno -2] Name or service not known", "de mailserver werd niet gevonden"),
        ("Connection unexpectedly closed", "de verbinding met de mailserver werd verbroken"),
        (
            "{'zoe@example.test': (550, b'5.1.1 <zoe@example.test>: User unknown')}",
            "de mailserver weigerde de e-mail (550 5.1.1 <zoe@example.test>: User unknown)",
        ),
        (
            "(535, b'5.7.8 Authentication credentials invalid')",
            "de mailserver weigerde de aanmelding van de app (535 5.7.8 Authentication "
            "credentials invalid)",
        ),
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            "de beveiligde verbinding met de mailserver mislukte",
        ),
        ("Something nobody expected", "de mailserver gaf een foutmelding"),
        ("", ""),
    ],
)
def test_a_delivery_error_is_shown_in_words(error, shown):
    from avg_portal.emails import shown_mail_error

    assert shown_mail_error(error) == shown
