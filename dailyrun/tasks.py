"""Celery tasks of the daily run: thin, each calls one job with ids (never objects). Beat's entry (in the
database, see dailyrun/schedule.py) fires ``daily_runs_dispatch_task`` every quarter hour.

The tasks keep the names they had when they lived in notifications: beat's rows (PeriodicTask.task) and any
message already waiting in the broker during a deploy name them so, and go on finding them.
"""

from __future__ import annotations

from celery import shared_task

from dailyrun.jobs import daily_jobs_catch_up, daily_runs_dispatch
from taqsit.models import Merchant
from taqsit.tenancy import merchant_scope, platform_scope


@shared_task(name="notifications.tasks.daily_runs_dispatch_task", acks_late=True, soft_time_limit=120, time_limit=180)
def daily_runs_dispatch_task() -> int:
    # Which merchants are due: across merchants, so the platform role's (each run is a task of its merchant).
    with platform_scope():
        return daily_runs_dispatch()


@shared_task(name="notifications.tasks.daily_jobs_catch_up_task", acks_late=True, soft_time_limit=1800, time_limit=1900)
def daily_jobs_catch_up_task(merchant_id: str) -> list[str]:
    with merchant_scope(merchant_id):
        merchant = Merchant.objects.get(pk=merchant_id)
        return [day.isoformat() for day in daily_jobs_catch_up(merchant=merchant)]
