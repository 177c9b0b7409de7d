"""Reads of the daily run: the days it still owes a merchant, and the merchants whose day has not run yet."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from dailyrun.models import DailyJobRun
from taqsit.dates import merchant_today
from taqsit.models import Merchant

logger = logging.getLogger(__name__)

# The daily jobs catch up at most this many days (a month of downtime); older missed days are logged.
CATCH_UP_MAX_DAYS = 31


def daily_days_due(*, merchant: Merchant, today: date, max_days: int = CATCH_UP_MAX_DAYS) -> list[date]:
    """The days the daily jobs still owe the merchant, oldest first: every day after the last finished run up
    to ``today``; just ``today`` the first time."""
    last = DailyJobRun.objects.filter(merchant=merchant, finished_at__isnull=False).aggregate(last=Max("day"))["last"]
    if last is None:
        return [today]
    first = last + timedelta(days=1)
    oldest_kept = today - timedelta(days=max_days - 1)
    if first < oldest_kept:
        logger.warning(
            "Daily jobs for %s: %s to %s are more than %s days ago and are not caught up.",
            merchant,
            first,
            oldest_kept - timedelta(days=1),
            max_days,
        )
        first = oldest_kept
    return [first + timedelta(days=offset) for offset in range((today - first).days + 1)]


def merchants_due(*, now: datetime | None = None) -> list[Merchant]:
    """Active merchants whose today (in their own time zone) has no finished run yet."""
    now = now or timezone.now()
    merchants = list(Merchant.objects.filter(is_active=True).order_by("pk"))
    done = set(
        DailyJobRun.objects.filter(merchant__in=merchants, finished_at__isnull=False)
        .filter(day__gte=min((merchant_today(m, now=now) for m in merchants), default=now.date()))
        .values_list("merchant_id", "day")
    )
    return [merchant for merchant in merchants if (merchant.pk, merchant_today(merchant, now=now)) not in done]
