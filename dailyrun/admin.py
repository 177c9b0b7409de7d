"""The daily runs in the platform admins' back office: which merchant's days ran, when, and what each step did
(read-only history). Beat's schedule (django-celery-beat's periodic tasks) has its own admin pages."""

from __future__ import annotations

from django.contrib import admin

from dailyrun.models import DailyJobRun
from taqsit.admin import LedgerModelAdmin


@admin.register(DailyJobRun)
class DailyJobRunAdmin(LedgerModelAdmin):
    list_display = ["day", "merchant", "started_at", "finished_at", "attempts"]
    list_filter = ["merchant"]
    date_hierarchy = "day"
    list_select_related = ["merchant"]
    readonly_fields = ["merchant", "day", "started_at", "finished_at", "attempts", "results"]
    fields = readonly_fields
