"""No email is lost: every message goes through the outbox, a refusal is tried again later,
and the evidence says what the mail server answered, first and last. A real SMTP server
(aiosmtpd) refuses and then accepts."""

import re
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.tasks import task_backends
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from agreements import notices, signing
from agreements.models import AgreementEvent, SigningLink
from agreements.signing import SignatureInput
from avg_portal import emails
from avg_portal.emails import deliver_due_messages
from avg_portal.models import OutboxMessage, User
from breaches.models import BreachUpdate, ClientNotification
from core.origin import Origin

from .conftest import PASSWORD, SmtpInbox, _free_port, login_verified, serving_smtp
from .factories import make_agreement
from .signing_helpers import client_post, signature_png
from .test_breaches import log_breach

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = pytest.mark.usefixtures("render_once")

Status = OutboxMessage.Status
Kind = AgreementEvent.Kind


class FlakyInbox(SmtpInbox):
    """A mail server that answers "try again later" to every message until told otherwise."""

    def __init__(self, *, delay=0.0):
        super().__init__()
        self.refusing = True
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refusing:
            return "451 4.3.0 Mailbox busy, try again later"
        if self.delay:
            time.sleep(self.delay)  # hold the sender, so that concurrent senders overlap
        return await super().handle_DATA(server, session, envelope)

    def plain(self, message):
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def flaky_smtp(settings):
    with serving_smtp(settings, FlakyInbox()) as inbox:
        yield inbox


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def coach_origin(coach):
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.10", HTTP_USER_AGENT="Test/1.0")
    request.user = coach
    return Origin.of_coach(request)


def sign_and_send(coach, capture):
    agreement = make_agreement(coach.practice)
    signature = SignatureInput(
        name="Mado Remkes", function="Coach", place="Tilburg", method="drawn", image=signature_png()
    )
    with capture(execute=True):
        signing.agreement_sign_and_send(
            agreement=agreement, signature=signature, origin=coach_origin(coach)
        )
    return agreement


def token_in(inbox, message):
    return re.search(r"/sign/([A-Za-z0-9_-]{40,})/", inbox.plain(message)).group(1)


def details(agreement, kind):
    return sorted(agreement.events.filter(kind=kind).values_list("detail", flat=True))


