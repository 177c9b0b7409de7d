"""The record of which days the daily jobs have run for each merchant (so a missed day is caught up, not
skipped)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from taqsit.models import Merchant


class DailyJobRun(models.Model):
    """The daily jobs ran for ``merchant`` as of ``day``; the next run catches up every day after the last one."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant"))
    day = models.DateField(_("day"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    results = models.JSONField(_("results"), default=dict, blank=True)
    # How many times the day's steps were started: 1 unless a run was cut short (a worker killed) and done again,
    # or an operator ran the day again (``run_daily_jobs --day``). Beat's ticks and redelivered tasks add none.
    attempts = models.PositiveIntegerField(_("attempts"), default=1)

    class Meta:
        # The table it had in notifications: the model moved (migrations 0003 there, 0001 here), its rows did not.
        db_table = "notifications_dailyjobrun"
        verbose_name = _("daily job run")
        verbose_name_plural = _("daily job runs")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["merchant", "day"], name="daily_job_run_once_per_day")]

    def __str__(self) -> str:
        return f"{self.merchant} {self.day}"
