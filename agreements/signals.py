"""What this app tells the apps above it, which it may not import (README, Layout).

`terms_changed` is sent after the commit that changed what a signed agreement says about
the processing in force: it was sealed, it ended, an addendum to it was sealed, a
sub-processor change was announced to its client or the client's answer recorded. The records
app lays out the agreement's entries in the processing record then (records.record_entries).
The services send it; a receiver only queues its own work.
"""

from django.db import transaction
from django.dispatch import Signal

# Sent with `agreement_id`, the agreement's primary key.
terms_changed = Signal()


def announce_terms_changed(agreement_id: int) -> None:
    """Send `terms_changed` once the current transaction commits. What a receiver does is
    no part of the change: its failure is logged (send_robust, on_commit's robust), never
    raised into the service that made the change."""
    transaction.on_commit(
        lambda: terms_changed.send_robust(sender=None, agreement_id=agreement_id), robust=True
    )
