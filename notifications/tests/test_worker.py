"""End to end with real processes: a Celery worker and Celery beat, started as ``make run`` and docker-compose
start them, on a real broker: Redis when REDIS_URL is set (CI), else kombu's filesystem transport (no server).

Beat loads its schedule from the database (the default entries, made to fire every second); the worker runs
the merchant's day, sends the reminder e-mail into a file outbox (EMAIL_URL=filemail://) and tries the SMS on a
local provider that always answers 500: the SMS ends ``failed`` after its retries, the e-mail goes out anyway.
The worker and beat get a queue of their own, so nothing else on the same broker is disturbed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks
from kombu import Connection, Exchange, Queue

from customers.tests.factories import CustomerFactory
from dailyrun.models import DailyJobRun
from dailyrun.schedule import default_periodic_tasks_create
from installments.tests.factories import plan_make
from notifications.models import Notification, NotificationSettings
from notifications.tests.sms_stub import StubSmsProvider
from taqsit.dates import merchant_today
from taqsit.tests.factories import MerchantFactory, UserFactory

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 120


def database_url(database: dict) -> str:
    """The test database as a URL for the child processes (a unix-socket host goes in the path)."""
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    name = quote(database["NAME"], safe="")
    if host.startswith("/"):
        return f"postgres://{credentials}{port}/{quote(host, safe='')}/{name}"
    return f"postgres://{credentials}{host or 'localhost'}{port}/{name}"


def _timezone_far_from_midnight() -> str:
    """A time zone where it is not near midnight now, so the worker's day is the day this test computed."""
    for name in ("UTC", "Asia/Tokyo", "America/New_York"):
        hour = timezone.localtime(timezone.now(), MerchantFactory.build(timezone=name).tzinfo).hour
        if 1 <= hour <= 22:
            return name
    raise AssertionError("unreachable: these three zones cannot all be within an hour of midnight")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter running celery, fixed arguments
        [sys.executable, "-m", "celery", "-A", "taqsit", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM to the main process, which stops its pool), else SIGKILL to its whole group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _queue_delete(queue: str) -> None:
    """Leave nothing on a shared Redis: the test queue, its bindings and what was given back at shutdown."""
    if os.environ.get("REDIS_URL"):
        with Connection(os.environ["REDIS_URL"]) as broker:
            # Celery's default queue: bound to an exchange of its name with its name as routing key.
            bound = Queue(queue, Exchange(queue), routing_key=queue)(broker.default_channel)
            bound.declare()
            bound.delete()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_send_the_reminder_and_fail_the_sms_after_its_retries(tmp_path):
    merchant = MerchantFactory(name="Worker Shop", timezone=_timezone_far_from_midnight())
    NotificationSettings.objects.create(merchant=merchant, quiet_hours_start=None, quiet_hours_end=None)
    owner = UserFactory(merchant=merchant, role="owner")
    customer = CustomerFactory(merchant=merchant, name="Amina Haddad", email="amina@example.com")
    today = merchant_today(merchant)
    due = today + timedelta(days=merchant.reminder_days_before)
    plan = plan_make(actor=owner, customer=customer, start_date=today - timedelta(days=20), first_due_date=due)
    # Beat's schedule, from the database: the default entries (made here too: an earlier transactional test may
    # have emptied the tables the migration filled), firing every second instead of every few minutes.
    entries = default_periodic_tasks_create(
        periodic_task_model=PeriodicTask, crontab_model=CrontabSchedule, periodic_tasks_model=PeriodicTasks
    )
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(pk__in=[entry.pk for entry in entries]).update(
        interval=every_second, crontab=None, last_run_at=None
    )
    PeriodicTasks.update_changed()

    outbox = tmp_path / "outbox"
    queue = f"taqsit-test-{uuid.uuid4().hex[:12]}"
    broker = "Redis" if os.environ.get("REDIS_URL") else "the filesystem transport"
    with StubSmsProvider(status=500, body={"message": "provider down"}) as provider:
        env = {
            **{name: value for name, value in os.environ.items() if name not in {"DEBUG", "DATABASE_URL"}},
            "DATABASE_URL": database_url(connection.settings_dict),
            "SECRET_KEY": "dev",
            # With DATABASE_URL set, the var directory holds only the filesystem broker's messages (no REDIS_URL).
            "TAQSIT_VAR_DIR": str(tmp_path / "var"),
            "CELERY_QUEUE": queue,
            "EMAIL_URL": f"filemail:///{outbox}",  # django-environ drops the first slash of the path
            "SMS_BACKEND": "http",
            "SMS_API_URL": provider.url,
            "SMS_API_USER": "AC1",
            "SMS_API_TOKEN": "token",
            "SMS_FROM": "+15005550006",
            "NOTIFICATION_MAX_ATTEMPTS": "3",
            "NOTIFICATION_RETRY_BACKOFF": "1",
        }
        worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
        worker = _start(
            ["worker", "--loglevel", "INFO", "--concurrency", "2", "--without-gossip", "--without-mingle",
             "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h"],
            env,
            worker_log,
        )  # fmt: skip
        beat = _start(["beat", "--loglevel", "INFO"], env, beat_log)
        try:
            deadline = time.monotonic() + DEADLINE_SECONDS
            while time.monotonic() < deadline:
                email = Notification.objects.filter(channel=Notification.Channel.EMAIL).first()
                sms = Notification.objects.filter(channel=Notification.Channel.SMS).first()
                done = (
                    email is not None
                    and sms is not None
                    and email.status == Notification.Status.SENT
                    and sms.status == Notification.Status.FAILED
                    and outbox.exists()
                    and any(outbox.iterdir())
                )
                if done or worker.poll() is not None or beat.poll() is not None:
                    break
                time.sleep(0.5)
        finally:
            _stop(beat)
            _stop(worker)
            _queue_delete(queue)
        logs = (
            f"\n--- worker ({broker}) ---\n{worker_log.read_text()[-4000:]}"
            f"\n--- beat ---\n{beat_log.read_text()[-3000:]}"
        )

    assert email is not None and sms is not None, logs
    assert (email.kind, email.day, email.status, email.attempts, email.last_error) == (
        Notification.Kind.REMINDER_UPCOMING,
        today,
        Notification.Status.SENT,
        1,
        "",
    ), logs
    (message,) = [path.read_text() for path in outbox.iterdir()]
    due_text = f"{due:%B} {due.day}, {due.year}"
    assert f"Subject: Payment reminder: $200.00 due on {due_text}" in message
    assert "To: amina@example.com" in message
    assert f"X-Taqsit-Notification: {email.pk}" in message
    assert (
        f"This is a reminder that installment 1 of your plan {plan.reference} with Worker Shop, $200.00, is due on"
        in message
    )
    # The SMS: three attempts at the provider, then failed with the provider's answer kept.
    assert (sms.status, sms.attempts) == (Notification.Status.FAILED, 3), logs
    assert sms.last_error == 'SmsError: The SMS provider answered HTTP 500: {"message": "provider down"}'
    assert len(provider.requests) == 3
    assert {request["form"]["To"] for request in provider.requests} == {customer.phone}
    assert provider.requests[0]["form"]["Body"] == (
        f"Worker Shop: installment 1 of plan {plan.reference}, $200.00, is due on {due_text}."
    )
    # The day's run is recorded once, however often beat fired.
    assert list(DailyJobRun.objects.filter(finished_at__isnull=False).values_list("merchant_id", "day")) == [
        (merchant.pk, today)
    ]
