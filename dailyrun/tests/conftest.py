"""Fixtures of the daily run's tests: those of the notifications it queues (eager tasks, SMS kept in memory)."""

from notifications.tests.conftest import _eager_tasks, no_quiet_hours, sms_outbox  # noqa: F401