def test_every_message_is_delivered_once_when_the_mail_server_comes_back(
    client, coach, flaky_smtp, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    # A signer code needs a mail server that answers; this test is about the outbox.
    coach.practice.signer_code_required = False
    coach.practice.save(update_fields=["signer_code_required"])
    # The mail server refuses: an invitation, a breach notice, a sign-up confirmation.
    agreement = sign_and_send(coach, capture)
    zoe = agreement.client
    breach = log_breach(coach.practice, coach, clients=[zoe])
    coach_client = login_verified(type(client)(), coach)
    with capture(execute=True):
        coach_client.post(reverse("breach_notify", args=[breach.public_id]), {"clients": [zoe.pk]})
    with capture(execute=True):
        client.post(
            reverse("signup"),
            {
                "email": "nieuw@praktijk.test",
                "practice_name": "Nieuwe praktijk",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )

    assert flaky_smtp.messages == []
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.QUEUED, 1)}
    # The first failure is on the evidence, and the coach sees it.
    link = SigningLink.objects.get()
    assert link.email_failed_at is not None and "451" in link.email_error
    (failed,) = details(agreement, Kind.EMAIL_FAILED)
    assert failed.startswith(f"invitation → {zoe.email}: ") and failed.endswith("(tried again)")
    page = coach_client.get(reverse("agreement_detail", args=[agreement.public_id]))
    assert "kon niet worden verstuurd" in page.text and "opnieuw op" in page.text
    (notification,) = ClientNotification.objects.all()
    assert notification.delivered is False and "451" in notification.error
    assert breach.updates.filter(kind=BreachUpdate.Kind.EMAIL_FAILED).count() == 1

    # Not due yet: nothing is tried. Then the mail server accepts, and the sweep sends all.
    assert deliver_due_messages() == 0
    flaky_smtp.refusing = False
    assert deliver_due_messages(now=later(2)) == 3
    assert deliver_due_messages(now=later(600)) == 0
    assert sorted(m["To"] for m in flaky_smtp.messages) == sorted(
        [zoe.email, zoe.email, "nieuw@praktijk.test"]
    )
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 2)}
    # Once sent, the outbox forgets what it said and to whom (the link's token, the client).
    forgotten = OutboxMessage.objects.values_list("to", "subject", "body_text", "attachment")
    assert all(row == ([], "", "", b"") for row in forgotten)
    link.refresh_from_db()
    assert link.last_emailed_at is not None and link.email_failed_at is None
    assert details(agreement, Kind.EMAIL_ACCEPTED) == [f"invitation → {zoe.email}"]
    notification.refresh_from_db()
    assert notification.delivered is True and notification.error == ""
    breach.refresh_from_db()
    assert breach.clients_informed_at is not None
    # The breach's timeline has both, in Dutch: the refusal and the delivery.
    accepted = breach.updates.get(kind=BreachUpdate.Kind.EMAIL_ACCEPTED)
    assert accepted.text == f"breach notification → {zoe.email}"
    timeline = coach_client.get(reverse("breach_detail", args=[breach.public_id])).text
    assert f"melding aan de cliënt → {zoe.email}: de mailserver weigerde de e-mail (451" in timeline
    assert "wordt opnieuw geprobeerd" in timeline
    assert f"melding aan de cliënt → {zoe.email}<" in timeline
    assert "breach notification" not in timeline and "tried again" not in timeline
    page = coach_client.get(reverse("agreement_detail", args=[agreement.public_id]))
    assert "De mailserver heeft de e-mail met de link op" in page.text

    # The client signs; the mail server refuses the sealed copies, then accepts them.
    flaky_smtp.refusing = True
    (invitation,) = flaky_smtp.to(zoe.email)[:1]
    client.get(reverse("signing_open", args=[token_in(flaky_smtp, invitation)]))
    with capture(execute=True):
        client.post(reverse("signing_page"), client_post())
    agreement.refresh_from_db()
    assert agreement.is_archived
    assert len(details(agreement, Kind.EMAIL_FAILED)) == 3
    flaky_smtp.refusing = False
    assert deliver_due_messages(now=later(2)) == 2
    assert deliver_due_messages(now=later(600)) == 0
    sealed = [m for m in flaky_smtp.messages if m.get_content_type() == "multipart/mixed"]
    to_coach = ", ".join(coach.practice.notice_recipients())
    assert sorted(m["To"] for m in sealed) == sorted([zoe.email, to_coach])
    for message in sealed:
        (attachment,) = message.iter_attachments()
        assert attachment.get_content() == agreement.final_pdf.open("rb").read()
    assert details(agreement, Kind.EMAIL_ACCEPTED) == sorted(
        [
            f"invitation → {zoe.email}",
            f"signed PDF to client → {zoe.email}",
            f"signed PDF to coach → {to_coach}",
        ]
    )
    assert len(flaky_smtp.messages) == 5


