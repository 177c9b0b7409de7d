"""The daily run of one merchant: every daily job, in order, as of one of the merchant's days.

The steps are the other apps' services (installments/jobs.py, collectors/services.py, notifications/services.py,
auditlog/archive.py); this module owns only their order (``DAILY_STEPS``), the run's bookkeeping, its lock and
its dispatch.

``daily_jobs_catch_up`` runs each day owed since the last finished run (a missed day is caught up, not
skipped), then hands the queued messages to workers. Every step is idempotent, so a day run twice, or by two
beats at once, changes nothing more; a per-merchant advisory lock only saves the second run the work.

A step is ``(name, function(merchant, day, now) -> result)`` with a JSON-able result kept in DailyJobRun.
The last step archives the merchant's audit entries older than the retention (auditlog/archive.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from auditlog.archive import audit_archive_daily
from collectors.services import promises_evaluate
from dailyrun.models import DailyJobRun
from dailyrun.selectors import daily_days_due, merchants_due
from installments.jobs import installments_mark_overdue, late_fees_apply, plans_mark_defaulted, plans_restore_active
from installments.overdue import overdue_totals_advance
from notifications.services import notifications_dispatch, reminders_queue, staff_digest_create
from taqsit import audit
from taqsit.dates import merchant_today
from taqsit.metrics import job_observe
from taqsit.models import Merchant

logger = logging.getLogger(__name__)

# First key of the two-part advisory lock: this application's daily runs (the second is the merchant).
ADVISORY_LOCK_CLASS = 50_2026


def _late_fees(merchant: Merchant, day: date, now: datetime) -> dict[str, Any]:
    count, total = late_fees_apply(merchant=merchant, today=day)
    return {"count": count, "total": str(total)}


DAILY_STEPS: tuple[tuple[str, Callable[[Merchant, date, datetime], Any]], ...] = (
    ("installments_mark_overdue", lambda merchant, day, now: installments_mark_overdue(merchant=merchant, today=day)),
    ("late_fees_apply", _late_fees),
    ("plans_mark_defaulted", lambda merchant, day, now: plans_mark_defaulted(merchant=merchant, today=day)),
    ("plans_restore_active", lambda merchant, day, now: plans_restore_active(merchant=merchant, today=day)),
    # What is overdue by customer, kept for the statistics, moved on to the day's cutoff (installments/overdue.py).
    ("overdue_totals_advance", lambda merchant, day, now: overdue_totals_advance(merchant=merchant, today=day)),
    # Promises to pay whose date passed short are broken (collectors/services.py); refunds counted again.
    ("promises_evaluate", lambda merchant, day, now: promises_evaluate(merchant=merchant, today=day, now=now)),
    ("reminders_queue", lambda merchant, day, now: reminders_queue(merchant=merchant, day=day, now=now)),
    ("staff_digest_create", lambda merchant, day, now: staff_digest_create(merchant=merchant, day=day, now=now)),
    ("audit_archive", lambda merchant, day, now: audit_archive_daily(merchant=merchant, now=now)),
)


@audit.context(source=audit.Source.JOB, job="daily_jobs_run")  # its writes are a job's, whoever started it
def daily_jobs_run(*, merchant: Merchant, day: date, now: datetime | None = None) -> dict[str, Any]:
    """Run every daily step for ``merchant`` as of ``day`` and record the run; running a day again is safe."""
    now = now or timezone.now()
    run, created = DailyJobRun.objects.update_or_create(
        merchant=merchant,
        day=day,
        defaults={"started_at": now, "finished_at": None, "attempts": F("attempts") + 1},
        create_defaults={"started_at": now, "attempts": 1},
    )
    if not created:
        run.refresh_from_db(fields=["attempts"])
    results = {}
    for name, step in DAILY_STEPS:
        with job_observe(name):  # taqsit_job_runs_total, taqsit_job_duration_seconds
            results[name] = step(merchant, day, now)
    run.finished_at = timezone.now()
    run.results = results
    run.save(update_fields=["finished_at", "results"])
    logger.info("Daily jobs for %s on %s: %s", merchant, day, results)
    return results


@contextmanager
def _merchant_lock(merchant: Merchant) -> Iterator[bool]:
    """A session advisory lock on the merchant's daily run; yields whether this process got it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [ADVISORY_LOCK_CLASS, str(merchant.pk)])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [ADVISORY_LOCK_CLASS, str(merchant.pk)])


def daily_jobs_catch_up(*, merchant: Merchant, now: datetime | None = None) -> list[date]:
    """Run the daily jobs for every day the merchant is owed, oldest first, through the merchant's today, then
    hand the queued messages to workers. Returns the days run (none when another run holds the merchant)."""
    now = now or timezone.now()
    with _merchant_lock(merchant) as acquired:
        if not acquired:
            logger.info("Daily jobs for %s are already running elsewhere.", merchant)
            return []
        days = daily_days_due(merchant=merchant, today=merchant_today(merchant, now=now))
        for day in days:
            daily_jobs_run(merchant=merchant, day=day, now=now)
    notifications_dispatch(merchant=merchant, now=now)
    return days


def daily_runs_dispatch(*, now: datetime | None = None) -> int:
    """Hand each merchant whose day has started and not been run to a worker (beat calls this every quarter
    hour, so a merchant's day runs soon after its own midnight). Returns the merchants handed out."""
    from dailyrun.tasks import daily_jobs_catch_up_task  # tasks import services, not the reverse

    merchants = merchants_due(now=now)
    for merchant in merchants:
        daily_jobs_catch_up_task.delay(str(merchant.pk))
    return len(merchants)
