"""What the operator sees of a running site: log lines that name the request and the
practice they belong to, JSON lines for a log collector, and error reports to Sentry.

No personal data and no secret goes into any of them: signing, confirmation and
password-reset tokens in paths are masked, and error reports carry no request bodies,
cookies, headers or user details.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
practice_id: contextvars.ContextVar[str] = contextvars.ContextVar("practice_id", default="-")

REQUEST_ID_KEY = "avg_portal.request_id"

# A proxy's request id is kept when it looks like one; anything else is replaced.
INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Paths that carry a secret: the client's signing link, the email confirmation and the
# password reset links.
SECRET_PATHS = re.compile(
    r"(/sign/|/account/confirm/|/account/password/reset/[^/\s]+/)[A-Za-z0-9_:.-]{8,}"
)


def mask_secrets(text: str) -> str:
    return SECRET_PATHS.sub(r"\1[masked]", text)


class RequestIdMiddleware:
    """Gives every request an id (the proxy's X-Request-ID, or a new one), answers with it,
    and makes it and the coach's practice id available to every log line of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        current = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex
        id_token = request_id.set(current)
        # Django logs a 4xx or 5xx answer after the middleware is done: the request carries
        # its id for that line.
        request.META[REQUEST_ID_KEY] = current
        practice_token = practice_id.set("-")
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(id_token)
            practice_id.reset(practice_token)
        response["X-Request-ID"] = current
        return response

    def process_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        # By now authentication has run; the practice id is a number, not personal data.
        user = getattr(request, "user", None)
        practice = getattr(user, "practice_id", None)
        if practice is not None:
            practice_id.set(str(practice))


class RequestContextFilter(logging.Filter):
    """Adds the request id and practice id to each record and masks secrets in paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        current = request_id.get()
        if current == "-" and request is not None:
            current = getattr(request, "META", {}).get(REQUEST_ID_KEY, "-")
        record.request_id = current
        record.practice_id = practice_id.get()
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if request is not None and SECRET_PATHS.search(getattr(request, "path", "")):
            # The error mail would print the request, path and all.
            record.request = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "practice_id": getattr(record, "practice_id", "-"),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            line["status"] = status
        if record.exc_info:
            line["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Strip an error report down to what tells where the code failed."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {
            "method": request.get("method"),
            "url": mask_secrets(str(request.get("url", ""))),
        }
    event.pop("user", None)
    event.pop("server_name", None)
    event.setdefault("tags", {})["request_id"] = request_id.get()
    for exception in event.get("exception", {}).get("values", []):
        for frame in exception.get("stacktrace", {}).get("frames", []):
            frame.pop("vars", None)  # local variables may hold personal data
    return event


def init_sentry(dsn: str) -> None:
    import sentry_sdk  # only when error reporting is configured
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,  # type: ignore[arg-type]
        traces_sample_rate=0.0,
    )
