"""Sealing that heals itself.

After the last signature a task seals and stores the document (`signing.complete`). That task
can be lost: a worker killed mid-seal leaves its task RUNNING for ever and nothing picks it
up again; a full disk fails it and nothing retries. The sweep here finds every signed
document still without its sealed file a few minutes after the last signature and queues
the completion again, with growing pauses; after repeated failure the coach and the
operator are told, once. Completion is idempotent, so queueing it once too often costs a
no-op, never a second seal or email.

The worker runs the sweep itself (`sweep_sealing` queues its own next run); cron may run
`manage.py recover_sealing` as well, which also starts that chain. The sweep also queues
again the emails whose delivery task a dead worker lost (the sealed copies, say), so that
they do not wait for cron's `deliver_outbox`.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.tasks import TaskResultStatus, task, task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from avg_portal import seal
from avg_portal.emails import requeue_lost_messages

from . import archive, evidence_renewal, notices
from .models import DocumentTimestamp, SignableDocument
from .signing import complete_signed_document

logger = logging.getLogger(__name__)

# A completion takes a second or two: a document still unsealed this long after its last
# signature lost its task.
GRACE = timedelta(minutes=5)
# No completion runs this long; a task RUNNING for longer belongs to a worker that died.
DEAD_AFTER = timedelta(minutes=15)
# No task of any kind runs this long (the longest, a dossier export, is taken for stuck
# after an hour and started afresh): one RUNNING for longer lost its worker too.
ANY_TASK_DEAD_AFTER = timedelta(hours=2)
# The pause after each attempt of the sweep; hourly after the last.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
)
# After this many attempts the coach and the operator are told.
ALERT_AFTER = 5
# How often the worker runs the sweep.
SWEEP_EVERY = timedelta(minutes=5)
# How long after sending a document's missing timestamp is asked for again.
TIMESTAMP_RETRY_FOR = timedelta(days=30)


@dataclasses.dataclass(frozen=True)
class Recovery:
    dead_tasks: int
    queued: int
    alerted: int
    # Sent documents whose timestamp (evidence_renewal.document_timestamp) is asked for again.
    timestamps_queued: int = 0
    # Emails whose delivery task was lost, queued again (avg_portal.emails).
    messages_queued: int = 0


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1] if attempts else timedelta(0)


def recover_unsealed(*, now: datetime.datetime | None = None) -> Recovery:
    """Release the completions of dead workers and queue every unsealed signed document
    whose pause is over. Safe to run at any time, from several places at once."""
    now = now or timezone.now()
    dead = fail_dead_tasks(now=now)
    queued = alerted = 0
    for key in due_documents(now=now).values_list("pk", flat=True):
        outcome = _requeue(key, now=now)
        queued += outcome is not None
        alerted += outcome is True
    timestamps = _requeue_timestamps(now=now)
    messages = requeue_lost_messages(now=now)
    return Recovery(
        dead_tasks=dead,
        queued=queued,
        alerted=alerted,
        timestamps_queued=timestamps,
        messages_queued=messages,
    )


def _requeue_timestamps(*, now: datetime.datetime) -> int:
    """Ask again for the timestamp of documents sent while no TSA answered: those still
    waiting for a signature or a seal, sent within TIMESTAMP_RETRY_FOR. (Once sealed, the
    seal's own timestamp covers the signed document.)"""
    if not seal.timestamping_configured():
        return 0
    documents = (
        SignableDocument.objects.filter(
            final_sha256="", sent_at__gt=now - TIMESTAMP_RETRY_FOR, sent_at__lt=now - GRACE
        )
        .exclude(document_sha256="")
        .exclude(
            Exists(
                DocumentTimestamp.objects.filter(
                    document=OuterRef("pk"), sha256=OuterRef("document_sha256")
                )
            )
        )
        .values_list("pk", flat=True)
    )
    keys = list(documents)
    for key in keys:
        evidence_renewal.timestamp_sent_document.enqueue(key)
    return len(keys)


def fail_dead_tasks(*, now: datetime.datetime) -> int:
    """Mark as failed the tasks left RUNNING by a worker that died (SIGKILL, a lost
    machine): no worker will ever finish them, and the record should not say otherwise.
    Completions soon; every other task once no task could still be running. (What such a
    task was doing is taken up again by its own sweep: sealing here, the outbox's, the
    processing record's and the export's.)"""
    return DBTaskResult.objects.filter(
        Q(task_path=complete_signed_document.module_path, started_at__lt=now - DEAD_AFTER)
        | Q(started_at__lt=now - ANY_TASK_DEAD_AFTER),
        status=TaskResultStatus.RUNNING,
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="agreements.recovery.WorkerLost",
        traceback="The worker stopped while running this task; the recovery sweep retries.",
    )


def due_documents(*, now: datetime.datetime) -> QuerySet[SignableDocument]:
    """Documents signed by every party, without their sealed file, whose last signature is
    older than GRACE and whose pause after the previous attempt is over."""
    # Each kind of document has its own status field, and "signed" means the same in all.
    signed = Q()
    for kind in SignableDocument.Kind.values:
        signed |= Q(kind=kind, **{f"as_{kind}__status": "signed"})
    return (
        SignableDocument.objects.filter(signed, final_sha256="")
        .filter(Q(seal_retry_at__isnull=True) | Q(seal_retry_at__lte=now))
        .exclude(signatures__signed_at__gt=now - GRACE)
        .order_by("pk")
    )


def _requeue(key: int, *, now: datetime.datetime) -> bool | None:
    """Count one more attempt, set the next pause and queue the completion after the commit.
    None when the document was sealed meanwhile; True when this attempt raised the alert."""
    with transaction.atomic():
        document = SignableDocument.objects.select_for_update().get(pk=key)
        if document.is_archived:
            return None
        document.seal_attempts += 1
        document.seal_retry_at = now + backoff(document.seal_attempts)
        alert = document.seal_attempts >= ALERT_AFTER and document.seal_alerted_at is None
        if alert:
            document.seal_alerted_at = now
        document.save(update_fields=["seal_attempts", "seal_retry_at", "seal_alerted_at"])
        logger.warning(
            "Sealing %s again (attempt %d): %s", key, document.seal_attempts, document.seal_error
        )
        # robust: the next sweep queues it again.
        transaction.on_commit(lambda: complete_signed_document.enqueue(key), robust=True)
        if alert:
            # The coach's email is queued with the count that raised it (the outbox sends it
            # and records the outcome on the evidence trail); the operator's mail follows.
            notices.send_sealing_delayed(document.concrete())
            transaction.on_commit(lambda: _alert_operators(key))
    return alert


def _alert_operators(key: int) -> None:
    document = SignableDocument.objects.get(pk=key).concrete()
    archive.alert_operators(
        f"Sealing keeps failing: {document.kind} {document.public_id}",
        f"The {document.kind} {document.public_id} of practice "
        f"{document.dossier.practice_id} was signed but could not be sealed after "
        f"{document.seal_attempts} attempts.\n"
        f"Last error: {document.seal_error or '(none recorded: the worker may have died)'}\n\n"
        "The recovery sweep keeps trying every hour; the coach has been told.",
    )


# The worker's own schedule ---------------------------------------------------------------


@task
def sweep_sealing() -> None:
    """Run the sweep, and queue the next one first, so that a sweep that dies does not end
    the chain."""
    schedule_sweep()
    recover_unsealed()


def schedule_sweep(*, now: datetime.datetime | None = None) -> bool:
    """Queue the next sweep SWEEP_EVERY from now, unless one is already waiting. Only the
    database queue can hold a task for later; other backends rely on cron. Two chains
    started at once merge: each run finds the other's pending sweep and queues none."""
    backend = task_backends[sweep_sealing.backend]
    if not isinstance(backend, DatabaseBackend):
        return False
    pending = DBTaskResult.objects.filter(
        task_path=sweep_sealing.module_path, status=TaskResultStatus.READY
    )
    if pending.exists():
        return False
    run_after = (now or timezone.now()) + SWEEP_EVERY
    sweep_sealing.using(run_after=run_after).enqueue()
    return True
