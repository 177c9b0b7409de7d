"""Beat's default schedule is in the database (created by dailyrun's migration 0002) and names tasks the app has."""

from __future__ import annotations

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from dailyrun.schedule import DEFAULT_PERIODIC_TASKS, default_periodic_tasks_create
from taqsit.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_the_migration_created_the_default_entries():
    entries = PeriodicTask.objects.filter(name__in=[spec["name"] for spec in DEFAULT_PERIODIC_TASKS])

    assert sorted(entries.values_list("task", "crontab__minute", "crontab__hour", "enabled")) == [
        ("notifications.tasks.daily_runs_dispatch_task", "*/15", "*", True),
        ("notifications.tasks.notifications_dispatch_task", "*/5", "*", True),
        ("webhooks.tasks.webhooks_sweep_task", "*", "*", True),
    ]


def test_the_entries_name_registered_tasks():
    celery_app.loader.import_default_modules()

    for spec in DEFAULT_PERIODIC_TASKS:
        assert spec["task"] in celery_app.tasks


def test_creating_them_again_keeps_what_an_admin_changed():
    entry = PeriodicTask.objects.get(task="notifications.tasks.notifications_dispatch_task")
    entry.enabled = False
    entry.save()

    default_periodic_tasks_create(periodic_task_model=PeriodicTask, crontab_model=CrontabSchedule)

    assert PeriodicTask.objects.filter(task__startswith="notifications.tasks.").count() == 2
    entry.refresh_from_db()
    assert entry.enabled is False


def test_beat_reads_the_schedule_from_the_database(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert celery_app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_serializer == "json"
