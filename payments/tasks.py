"""Background work of the payments app: the statistics' refresh (payments/stats.py, taqsit/cache.py)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from payments.stats import merchant_stats_refresh
from taqsit.models import Merchant
from taqsit.tenancy import merchant_scope


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def stats_refresh(merchant_id: str, day: str) -> None:
    """Recompute one merchant's statistics for one of its days, after money moved there."""
    with merchant_scope(merchant_id):
        merchant = Merchant.objects.filter(pk=merchant_id).first()
        if merchant is not None:
            merchant_stats_refresh(merchant=merchant, today=date.fromisoformat(day))
