"""Reads of the imports: the merchant's jobs, newest first, and a job's rows as the preview lists them."""

from __future__ import annotations

from django.db.models import QuerySet

from imports.models import ImportJob, ImportRow

PROBLEMS = (ImportRow.Outcome.ERROR, ImportRow.Outcome.CHANGED)


def import_job_list(*, merchant) -> QuerySet[ImportJob]:
    """The merchant's imports, newest first, with who uploaded and confirmed them."""
    return ImportJob.objects.filter(merchant=merchant).select_related("created_by", "confirmed_by")


def import_row_list(*, job: ImportJob, outcome: str | None = None, problems_only: bool = False) -> QuerySet[ImportRow]:
    """A job's rows in file order; only one outcome, or only the rows with something to say (errors, changes)."""
    rows = ImportRow.objects.filter(job=job).order_by("number", "id")
    if outcome:
        rows = rows.filter(outcome=outcome)
    if problems_only:
        rows = rows.filter(outcome__in=PROBLEMS)
    return rows