def test_reminders_count_only_when_delivered(
    coach, flaky_smtp, settings, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    settings.SIGNING_MAX_REMINDERS = 1
    flaky_smtp.refusing = False
    agreement = sign_and_send(coach, capture)
    first = SigningLink.objects.get()
    start = first.created_at
    flaky_smtp.refusing = True

    with capture(execute=True):
        assert signing.expire_and_remind(now=start + timedelta(days=3, hours=1)) == (0, 1)
    reminder_link = SigningLink.objects.exclude(pk=first.pk).get()
    assert reminder_link.reminders_sent == 0
    # While it waits in the outbox, no second reminder follows it.
    assert signing.expire_and_remind(now=start + timedelta(days=6, hours=2)) == (0, 0)
    # The outbox gives up after about a day of tries; the coach's evidence says so.
    moment = timezone.now()
    for _ in emails.RETRY_PAUSES:
        moment += timedelta(hours=13)
        deliver_due_messages(now=moment)
    message = notices.link_email(reminder_link)
    assert (message.status, message.attempts) == (Status.FAILED, len(emails.RETRY_PAUSES) + 1)
    last = agreement.events.filter(kind=Kind.EMAIL_FAILED).latest("id")
    assert last.detail.startswith(f"reminder → {agreement.client.email}: ")
    assert last.detail.endswith("(given up)")
    reminder_link.refresh_from_db()
    assert reminder_link.reminders_sent == 0

    # It never arrived, so it did not count: the next run reminds again, and that one does.
    flaky_smtp.refusing = False
    with capture(execute=True):
        assert signing.expire_and_remind(now=start + timedelta(days=6, hours=3)) == (0, 1)
    assert [m["Subject"].startswith("Herinnering") for m in flaky_smtp.messages] == [
        False,
        True,
    ]
    assert sum(link.reminders_sent for link in SigningLink.objects.all()) == 1
    with capture(execute=True):
        assert signing.expire_and_remind(now=start + timedelta(days=9, hours=4)) == (0, 0)
    assert len(flaky_smtp.messages) == 2


@pytest.mark.django_db(transaction=True)
def test_sign_up_while_the_mail_server_is_down_and_resend_when_it_is_back(client, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _free_port(), "timeout": 2},
        }
    }
    data = {
        "email": "zoe@praktijk-unal.test",
        "practice_name": "Praktijk Zoë Ünal",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    response = client.post(reverse("signup"), data)
    assert response.status_code == 200
    assert "Er volgt een e-mail met een link naar" in response.text
    user = User.objects.get()
    (queued,) = OutboxMessage.objects.all()
    assert (queued.status, queued.attempts, queued.to) == (Status.QUEUED, 1, [user.email])
    # Trying again finds the account: it exists once.
    assert "bestaat al" in client.post(reverse("signup"), data).text
    assert User.objects.count() == 1

    # The mail server is back; "send a new link" sends one at once.
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
            }
        }
        client.post(reverse("resend_confirmation"), {"email": user.email})
        (message,) = inbox.to(user.email)
        body = message.get_body(preferencelist=("plain",)).get_content()
        path = re.search(r"https?://[^/\s]+(/\S+)", body).group(1)
        assert client.post(path).status_code == 302
        user.refresh_from_db()
        assert user.email_confirmed
        # The first message still goes out once, from the sweep; nothing twice.
        assert deliver_due_messages(now=later(2)) == 1
        assert deliver_due_messages(now=later(600)) == 0
        assert len(inbox.messages) == 2
    finally:
        controller.stop()


