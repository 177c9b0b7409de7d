"""The operations metrics counted in this app: messages sent and failed (the daily steps' are in dailyrun/tests).

Counters live for the whole test process, so each test compares values before and after. Frozen at
2026-03-01 12:00 UTC (the ``today`` fixture).
"""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client import REGISTRY

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from notifications.channels.sms import SmsError
from notifications.models import Notification
from notifications.services import notification_deliver, reminders_queue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

DAY = date(2026, 3, 1)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


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
