"""The evidence trail as a hash chain.

Each event of an agreement's dossier stores the SHA-256 of its own content together with the
hash of the event before it. Changing, removing or inserting an event afterwards breaks
every hash after it; `verify_chain` finds the first one that no longer fits, and
`manage.py verify_archive` runs it over the whole archive. The evidence page prints the last
hash, so a printed copy pins the trail down as it was when the document was sealed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avg_portal.emails import shown_delivery

if TYPE_CHECKING:
    from .models import AgreementEvent


def event_content(event: AgreementEvent) -> str:
    """The event as canonical JSON: every field that says what happened."""
    return json.dumps(
        {
            "agreement": event.agreement_id,
            "document": event.document_id,
            "kind": event.kind,
            "actor": event.actor,
            "actor_name": event.actor_name,
            "at": event.at.isoformat(timespec="microseconds"),
            "ip_address": event.ip_address or "",
            "user_agent": event.user_agent,
            "detail": event.detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def chain_hash(previous_sha256: str, event: AgreementEvent) -> str:
    return hashlib.sha256(f"{previous_sha256}\n{event_content(event)}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(events: Iterable[AgreementEvent]) -> ChainBreak | None:
    """The first event whose hashes no longer fit, or None when the whole chain holds.
    `events` are one agreement's, in the order they were written (by id)."""
    previous = ""
    for event in events:
        if event.previous_sha256 != previous:
            return ChainBreak(event.pk, "the event before it was changed, removed or inserted")
        if event.sha256 != chain_hash(previous, event):
            return ChainBreak(event.pk, "its content was changed")
        previous = event.sha256
    return None


# What the coach's timeline shows of an event's detail. The detail is evidence: written once,
# in the code's words (English), and hashed into the chain, so it cannot be translated where
# it is stored; the timeline shows it in the coach's language, a delivery error in words
# (avg_portal.emails.shown_delivery). Addresses, hashes, dates and names stay as written.
_MESSAGES = {
    "invitation": gettext_lazy("invitation"),
    "reminder": gettext_lazy("reminder"),
    "signing code": gettext_lazy("signing code"),
    "email": gettext_lazy("email"),
    "declined notice": gettext_lazy("notice of the refusal"),
    "sealing delayed": gettext_lazy("notice that the seal is delayed"),
    "sub-processor notice": gettext_lazy("sub-processor notice"),
    "signed PDF to client": gettext_lazy("signed PDF to the client"),
    "signed PDF to coach": gettext_lazy("signed PDF to the coach"),
    "signed declaration to client": gettext_lazy("signed declaration to the client"),
    "signed declaration to coach": gettext_lazy("signed declaration to the coach"),
    "signed addendum to client": gettext_lazy("signed addendum to the client"),
    "signed addendum to coach": gettext_lazy("signed addendum to the coach"),
}
_SIGNED_TEXT = re.compile(r"SHA-256 of the signed text (?P<sha256>[0-9a-f]+)")
# agreements.retention.retention_record_disposal; the words of RetentionDisposal.Disposition.
_DISPOSITIONS = {
    "destroyed": gettext_lazy("destroyed"),
    "returned": gettext_lazy("returned to the client"),
    "both": gettext_lazy("returned, and what remained destroyed"),
}
_DISPOSED = re.compile(
    rf"Bijlage 1 row (?P<row>\d+): (?P<disposition>{'|'.join(_DISPOSITIONS)}) on "
    r"(?P<on>\d{4}-\d{2}-\d{2}): (?P<method>.*)",
    re.DOTALL,
)
_TIMESTAMP = re.compile(
    r"SHA-256 (?P<sha256>[0-9a-f]+); RFC 3161 time (?P<at>\S+) from (?P<tsa>.*)"
)
_RENEWED = re.compile(
    r"version (?P<number>\d+): SHA-256 (?P<sha256>[0-9a-f]+); previous version "
    r"(?P<previous>\d+): SHA-256 (?P<previous_sha256>[0-9a-f]+); timestamp valid until "
    r"(?P<until>\S+)"
)


def shown_detail(detail: str) -> str:
    """An event's detail as the coach's timeline shows it (see `_MESSAGES`)."""
    if (delivered := shown_delivery(detail, _MESSAGES)) is not None:
        return delivered
    if match := _DISPOSED.fullmatch(detail):
        fields = match.groupdict() | {
            "disposition": _DISPOSITIONS[match["disposition"]],
            "on": date_format(datetime.date.fromisoformat(match["on"]), "j F Y"),
        }
        return _("Bijlage 1 row %(row)s: %(disposition)s on %(on)s: %(method)s") % fields
    if match := _SIGNED_TEXT.fullmatch(detail):
        return _("SHA-256 of the signed text %(sha256)s") % match.groupdict()
    if match := _TIMESTAMP.fullmatch(detail):
        return _("SHA-256 %(sha256)s; RFC 3161 time %(at)s from %(tsa)s") % match.groupdict()
    if match := _RENEWED.fullmatch(detail):
        fields = match.groupdict()
        if fields["until"] == "unknown":
            fields["until"] = _("unknown")
        return (
            _(
                "version %(number)s: SHA-256 %(sha256)s; previous version %(previous)s: "
                "SHA-256 %(previous_sha256)s; timestamp valid until %(until)s"
            )
            % fields
        )
    return detail