def test_a_refused_message_asks_the_worker_to_try_again_later(
    coach, flaky_smtp, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # A backend that can hold a task for later (the database queue can; the immediate one
    # of the tests cannot, and leaves retries to the sweep).
    monkeypatch.setitem(
        task_backends.__dict__,
        "settings",
        task_backends.settings | {"later": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}},
    )
    monkeypatch.setattr(
        emails, "deliver_outbox_message", emails.deliver_outbox_message.using(backend="later")
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = notices.send_declined(make_agreement(coach.practice))
    (first,) = task_backends["later"].results
    assert first.args == [message.pk] and first.task.run_after is None
    with django_capture_on_commit_callbacks(execute=True):
        assert emails.send_queued(message.pk).accepted is False
    message.refresh_from_db()
    retry = task_backends["later"].results[-1]
    assert retry.args == [message.pk]
    assert retry.task.run_after == message.next_attempt_at
    assert message.next_attempt_at - timezone.now() <= emails.RETRY_PAUSES[0]


def test_a_failing_handler_does_not_make_the_outbox_send_twice(
    coach, flaky_smtp, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(message, delivery):
        raise RuntimeError("the evidence store is down")

    monkeypatch.setitem(emails._handlers, notices.DECLINED, broken)
    flaky_smtp.refusing = False
    with django_capture_on_commit_callbacks(execute=True):
        message = notices.send_declined(make_agreement(coach.practice))
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert deliver_due_messages(now=later(600)) == 0
    assert len(flaky_smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_message_once(settings):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's")
    inbox = FlakyInbox(delay=0.05)
    inbox.refusing = False
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    count = 12
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            purpose="test.concurrency",
            sender="noreply@example.test",
            to=[f"client{number}@example.test"],
            subject=f"Bericht {number}",
            body_text="Hallo",
        )
        for number in range(count)
    )
    accepted = []
    start = threading.Barrier(3)

    def sweep():
        try:
            start.wait()
            accepted.append(deliver_due_messages())
        finally:
            connection.close()

    try:
        sweepers = [threading.Thread(target=sweep) for _ in range(3)]
        for sweeper in sweepers:
            sweeper.start()
        for sweeper in sweepers:
            sweeper.join(timeout=60)
    finally:
        controller.stop()
    assert sum(accepted) == count
    assert sorted(m["To"] for m in inbox.messages) == sorted(
        f"client{number}@example.test" for number in range(count)
    )
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


@pytest.mark.django_db
def test_a_message_sent_again_after_a_crash_has_the_same_message_id(settings, monkeypatch):
    """The worker dies after the mail server took a message and before that was written
    down: the outbox sends it again (nothing may be lost), with the same Message-ID, so that
    mail programs show it once."""
    with serving_smtp(settings, SmtpInbox()) as inbox:
        message = emails.render_message(
            "confirm_email", {"link": "https://x.test/", "max_age_days": 3}, to=["zoe@e.test"]
        )
        with monkeypatch.context() as dying:
            row = emails.queue(message, purpose="confirm_email")
            dying.setattr(emails, "_record_attempt", _die)
            with pytest.raises(SystemExit):
                emails.send_queued(row.pk)
        row.refresh_from_db()
        assert row.status == OutboxMessage.Status.QUEUED
        assert emails.send_queued(row.pk).accepted
    first, again = inbox.messages
    assert first["Message-ID"] == again["Message-ID"] == emails.message_id(row)


def _die(*args, **kwargs):
    raise SystemExit("the worker was killed")


@pytest.mark.django_db
def test_a_signer_code_mail_server_down_says_so_and_sends_no_dead_codes(
    client, coach, flaky_smtp, django_capture_on_commit_callbacks
):
    """While the mail server refuses, the client reads that his code could not be sent yet
    (not "we sent a code"). When it is back, only the code that still works goes out: not
    the ones a newer code replaced, nor one that expired meanwhile."""
    from agreements.models import SignerCode

    capture = django_capture_on_commit_callbacks
    flaky_smtp.refusing = False
    agreement = sign_and_send(coach, capture)
    token = token_in(flaky_smtp, flaky_smtp.messages[-1])
    flaky_smtp.refusing = True
    client.get(reverse("signing_open", args=[token]))
    for _ in range(3):
        with capture(execute=True):
            client.post(reverse("signing_send_code"))
    # (The worker tries right after the request; the page says so from then on.)
    page = client.get(reverse("signing_page")).text
    assert "kon nog niet worden verstuurd" in page
    # Not also "we sent a code", not even for a screen reader.
    assert "een code van 6 cijfers gestuurd" not in page
    rows = OutboxMessage.objects.filter(purpose=notices.SIGNER_CODE).order_by("id")
    assert [(r.status, r.attempts) for r in rows] == [(Status.QUEUED, 1)] * 3

    flaky_smtp.refusing = False
    assert deliver_due_messages(now=later(30)) == 1
    codes = [m for m in flaky_smtp.messages if "code" in m["Subject"].lower()]
    assert len(codes) == 1
    newest = SignerCode.objects.order_by("-id").first()
    assert emails.message_id(rows.last()) == codes[0]["Message-ID"]
    assert [r.status for r in rows.all()] == [Status.FAILED, Status.FAILED, Status.SENT]
    assert {r.last_error for r in rows.all()[:2]} == {emails.NO_LONGER_WANTED}
    assert newest.pk == int(rows.last().subject_id)
    # The coach's timeline says why, in words.
    shown = [e.shown_detail for e in agreement.events.filter(kind=Kind.EMAIL_FAILED)]
    assert any("niet meer geldig toen hij verstuurd kon worden" in d for d in shown)

    # A code that expires while the mail server is down is not sent either.
    flaky_smtp.refusing = True
    with capture(execute=True):
        client.post(reverse("signing_send_code"))
    expired = SignerCode.objects.order_by("-id").first()
    SignerCode.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    flaky_smtp.refusing = False
    before = len(flaky_smtp.messages)
    assert deliver_due_messages(now=later(30)) == 0
    assert len(flaky_smtp.messages) == before
    assert OutboxMessage.objects.filter(subject_id=str(expired.pk)).get().status == Status.FAILED


def test_a_password_reset_while_the_mail_server_refuses_is_sent_when_it_is_back(
    client, coach, flaky_smtp, settings, django_capture_on_commit_callbacks
):
    """The reset email goes through the outbox as every other one: the page answers at
    once, the email goes out when the mail server takes it again, and not once the link in
    it has expired. (Sent while the page waited, a hanging mail server held the page for
    its timeout and then gave an error, and the email was never sent.)"""
    settings.SITE_URL = "https://avg.example.nl"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": coach.email})
    assert response.status_code == 302
    (queued,) = OutboxMessage.objects.filter(purpose=emails.PASSWORD_RESET)
    assert (queued.status, queued.attempts, queued.to) == (Status.QUEUED, 1, [coach.email])

    flaky_smtp.refusing = False
    assert deliver_due_messages(now=later(2)) == 1
    (message,) = flaky_smtp.to(coach.email)
    path = re.search(r"https://avg\.example\.nl(/\S+)", flaky_smtp.plain(message)).group(1)
    assert client.get(path, follow=True).status_code == 200

    # A second request while the mail server refuses again, which it does for longer than
    # the link lives: given up, not sent.
    flaky_smtp.refusing = True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": coach.email})
    flaky_smtp.refusing = False
    OutboxMessage.objects.filter(purpose=emails.PASSWORD_RESET, status=Status.QUEUED).update(
        created_at=timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    )
    assert deliver_due_messages(now=later(600)) == 0
    assert len(flaky_smtp.to(coach.email)) == 1
    assert (
        OutboxMessage.objects.filter(purpose=emails.PASSWORD_RESET, status=Status.FAILED).count()
        == 1
    )


@pytest.mark.django_db
def test_an_invitation_whose_link_was_replaced_meanwhile_is_not_sent(
    client, coach, flaky_smtp, django_capture_on_commit_callbacks
):
    """The mail server refused the invitation; the coach corrected the client's address and
    sent a new link. When the server is back, only the new invitation goes out: the old one
    would carry a dead link, perhaps to the wrong address."""
    capture = django_capture_on_commit_callbacks
    agreement = sign_and_send(coach, capture)
    zoe = agreement.client
    zoe.email = "juist@example.test"
    zoe.save(update_fields=["email"])
    with capture(execute=True):
        signing.agreement_resend(agreement=agreement, origin=coach_origin(coach))
    old, new = OutboxMessage.objects.filter(purpose=notices.INVITATION).order_by("id")

    flaky_smtp.refusing = False
    assert deliver_due_messages(now=later(30)) == 1
    assert [m["To"] for m in flaky_smtp.messages] == ["juist@example.test"]
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, old.last_error) == (Status.FAILED, emails.NO_LONGER_WANTED)
    assert new.status == Status.SENT
    # The history says why the first one was not sent.
    shown = [e.shown_detail for e in agreement.events.filter(kind=Kind.EMAIL_FAILED)]
    assert any("niet meer geldig toen hij verstuurd kon worden" in d for d in shown)


