"""The customer's messages: marking them read, from the portal's pages and the borrower API alike.

A read state only: no money, no status a clerk relies on. The first read time stays (marking again changes
nothing and writes no audit entry); only a message sent to this customer at their merchant can be marked
(anything else is Http404 through ``portal.selectors``).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from customers.models import Customer
from notifications.models import Notification
from portal.selectors import customer_notification, customer_notifications
from taqsit import audit


@audit.action("notification.mark_read")
def notification_mark_read_by_customer(
    *, customer: Customer, notification_id, now: datetime | None = None
) -> Notification:
    """Mark one message sent to ``customer`` read (idempotent: the first read time stays). Http404 for a message
    that is not theirs."""
    notification = customer_notification(customer=customer, notification_id=notification_id)
    if notification.read_at is None:
        now = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now, updated_at=now)
        notification.refresh_from_db(fields=["read_at", "updated_at"])
    return notification


@audit.action("notifications.mark_all_read")
def notifications_mark_all_read_by_customer(*, customer: Customer, now: datetime | None = None) -> int:
    """Mark every message sent to ``customer`` and not yet read as read, in one UPDATE; how many were."""
    now = now or timezone.now()
    return customer_notifications(customer=customer, unread=True).update(read_at=now, updated_at=now)
