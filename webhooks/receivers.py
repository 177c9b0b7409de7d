"""The outbox: ``event_emitted`` (taqsit/events.py) is received inside the writing transaction, and the events
and their deliveries are written there, for the merchant's active endpoints that want them. A rolled-back write
leaves no row; a committed one is delivered whatever happens to the broker (the sweep finds it).

The merchant's active endpoints are read once per transaction (one indexed query, ``webhook_endpoint_active``):
a payment that also completes its plan, or a chunk of a daily job, does not ask again. Only when an endpoint
wants the event are the objects read and serialized.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from taqsit.compiled import CompiledQuery
from taqsit.models import Merchant
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.payloads import objects_describe

logger = logging.getLogger(__name__)


@dataclass
class _TransactionState:
    """What one transaction has learnt and written: its merchants' endpoints, the merchants to kick at commit."""

    endpoints: dict[str, list[tuple]] = field(default_factory=dict)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)

    def commit(self) -> None:
        from webhooks.services import deliveries_kick  # services import this module

        for merchant_id in sorted(self.written):
            deliveries_kick(merchant_id=merchant_id)


def _state(*, create: bool = True) -> _TransactionState | None:
    """This transaction's state, made (and its commit hook registered) on first use; None outside a transaction.
    A state whose hook is gone (its transaction or savepoint rolled back) is forgotten."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    state = connection.__dict__.get("webhooks_state")
    if state is not None and any(entry[1] == state.commit for entry in connection.run_on_commit):
        return state
    if not create:
        return None
    state = _TransactionState()
    connection.webhooks_state = state
    transaction.on_commit(state.commit, robust=True)
    return state


def transaction_memo_clear() -> None:
    """Forget what this transaction read of endpoints. For tests: a request made inside a test's transaction
    would otherwise find the endpoints its set-up already read, which a request of its own never does."""
    transaction.get_connection().__dict__.pop("webhooks_state", None)


def endpoints_forget(*, merchant_id) -> None:
    """An endpoint of the merchant changed: the transaction reads the merchant's endpoints again."""
    state = _state(create=False)
    if state is not None:
        state.endpoints.pop(str(merchant_id), None)


# Read by every transaction that moves money: compiled once (taqsit/compiled.py).
_ACTIVE_ENDPOINTS = CompiledQuery(
    lambda merchant_id: WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True).values_list(
        "pk", "events"
    )
)


def endpoints_wanting(*, merchant_id, event_type: str) -> list[tuple]:
    """(id,) of the merchant's active endpoints that want ``event_type``; the merchant's endpoints are read once
    per transaction."""
    state = _state()
    key = str(merchant_id)
    endpoints = state.endpoints.get(key) if state is not None else None
    if endpoints is None:
        endpoints = _ACTIVE_ENDPOINTS.rows(merchant_id)
        if state is not None:
            state.endpoints[key] = endpoints
    return [(pk,) for pk, events in endpoints if event_type in events]


def on_event_emitted(sender, *, event_type: str, objects: list, merchant_id, **kwargs) -> None:
    wanting = endpoints_wanting(merchant_id=merchant_id, event_type=event_type)
    if not wanting:
        return
    state = _state()
    key = str(merchant_id)
    merchant = state.merchants.get(key) if state is not None else None
    if merchant is None:
        merchant = Merchant.objects.get(pk=merchant_id)
        if state is not None:
            state.merchants[key] = merchant
    now = timezone.now()
    described = objects_describe(event_type=event_type, merchant=merchant, ids=[obj.pk for obj in objects])
    events = [
        WebhookEvent(
            merchant_id=merchant_id,
            type=event_type,
            object_id=object_id,
            ordering_key=ordering_key,
            payload={
                "type": event_type,
                "created": now.isoformat(),
                "merchant": str(merchant_id),
                # As the API renders it: ids, amounts and dates as strings.
                "data": {"object": json.loads(json.dumps(data, cls=JSONEncoder))},
            },
        )
        for object_id, ordering_key, data in described
    ]
    for event in events:
        event.payload = {"id": str(event.pk), **event.payload}
    WebhookEvent.objects.bulk_create(events)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                merchant_id=merchant_id,
                endpoint_id=endpoint_id,
                event=event,
                ordering_key=event.ordering_key,
                next_attempt_at=now,
            )
            for event in events
            for (endpoint_id,) in wanting
        ]
    )
    if state is not None:
        state.written.add(key)
    else:
        logger.warning("Webhook events %s written outside a transaction: the sweep delivers them.", event_type)
