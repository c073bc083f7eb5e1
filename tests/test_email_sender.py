"""A client sees who writes to him: "From: <practice> via AVG Portal", replies go to the
practice, and the messages read well on a phone."""

import pytest
from django.core import mail

from avg_portal.emails import deliver, render_message, sender

from .signing_helpers import send_for_signing
from .test_signing import archived

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_once")]


def test_the_sender_names_the_practice_and_cannot_be_forged(settings):
    settings.DEFAULT_FROM_EMAIL = "AVG Portal <noreply@avg.example.nl>"
    assert sender("Coachpraktijk De Linde") == (
        "Coachpraktijk De Linde via AVG Portal <noreply@avg.example.nl>"
    )
    assert "\n" not in sender('Evil"\r\nBcc: x@y.test')
    assert "Bcc: x@y.test via AVG Portal" in sender('Evil"\r\nBcc: x@y.test')


def test_client_emails_come_from_the_practice_via_the_platform(
    coach, client, django_capture_on_commit_callbacks, settings
):
    settings.DEFAULT_FROM_EMAIL = "AVG Portal <noreply@avg.example.nl>"
    agreement, _token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    invitation = mail.outbox[-1]
    assert invitation.from_email == (
        "Coachpraktijk De Linde via AVG Portal <noreply@avg.example.nl>"
    )
    assert invitation.reply_to == ["info@delinde.test"]
    assert 'name="viewport"' in invitation.alternatives[0][0]

    mail.outbox.clear()
    sealed = archived(coach, client, django_capture_on_commit_callbacks)
    to_client = next(m for m in mail.outbox if m.to == [sealed.client.email] and m.attachments)
    assert to_client.from_email.startswith("Coachpraktijk De Linde via AVG Portal <")
    assert to_client.body.rstrip().endswith("Met vriendelijke groet,\nCoachpraktijk De Linde")
    to_coach = next(m for m in mail.outbox if m.to != [sealed.client.email] and m.attachments)
    assert to_coach.from_email == "AVG Portal <noreply@avg.example.nl>"


def test_a_long_subject_with_a_name_reads_with_single_spaces_over_real_smtp(settings):
    """Python's email folds a long header at an encoded word (an en dash, a name with an
    ë) so that readers show two spaces there; the app's messages are not folded."""
    from .conftest import SmtpInbox, serving_smtp

    subject = "De ondertekende verwerkersovereenkomst: Coachpraktijk De Linde – Zoë Ünal-Brontë"
    with serving_smtp(settings, SmtpInbox()) as inbox:
        message = render_message(
            "confirm_email", {"link": "https://x.test/", "max_age_days": 3}, to=["z@e.test"]
        )
        message.subject = subject
        assert deliver(message).accepted
    # As a reader unfolds the header the mail server received.
    (received,) = inbox.messages
    assert received["Subject"] == subject
