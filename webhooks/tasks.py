"""Celery tasks: thin, each calls one service with ids. Beat's entry (in the database, see dailyrun/schedule.py)
fires ``webhooks_sweep_task`` every minute; a write that queued deliveries kicks ``webhooks_deliver_task`` after
commit, so nothing depends on the kick."""

from __future__ import annotations

from celery import shared_task

from taqsit.tenancy import merchant_scope, platform_scope
from webhooks.services import deliveries_deliver, deliveries_kick, deliveries_sweep


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def webhooks_deliver_task(merchant_id: str) -> int:
    """Deliver one merchant's due deliveries, for that merchant only."""
    with merchant_scope(merchant_id):
        return deliveries_deliver(merchant_id=merchant_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def webhooks_sweep_task() -> int:
    """Every minute: the merchants with due deliveries (the platform role's read), each handed to a worker."""
    with platform_scope():
        merchant_ids = deliveries_sweep()
    for merchant_id in merchant_ids:
        deliveries_kick(merchant_id=merchant_id)
    return len(merchant_ids)
