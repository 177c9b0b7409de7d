"""Domain events for integrators (``plan.approved``, ``payment.posted``...), announced inside the transaction that
writes them: a listener (the webhooks app's outbox) writes its rows in the same transaction, so a rolled-back
write announces nothing and nothing announced is lost once committed.

Unlike taqsit/signals.py (sent after commit, for side effects), ``event_emitted`` is sent synchronously, while the
writer's transaction and locks are held: a listener must be cheap and must not fail the write for its own reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.dispatch import Signal

# Sent with event_type=<str>, merchant_id=<uuid>, objects=<list of model instances, one event each>.
event_emitted = Signal()

EVENT_TYPES = (
    "plan.created",
    "plan.approved",
    "plan.rejected",
    "plan.cancelled",
    "plan.rescheduled",
    "plan.completed",
    "plan.defaulted",
    "payment.posted",
    "payment.refunded",
    "payment.voided",
    "payment.pending",
    "payment.confirmed",
    "payment.failed",
    "installment.overdue",
    "late_fee.charged",
    "customer.created",
)


def event_emit(*, event_type: str, obj: Any, merchant_id: Any = None) -> None:
    """Announce that ``obj`` went through ``event_type``, inside the writing transaction."""
    events_emit_many(event_type=event_type, objects=[obj], merchant_id=merchant_id or obj.merchant_id)


def events_emit_many(*, event_type: str, objects: Sequence[Any], merchant_id: Any) -> None:
    """Announce one event per object of one merchant at once (a daily job's set of rows): listeners handle the
    set in a fixed number of queries, never one per row."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}.")
    if not objects:
        return
    event_emitted.send(sender=event_type, event_type=event_type, objects=list(objects), merchant_id=merchant_id)
