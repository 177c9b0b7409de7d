"""Celery tasks: thin, each calls one service with ids (never objects). Beat's entry (in the database, see
dailyrun/schedule.py) fires ``notifications_dispatch_task``; the daily run's tasks are in dailyrun/tasks.py."""

from __future__ import annotations

from celery import shared_task

from notifications.models import Notification
from notifications.services import notification_deliver, notifications_dispatch, payment_receipt_notify
from payments.models import Payment
from taqsit.tenancy import merchant_scope, platform_scope


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def notifications_dispatch_task() -> int:
    # The sweep of every merchant's queued messages: the platform role's; each delivery is its merchant's.
    with platform_scope():
        return notifications_dispatch()


@shared_task(bind=True, acks_late=True, soft_time_limit=60, time_limit=90, max_retries=None)
def notification_deliver_task(self, notification_id: str) -> str:
    """Deliver one message; the service counts attempts and says when to retry (exponential backoff) and when
    to give up (the message is then ``failed`` with its last error)."""
    with platform_scope():  # which merchant the message is of: one column of one row
        merchant_id = Notification.objects.filter(pk=notification_id).values_list("merchant_id", flat=True).first()
    with merchant_scope(merchant_id):
        result = notification_deliver(notification_id=notification_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.status


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def payment_receipt_task(payment_id: str, merchant_id: str) -> int:
    """Queue a completed payment's receipt to its customer, for its merchant (notifications/receivers.py sends
    this once the payment is committed). Once per channel whatever the repeats: the service's unique keys."""
    with merchant_scope(merchant_id):
        return payment_receipt_notify(payment=Payment(pk=payment_id))  # the service reads the payment itself
