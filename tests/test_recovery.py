"""Sealing heals itself: a completion lost to a dead worker or a full disk is found by the
recovery sweep and run again, with growing pauses, until the document is sealed exactly once;
after repeated failure the coach and the operator hear of it once."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import OperationalError, connection
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agreements import archive, recovery, signing
from agreements.models import AgreementEvent, AgreementStatus
from agreements.signing import complete, complete_signed_document
from avg_portal.seal import verify_seal

from .signing_helpers import client_post, confirm_signer_code, send_for_signing

# Storing, sealing and serving documents, not what they say: see conftest.rendered_once.
pytestmark = pytest.mark.usefixtures("render_once")

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
OPERATOR = "beheer@avg-portal.test"


@pytest.fixture(autouse=True)
def _operators(settings):
    settings.ADMINS = [OPERATOR]


def client_signs(http_client, token, capture):
    http_client.get(reverse("signing_open", args=[token]))
    confirm_signer_code(http_client)
    with capture(execute=True):
        response = http_client.post(reverse("signing_page"), client_post())
    assert response.status_code == 302


def stored_files():
    root = Path(default_storage.location)
    return sorted(p for p in root.rglob("*.pdf")) if root.exists() else []


def assert_sealed_once(agreement):
    agreement.refresh_from_db()
    assert agreement.is_archived
    pdf = archive.read_verified(agreement.final_pdf, agreement.final_sha256)
    assert verify_seal(pdf) is not None
    assert agreement.events.filter(kind=AgreementEvent.Kind.COMPLETED).count() == 1
    assert stored_files() == [Path(default_storage.path(agreement.final_pdf.name))]


def run_queued_tasks(capture):
    """What db_worker does with each ready task, in this process (tests cannot let a
    worker close the connection that holds their transaction), until none is left: a task
    may queue more after its commit (the emails)."""
    while (result := DBTaskResult.objects.ready().first()) is not None:
        result.claim("test-worker")
        with capture(execute=True):
            try:
                result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
            except Exception as error:
                result.set_failed(error)
            else:
                result.set_successful(None)


def completion_tasks(status):
    return DBTaskResult.objects.filter(
        task_path=complete_signed_document.module_path, status=status
    )


def full_disk(self, name, content):
    """FileSystemStorage._save on a full disk: part of the file is written, then it fails."""
    path = Path(self.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.read()[:100])
    raise OSError(28, "No space left on device")


@pytest.mark.django_db
def test_a_completion_left_running_by_a_dead_worker_is_sealed_once(
    client, coach, settings, django_capture_on_commit_callbacks
):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    settings.TASKS = DATABASE_QUEUE
    client_signs(client, token, django_capture_on_commit_callbacks)
    # The worker claimed the completion and died: the task says RUNNING, nothing was sealed.
    started = timezone.now()
    completion_tasks(TaskResultStatus.READY).update(
        status=TaskResultStatus.RUNNING, started_at=started, worker_ids=["killed"]
    )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED and not agreement.is_archived

    # Too early: the last signature is recent and the task young.
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery.recover_unsealed(now=started + timedelta(minutes=2)).queued == 0
    later = started + recovery.DEAD_AFTER + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = recovery.recover_unsealed(now=later)
    assert (outcome.dead_tasks, outcome.queued, outcome.alerted) == (1, 1, 0)
    (dead,) = completion_tasks(TaskResultStatus.FAILED)
    assert dead.exception_class_path == "agreements.recovery.WorkerLost"

    mail.outbox.clear()
    run_queued_tasks(django_capture_on_commit_callbacks)
    assert_sealed_once(agreement)
    copies = [m for m in mail.outbox if m.attachments]
    assert sorted(address for m in copies for address in m.to) == sorted(
        [agreement.client.email, *agreement.practice.notice_recipients()]
    )

    # Completing again, or sweeping again, changes nothing and sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert complete(agreement.key) is None
        assert recovery.recover_unsealed(now=later + timedelta(hours=5)).queued == 0
    run_queued_tasks(django_capture_on_commit_callbacks)
    assert_sealed_once(agreement)
    assert [m for m in mail.outbox if m.attachments] == copies


@pytest.mark.django_db
def test_a_queue_that_fails_after_the_signature_shows_the_client_no_error(
    client, coach, settings, django_capture_on_commit_callbacks, monkeypatch
):
    """The database answers the signature's commit and then fails the sealing task's
    enqueue: the signature is stored, the client sees the signed page (not an error that
    makes her sign again), and the sweep seals it once."""
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)

    class QueueDown:
        def enqueue(self, *args, **kwargs):
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(signing, "complete_signed_document", QueueDown())
    client_signs(client, token, django_capture_on_commit_callbacks)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED and not agreement.is_archived
    monkeypatch.undo()

    signed_at = agreement.signatures.latest("signed_at").signed_at
    with django_capture_on_commit_callbacks(execute=True):
        outcome = recovery.recover_unsealed(now=signed_at + recovery.GRACE * 2)
    assert outcome.queued == 1
    assert_sealed_once(agreement)


def test_a_full_disk_leaves_no_file_and_sealing_is_retried_with_growing_pauses(
    client, coach, monkeypatch, django_capture_on_commit_callbacks
):
    agreement, token = send_for_signing(coach, capture=django_capture_on_commit_callbacks)
    monkeypatch.setattr(FileSystemStorage, "_save", full_disk)
    client_signs(client, token, django_capture_on_commit_callbacks)
    agreement.refresh_from_db()
    assert not agreement.is_archived and not agreement.final_pdf
    assert "No space left on device" in agreement.seal_error
    assert stored_files() == []
    assert not agreement.events.filter(kind=AgreementEvent.Kind.COMPLETED).exists()

    mail.outbox.clear()
    now = timezone.now() + recovery.GRACE
    pauses = []
    for _attempt in range(recovery.ALERT_AFTER + 1):
        with django_capture_on_commit_callbacks(execute=True):
            recovery.recover_unsealed(now=now)
        agreement.refresh_from_db()
        pauses.append(agreement.seal_retry_at - now)
        # Nothing is tried again before the pause is over.
        with django_capture_on_commit_callbacks(execute=True):
            assert recovery.recover_unsealed(now=now + timedelta(seconds=30)).queued == 0
        now = agreement.seal_retry_at
    assert [p.total_seconds() // 60 for p in pauses] == [1, 5, 15, 60, 60, 60]
    assert agreement.seal_attempts == recovery.ALERT_AFTER + 1
    assert stored_files() == []

    # Told once: the operator, and the coach by email (and on the agreement's page).
    (operator,) = [m for m in mail.outbox if "Sealing keeps failing" in m.subject]
    assert operator.to == [OPERATOR]
    assert str(agreement.public_id) in operator.subject
    assert "No space left on device" in operator.body
    (coach_mail,) = [m for m in mail.outbox if "laat op zich wachten" in m.subject]
    assert coach_mail.to == agreement.practice.notice_recipients()
    assert f"{agreement.client_name} heeft de verwerkersovereenkomst ondertekend" in coach_mail.body
    assert agreement.seal_alerted_at is not None

    # Space is freed: the next sweep seals it, once.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery.recover_unsealed(now=now).queued == 1
    assert_sealed_once(agreement)
    assert agreement.seal_error == ""
    copies = [m for m in mail.outbox if m.attachments]
    assert len(copies) == 2


@pytest.mark.django_db
def test_every_task_a_killed_worker_left_running_is_marked_failed_in_time(settings):
    """Not only completions: an email, a processing-record entry or an export whose worker
    was killed said RUNNING for ever. Their work is taken up by their own sweeps; the task
    rows say what happened once no task could still be running."""
    from avg_portal.emails import deliver_outbox_message
    from records.record_entries import render_record_entry

    settings.TASKS = DATABASE_QUEUE
    now = timezone.now()
    email = deliver_outbox_message.enqueue(1)
    entry = render_record_entry.enqueue(1)
    DBTaskResult.objects.filter(pk__in=[email.id, entry.id]).update(
        status=TaskResultStatus.RUNNING, started_at=now, worker_ids=["killed"]
    )

    assert recovery.recover_unsealed(now=now + recovery.DEAD_AFTER * 2).dead_tasks == 0
    outcome = recovery.recover_unsealed(now=now + recovery.ANY_TASK_DEAD_AFTER * 1.1)

    assert outcome.dead_tasks == 2
    for task in DBTaskResult.objects.filter(pk__in=[email.id, entry.id]):
        assert task.status == TaskResultStatus.FAILED
        assert task.exception_class_path == "agreements.recovery.WorkerLost"


@pytest.mark.django_db
def test_the_worker_keeps_exactly_one_sweep_scheduled(settings):
    settings.TASKS = DATABASE_QUEUE
    sweeps = DBTaskResult.objects.filter(task_path=recovery.sweep_sealing.module_path)
    assert recovery.schedule_sweep() is True
    assert recovery.schedule_sweep() is False
    (pending,) = sweeps
    assert pending.run_after > timezone.now() + recovery.SWEEP_EVERY - timedelta(seconds=10)

    # The worker runs it: it queues its successor and sweeps.
    pending.claim("worker")
    recovery.sweep_sealing.call()
    assert sweeps.filter(status=TaskResultStatus.READY).count() == 1

    # The command for cron does the same: sweeps, and leaves the one pending sweep alone.
    call_command("recover_sealing")
    assert sweeps.filter(status=TaskResultStatus.READY).count() == 1


def test_without_a_database_queue_cron_does_the_sweeping(db):
    assert recovery.schedule_sweep() is False


# A real worker, really killed ------------------------------------------------------------


def start_worker(*args, media_root, email_url):
    """`manage.py db_worker` in its own process, on this test's database."""
    database = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "DJANGO_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DJANGO_DEBUG": "1",
        "DJANGO_MEDIA_ROOT": str(media_root),
        "DJANGO_EMAIL_URL": email_url,
    }
    command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"]
    return subprocess.Popen(
        [*command, "--interval", "0.1", *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, *, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_db_worker_killed_mid_seal_loses_nothing(client, coach, settings, smtp_server):
    if connection.vendor != "postgresql":
        pytest.skip("a separate worker process needs a database server (PostgreSQL)")
    import psycopg

    email_url = f"smtp://127.0.0.1:{settings.MAILERS['default']['OPTIONS']['port']}"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    agreement, token = send_for_signing(coach)
    client.get(reverse("signing_open", args=[token]))
    confirm_signer_code(client)
    settings.TASKS = DATABASE_QUEUE
    client.post(reverse("signing_page"), client_post())
    (task,) = completion_tasks(TaskResultStatus.READY)

    database = connection.settings_dict
    # Another session holds the document's row, so the worker's completion waits inside its
    # transaction, mid-seal, for as long as the test needs to kill it there.
    with psycopg.connect(
        host=database["HOST"], port=database["PORT"], user=database["USER"], dbname=database["NAME"]
    ) as blocker:
        blocker.execute(
            "SELECT 1 FROM agreements_signabledocument WHERE key = %s FOR UPDATE",
            [agreement.key],
        )
        worker = start_worker(media_root=settings.MEDIA_ROOT, email_url=email_url)
        try:
            wait_for(
                lambda: completion_tasks(TaskResultStatus.RUNNING).filter(pk=task.pk).exists(),
                what="the worker to start the completion",
            )
            time.sleep(0.5)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        blocker.rollback()

    agreement.refresh_from_db()
    assert not agreement.is_archived
    assert completion_tasks(TaskResultStatus.RUNNING).filter(pk=task.pk).exists()

    later = timezone.now() + recovery.DEAD_AFTER + timedelta(minutes=1)
    outcome = recovery.recover_unsealed(now=later)
    assert (outcome.dead_tasks, outcome.queued) == (1, 1)

    # A new worker, started as after a restart, finishes what is queued and stops.
    worker = start_worker("--batch", media_root=settings.MEDIA_ROOT, email_url=email_url)
    try:
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert_sealed_once(agreement)
    sealed_mail = [m for m in smtp_server.messages if m.get_content_type() == "multipart/mixed"]
    recipients = sorted(address.strip() for m in sealed_mail for address in m["To"].split(","))
    assert recipients == sorted([agreement.client.email, *agreement.practice.notice_recipients()])


def test_an_email_whose_task_a_dead_worker_lost_is_sent_by_the_sweep(coach, mailoutbox):
    """The worker died between the commit that queued the sealed copies and queueing their
    delivery: the messages wait in the outbox with no task. The worker's sweep queues them
    again; each is sent once."""
    from avg_portal import emails
    from avg_portal.models import OutboxMessage

    from .factories import make_agreement

    agreement = make_agreement(coach.practice)
    message = EmailMultiAlternatives("Uw kopie", "tekst", to=["zoe@example.test"])
    # Queued in a transaction whose on-commit step (queueing the delivery) never runs here:
    # as when the worker dies right after the commit.
    row = emails.queue(message, purpose="sealed_to_client", subject_id=agreement.key)
    assert mailoutbox == [] and row.status == OutboxMessage.Status.QUEUED

    # Not while its own task may still be on its way.
    assert recovery.recover_unsealed().messages_queued == 0
    outcome = recovery.recover_unsealed(now=timezone.now() + emails.LOST_AFTER * 2)
    assert outcome.messages_queued == 1
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT
    assert [m.to for m in mailoutbox] == [["zoe@example.test"]]
    # Sent: nothing to queue again.
    assert (
        recovery.recover_unsealed(now=timezone.now() + emails.LOST_AFTER * 2).messages_queued == 0
    )


def test_an_email_whose_task_still_waits_for_a_worker_is_not_queued_again(coach, settings):
    """A worker busy with a long export leaves a delivery waiting: every sweep in between
    must not add another task for it."""
    from avg_portal import emails
    from avg_portal.models import OutboxMessage

    settings.TASKS = DATABASE_QUEUE
    message = EmailMultiAlternatives("Uw kopie", "tekst", to=["zoe@example.test"])
    row = emails.queue(message, purpose="sealed_to_client", subject_id="1")
    emails.deliver_outbox_message.enqueue(row.pk)  # what the commit would have done
    later = timezone.now() + emails.LOST_AFTER * 2

    assert emails.requeue_lost_messages(now=later) == 0
    waiting = DBTaskResult.objects.filter(task_path=emails.deliver_outbox_message.module_path)
    assert waiting.count() == 1
    # Once that task is gone (the worker died running it), the sweep queues one.
    waiting.update(status=TaskResultStatus.FAILED)
    assert emails.requeue_lost_messages(now=later) == 1
    assert waiting.count() == 2
    assert OutboxMessage.objects.get(pk=row.pk).status == OutboxMessage.Status.QUEUED
