"""Dates in the merchant's time zone: "today" is the merchant's today, not the server's."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from taqsit.models import Merchant


def merchant_today(merchant: Merchant, *, now: datetime | None = None) -> date:
    """The calendar date at ``now`` (default: this instant) in the merchant's time zone."""
    return timezone.localtime(now or timezone.now(), merchant.tzinfo).date()