class UnknownUserInbox(SmtpInbox):
    """A mail server that knows no such mailbox: a refusal no retry mends."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return "550 5.1.1 User unknown"


@pytest.mark.django_db
def test_an_address_the_mail_server_does_not_know_is_given_up_at_once(
    coach, settings, django_capture_on_commit_callbacks
):
    """Trying a wrong address for a day sends nothing: the coach hears at once that the
    email was given up, and the agreement's page leads her to correct the address."""
    with serving_smtp(settings, UnknownUserInbox()):
        agreement = sign_and_send(coach, django_capture_on_commit_callbacks)
    (row,) = OutboxMessage.objects.filter(purpose=notices.INVITATION)
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert "550" in row.last_error
    (failed,) = details(agreement, Kind.EMAIL_FAILED)
    assert failed.endswith("(given up)")
    page = login_verified(Client(), coach).get(
        reverse("agreement_detail", args=[agreement.public_id])
    )
    assert "We proberen het niet meer: controleer het adres" in page.text
    assert reverse("client_edit", args=[agreement.client.public_id]) in page.text
    assert "Verbeter het e-mailadres van de cliënt" in page.text
    # A refused login is the app's own setting, mended by the operator: tried again.
    assert not emails.refused_for_good("(535, b'5.7.8 Authentication credentials invalid')")
    assert not emails.refused_for_good("(451, b'4.3.0 Mailbox busy')")
    assert emails.refused_for_good("{'zoe@example.test': (553, b'5.1.3 Bad address')}")
