"""Fixtures of the notification tests: tasks run in-process (eager), SMS kept in memory, fast retries."""

from __future__ import annotations

import pytest

from notifications.channels.sms import LocmemSmsBackend
from notifications.models import NotificationSettings
from taqsit.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_tasks():
    """A task called in a test runs at once in the test's process: nothing reaches a broker (the worker test
    starts its own worker and never sends from here). Errors are not propagated: an eager retry is an exception
    Celery catches only then; the tests assert what the task left in the database."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.SMS_BACKEND = "locmem"
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BACKOFF = 60
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def no_quiet_hours(merchant):
    return NotificationSettings.objects.create(merchant=merchant, quiet_hours_start=None, quiet_hours_end=None)
