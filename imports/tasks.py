"""The imports' Celery tasks: thin, each runs one service for the job's merchant."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from imports.services import import_abandon, import_check, import_run
from taqsit.tenancy import merchant_scope

# A large file (tens of thousands of rows) takes minutes, not seconds.
LIMITS = {"soft_time_limit": 1800, "time_limit": 1900}


@shared_task(acks_late=True, **LIMITS)
def import_check_task(job_id: str, merchant_id: str) -> str:
    """Check every row of an uploaded file: the preview."""
    with merchant_scope(merchant_id):  # the task runs for the job's merchant (row-level security)
        try:
            return import_check(job_id=job_id).status
        except SoftTimeLimitExceeded:
            import_abandon(job_id=job_id)
            raise


@shared_task(acks_late=True, **LIMITS)
def import_run_task(job_id: str, merchant_id: str) -> str:
    """Import a confirmed file, all rows or none."""
    with merchant_scope(merchant_id):
        try:
            return import_run(job_id=job_id).status
        except SoftTimeLimitExceeded:
            import_abandon(job_id=job_id)
            raise
