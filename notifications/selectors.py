"""Reads for notifications: a merchant's policy, a staff user's inbox, the figures of the staff digest and whose a
WhatsApp message is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, QuerySet

from installments.models import InstallmentPlan
from installments.selectors import installments_unpaid, overdue_cutoff
from notifications.models import Notification, NotificationSettings
from taqsit.models import Merchant, User
from taqsit.money import sum_of


def notification_settings_get(*, merchant: Merchant) -> NotificationSettings:
    """The merchant's notification policy: its saved row, or the defaults (unsaved) when it has none."""
    return NotificationSettings.objects.filter(merchant=merchant).first() or NotificationSettings(merchant=merchant)


def customer_messages(*, customer) -> QuerySet[Notification]:
    """What was written to ``customer`` (not staff's in-app notes), newest first, with the SMS sent instead of a
    WhatsApp message (``fallback``) and the WhatsApp message an SMS replaced (``fallback_for``)."""
    return (
        Notification.objects.filter(merchant_id=customer.merchant_id, customer_id=customer.pk)
        .exclude(channel=Notification.Channel.IN_APP)
        .select_related("fallback", "fallback_for")
        .order_by("-created_at", "-pk")
    )


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's in-app notifications, newest first (a user sees only their own; ``?unread=`` is a filter)."""
    return Notification.objects.filter(user=user, channel=Notification.Channel.IN_APP).order_by("-created_at", "-pk")


@dataclass(frozen=True)
class DigestFigures:
    new_overdue: int
    new_overdue_amount: Decimal
    overdue: int
    pending_approvals: int

    @property
    def is_empty(self) -> bool:
        return not (self.new_overdue or self.pending_approvals)


def staff_digest_figures(*, merchant: Merchant, day: date) -> DigestFigures:
    """What staff learn each morning: rows that became overdue on ``day`` (and what is left on them), all
    overdue rows, and plans waiting for approval."""
    cutoff = overdue_cutoff(merchant, today=day)
    unpaid = installments_unpaid(merchant=merchant)
    new = unpaid.filter(due_date=cutoff - timedelta(days=1)).aggregate(
        count=Count("pk"), amount=sum_of("amount_due") - sum_of("amount_paid")
    )
    return DigestFigures(
        new_overdue=new["count"],
        new_overdue_amount=new["amount"],
        overdue=unpaid.filter(due_date__lt=cutoff).count(),
        pending_approvals=InstallmentPlan.objects.filter(
            merchant=merchant, status=InstallmentPlan.Status.PENDING
        ).count(),
    )


def notification_provider_owner(provider_id: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(merchant id, notification id) of the WhatsApp message the provider gave ``provider_id``, or None; asked of
    the database before any merchant is known (notifications/migrations/0006_whatsapp_channel.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT merchant_id, notification_id FROM notification_provider_owner(%s)", [provider_id])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None
