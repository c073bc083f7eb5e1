"""Error reports by email to the operators (ADMINS), safe to send while things go wrong.

Django's `AdminEmailHandler` sends each report inside the request or task that failed, and
with MAILERS configured it lets a mail error through. So while the mail server was down
every error became no answer at all (the exception left the WSGI application) or a crashed
task worker, and while it hung each error held its worker for the mail timeout; an outage
of the database or Redis meant one report per request, hundreds a minute.

This handler formats the report where the error happened (the request is still there),
hands it to a thread of its own that sends it and swallows what goes wrong, and sends one
report per kind of error per `EVERY`: the next one says how many like it were not sent.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import queue
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.core import mail
from django.utils.log import AdminEmailHandler

# One report per kind of error in this time, per process.
EVERY = 10 * 60
# Reports waiting for the thread; more are dropped (the log has them all).
WAITING = 50


class ErrorMailHandler(AdminEmailHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mailer: str | None = kwargs.get("using")
        self._lock = threading.Lock()
        self._sent: dict[tuple[object, ...], tuple[float, int]] = {}
        self._outgoing: queue.Queue[tuple[str, str, str | None]] = queue.Queue(WAITING)
        self._sender_pid: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if not settings.ADMINS:
            return
        now = time.monotonic()
        with self._lock:
            key = _kind(record)
            last, held_back = self._sent.get(key, (None, 0))
            if last is not None and now - last < EVERY:
                self._sent[key] = (last, held_back + 1)
                return
            self._sent[key] = (now, 0)
        if held_back:
            record = copy.copy(record)
            record.msg = f"{record.msg} (and {held_back} more like this, not mailed)"
        super().emit(record)

    def send_mail(self, subject: Any, message: Any, *args: Any, **kwargs: Any) -> None:
        self._start_sender()
        with contextlib.suppress(queue.Full):  # more are dropped: the log has them all
            self._outgoing.put_nowait((str(subject), str(message), kwargs.get("html_message")))

    def wait_until_sent(self, timeout: float = 30) -> None:
        """For tests: until every report handed over so far was sent or given up."""
        deadline = time.monotonic() + timeout
        while self._outgoing.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def _start_sender(self) -> None:
        # After a fork (gunicorn's workers) the thread stayed behind in the parent.
        with self._lock:
            if self._sender_pid != os.getpid():
                self._sender_pid = os.getpid()
                self._outgoing = queue.Queue(WAITING)
                threading.Thread(target=self._send_each, name="error-mail", daemon=True).start()

    def _send_each(self) -> None:
        outgoing = self._outgoing
        while True:
            subject, message, html_message = outgoing.get()
            try:
                mail.mail_admins(subject, message, using=self._mailer, html_message=html_message)
            except Exception as error:  # a report must never fail anything
                print(f"Error report not mailed: {error!r}", file=sys.stderr)
            finally:
                outgoing.task_done()


def _kind(record: logging.LogRecord) -> tuple[object, ...]:
    """What makes two reports the same: where, how bad, the HTTP status, the exception's
    class, and the message before its values were filled in (not the page or the ids)."""
    error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
    return (
        record.name,
        record.levelno,
        getattr(record, "status_code", None),
        error,
        str(record.msg),
    )
