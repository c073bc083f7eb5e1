"""The evidence trail as a hash chain.

Each event of an agreement's dossier stores the SHA-256 of its own content together with the
hash of the event before it. Changing, removing or inserting an event afterwards breaks
every hash after it; `verify_chain` finds the first one that no longer fits, and
`manage.py verify_archive` runs it over the whole archive. The evidence page prints the last
hash, so a printed copy pins the trail down as it was when the document was sealed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
