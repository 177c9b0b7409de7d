"""The operations metrics counted in this app: each daily job step's runs and duration, messages sent and failed.

Counters live for the whole test process, so each test compares values before and after. Frozen at
2026-03-01 12:00 UTC (the ``today`` fixture).
"""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client import REGISTRY

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from notifications import jobs
from notifications.channels.sms import SmsError
from notifications.jobs import DAILY_STEPS, daily_jobs_run
from notifications.models import Notification
from notifications.services import notification_deliver, reminders_queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

DAY = date(2026, 3, 1)
STEPS = [name for name, _ in DAILY_STEPS]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def job_values() -> dict[str, tuple[float, float, float]]:
    return {
        step: (
            value("taqsit_job_runs_total", job=step, outcome="success"),
            value("taqsit_job_runs_total", job=step, outcome="failure"),
            value("taqsit_job_duration_seconds_count", job=step),
        )
        for step in STEPS
    }


def test_each_daily_step_run_is_counted_and_timed(merchant):
    before = job_values()

    daily_jobs_run(merchant=merchant, day=DAY)
    daily_jobs_run(merchant=merchant, day=DAY)

    after = job_values()
    assert {
        step: tuple(a - b for a, b in zip(after[step], before[step], strict=True)) for step in STEPS
    } == dict.fromkeys(STEPS, (2.0, 0.0, 2.0))


def test_a_failing_step_is_counted_as_a_failure(merchant, monkeypatch):
    def broken(merchant, day, now):
        raise RuntimeError("the step broke")

    monkeypatch.setattr(jobs, "DAILY_STEPS", (*DAILY_STEPS[:1], ("broken_step", broken), *DAILY_STEPS[1:]))
    first = STEPS[0]
    before = (
        value("taqsit_job_runs_total", job=first, outcome="success"),
        value("taqsit_job_runs_total", job="broken_step", outcome="failure"),
    )

    with pytest.raises(RuntimeError, match="the step broke"):
        daily_jobs_run(merchant=merchant, day=DAY)

    assert value("taqsit_job_runs_total", job=first, outcome="success") - before[0] == 1
    assert value("taqsit_job_runs_total", job="broken_step", outcome="failure") - before[1] == 1
    assert value("taqsit_job_duration_seconds_count", job="broken_step") >= 1


class BrokenSmsBackend:
    def send(self, *, to: str, body: str) -> str:
        raise SmsError("The SMS provider answered HTTP 503: upstream down")


def test_messages_sent_and_failed_are_counted_by_channel(owner, merchant, settings, django_capture_on_commit_callbacks):
    customer = CustomerFactory(merchant=merchant, email="amina@example.com", language="en")
    plan_make(actor=owner, customer=customer, first_due_date=date(2026, 3, 4))
    reminders_queue(merchant=merchant, day=DAY)
    email = Notification.objects.get(channel=Notification.Channel.EMAIL)
    sms = Notification.objects.get(channel=Notification.Channel.SMS)
    settings.SMS_BACKEND = "notifications.tests.test_metrics.BrokenSmsBackend"
    names = [
        ("taqsit_notifications_sent_total", {"channel": "email"}),
        ("taqsit_notifications_sent_total", {"channel": "sms"}),
        ("taqsit_notifications_failed_total", {"channel": "sms", "final": "false"}),
        ("taqsit_notifications_failed_total", {"channel": "sms", "final": "true"}),
    ]
    before = [value(name, **labels) for name, labels in names]

    with django_capture_on_commit_callbacks(execute=True):
        notification_deliver(notification_id=email.pk)
    for _ in range(settings.NOTIFICATION_MAX_ATTEMPTS):  # 3 in these tests: two retries, then failed
        with django_capture_on_commit_callbacks(execute=True):
            notification_deliver(notification_id=sms.pk)

    assert [value(name, **labels) - was for (name, labels), was in zip(names, before, strict=True)] == [1, 0, 2, 1]
