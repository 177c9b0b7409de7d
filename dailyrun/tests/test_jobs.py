"""The daily run (dailyrun/jobs.py), the beat tasks and ``manage.py run_daily_jobs``: catch-up, the
merchant's time zone around midnight, runs repeated or in parallel, and a plan paid the morning after.

Frozen at 2026-03-01 12:00 UTC unless a test travels elsewhere. The merchant "Viejos Recuerdos" is in UTC,
reminds 3 days ahead, has no grace days and quiet hours 21:00-08:00; its late fee is 15.00 here.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from customers.tests.factories import CustomerFactory
from dailyrun import jobs
from dailyrun.jobs import DAILY_STEPS, daily_jobs_catch_up, daily_jobs_run, daily_runs_dispatch
from dailyrun.models import DailyJobRun
from dailyrun.selectors import daily_days_due, merchants_due
from installments.models import Installment, InstallmentPlan, LateFee
from installments.tests.factories import plan_make
from notifications.models import Notification
from notifications.tasks import notifications_dispatch_task
from payments.services import payment_post
from taqsit.models import Merchant
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

Kind = Notification.Kind
Channel = Notification.Channel
Status = Notification.Status


@pytest.fixture
def merchant(merchant):
    Merchant.objects.filter(pk=merchant.pk).update(late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    merchant.refresh_from_db()
    return merchant


@pytest.fixture
def amina(merchant):
    return CustomerFactory(merchant=merchant, name="Amina Haddad", email="amina@example.com")


def _run_finished(merchant: Merchant, day: date) -> None:
    DailyJobRun.objects.create(
        merchant=merchant,
        day=day,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        finished_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _messages() -> list[tuple[int, str, str, date, str, str]]:
    return sorted(
        Notification.objects.filter(installment__isnull=False).values_list(
            "installment__plan__number", "kind", "channel", "day", "status", "last_error"
        )
    )


def test_the_steps_run_in_order():
    assert [name for name, _ in DAILY_STEPS] == [
        "installments_mark_overdue",
        "late_fees_apply",
        "plans_mark_defaulted",
        "plans_restore_active",
        "overdue_totals_advance",
        "promises_evaluate",
        "reminders_queue",
        "staff_digest_create",
        "audit_archive",
    ]


def test_a_run_calls_each_step_once_in_that_order_and_records_it(merchant, monkeypatch):
    called = []

    def recorded(name, step):
        def run(merchant, day, now):
            called.append(name)
            return step(merchant, day, now)

        return run

    monkeypatch.setattr(jobs, "DAILY_STEPS", tuple((name, recorded(name, step)) for name, step in DAILY_STEPS))

    results = daily_jobs_run(merchant=merchant, day=date(2026, 3, 1))

    order = [name for name, _ in DAILY_STEPS]  # the list the test above pins
    assert called == order
    assert list(results) == order
    assert DailyJobRun.objects.get(merchant=merchant, day=date(2026, 3, 1)).finished_at is not None


def test_the_days_owed(merchant):
    assert daily_days_due(merchant=merchant, today=date(2026, 3, 1)) == [date(2026, 3, 1)]
    _run_finished(merchant, date(2026, 2, 26))
    assert daily_days_due(merchant=merchant, today=date(2026, 3, 1)) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    # At most 31 days back: a longer outage is logged, its oldest days are not replayed.
    assert daily_days_due(merchant=merchant, today=date(2026, 5, 1))[0] == date(2026, 4, 1)
    _run_finished(merchant, date(2026, 3, 1))
    assert daily_days_due(merchant=merchant, today=date(2026, 3, 1)) == []


def test_three_missed_days_are_caught_up_oldest_first(
    owner, merchant, amina, sms_outbox, django_capture_on_commit_callbacks
):
    _run_finished(merchant, date(2026, 2, 25))  # then nothing ran on 02-26, 02-27 and 02-28
    late = plan_make(actor=owner, customer=amina, first_due_date=date(2026, 2, 28))  # P-000001
    soon = plan_make(actor=owner, customer=amina, first_due_date=date(2026, 3, 2))  # P-000002

    with django_capture_on_commit_callbacks(execute=True):
        days = daily_jobs_catch_up(merchant=merchant)

    assert days == [date(2026, 2, 26), date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)]
    assert list(
        DailyJobRun.objects.filter(finished_at__isnull=False).order_by("day").values_list("day", flat=True)
    ) == [
        date(2026, 2, 25),
        date(2026, 2, 26),
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    stale = "Due on 2026-02-28, not today (2026-03-01)."
    # Each missed day's messages were queued for that day. Sent if still true: P-000002's reminder (due 03-02,
    # from 02-27) and P-000001's first overdue alert (03-01); its "due today" of 02-28 is no longer true.
    assert _messages() == [
        (1, Kind.OVERDUE_ALERT, Channel.EMAIL, date(2026, 3, 1), Status.SENT, ""),
        (1, Kind.OVERDUE_ALERT, Channel.SMS, date(2026, 3, 1), Status.SENT, ""),
        (1, Kind.REMINDER_DUE_TODAY, Channel.EMAIL, date(2026, 2, 28), Status.SKIPPED, stale),
        (1, Kind.REMINDER_DUE_TODAY, Channel.SMS, date(2026, 2, 28), Status.SKIPPED, stale),
        (2, Kind.REMINDER_UPCOMING, Channel.EMAIL, date(2026, 2, 27), Status.SENT, ""),
        (2, Kind.REMINDER_UPCOMING, Channel.SMS, date(2026, 2, 27), Status.SENT, ""),
    ]  # fmt: skip
    assert sorted(message.subject for message in mail.outbox) == [
        "Overdue payment: $215.00 was due on February 28, 2026",
        "Payment reminder: $200.00 due on March 2, 2026",
    ]
    assert len(sms_outbox) == 2
    # The fee for the missed night, once; the row is overdue; the plan due 03-02 is untouched.
    assert list(LateFee.objects.values_list("plan__number", "installment__number", "period", "amount")) == [
        (1, 1, date(2026, 3, 1), Decimal("15.000"))
    ]
    assert Installment.objects.get(plan=late, number=1).status == Installment.Status.OVERDUE
    assert Installment.objects.get(plan=soon, number=1).status == Installment.Status.PENDING
    # The owner's digest for 03-01, when P-000001's row became overdue.
    assert list(Notification.objects.filter(kind=Kind.STAFF_DIGEST).values_list("user__username", "day")) == [
        ("owner", date(2026, 3, 1))
    ]

    # Caught up: running again owes nothing and changes nothing.
    count = Notification.objects.count()
    assert daily_jobs_catch_up(merchant=merchant) == []
    assert Notification.objects.count() == count
    assert LateFee.objects.count() == 1


def test_a_day_run_three_times_does_everything_once(owner, merchant, amina):
    plan = plan_make(actor=owner, customer=amina, first_due_date=date(2026, 2, 28))

    results = [daily_jobs_run(merchant=merchant, day=date(2026, 3, 1)) for _ in range(3)]

    assert results[0] == {
        "installments_mark_overdue": 1,
        "late_fees_apply": {"count": 1, "total": "15.00"},
        "plans_mark_defaulted": 0,
        "plans_restore_active": 0,
        "overdue_totals_advance": "rebuilt",
        "promises_evaluate": {"recounted": 0, "kept": 0, "broken": 0, "reopened": 0},
        "reminders_queue": 2,
        "staff_digest_create": 1,
        "audit_archive": 0,
    }
    assert (
        results[1]
        == results[2]
        == {
            "installments_mark_overdue": 0,
            "late_fees_apply": {"count": 0, "total": "0.00"},
            "plans_mark_defaulted": 0,
            "plans_restore_active": 0,
            "overdue_totals_advance": "current",
            "promises_evaluate": {"recounted": 0, "kept": 0, "broken": 0, "reopened": 0},
            "reminders_queue": 0,
            "staff_digest_create": 0,
            "audit_archive": 0,
        }
    )
    assert DailyJobRun.objects.get().results == results[2]
    plan.refresh_from_db()
    assert plan.late_fees == Decimal("15.00")
    assert Notification.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_same_day_in_parallel_do_everything_once(owner, merchant, amina, ledger_assert):
    plans = [plan_make(actor=owner, customer=amina, first_due_date=date(2026, 2, 28)) for _ in range(3)]
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            start.wait()
            daily_jobs_run(merchant=Merchant.objects.get(pk=merchant.pk), day=date(2026, 3, 1))
        except Exception as exc:  # the assertion below names it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert LateFee.objects.count() == 3
    for plan in plans:
        plan.refresh_from_db()
        assert plan.late_fees == Decimal("15.00")
        ledger_assert(plan)
    # Two channels for each plan's first overdue alert, and one digest for the owner.
    assert Notification.objects.filter(kind=Kind.OVERDUE_ALERT).count() == 6
    assert Notification.objects.filter(kind=Kind.STAFF_DIGEST).count() == 1
    assert DailyJobRun.objects.count() == 1


def _merchant_with_plan(name: str, timezone: str, first_due: date) -> tuple[Merchant, InstallmentPlan]:
    merchant = MerchantFactory(name=name, timezone=timezone)
    owner = UserFactory(merchant=merchant, role="owner")
    customer = CustomerFactory(merchant=merchant, email=f"{name.lower()}@example.com")
    return merchant, plan_make(actor=owner, customer=customer, first_due_date=first_due)


def test_each_merchants_day_starts_at_its_own_midnight(merchant):
    riyadh = MerchantFactory(name="Riyadh", timezone="Asia/Riyadh")  # UTC+3
    honolulu = MerchantFactory(name="Honolulu", timezone="Pacific/Honolulu")  # UTC-10
    for shop in (merchant, riyadh, honolulu):
        _run_finished(shop, date(2026, 2, 28))

    def due(instant: datetime) -> list[str]:
        return [shop.name for shop in merchants_due(now=instant)]

    assert due(datetime(2026, 2, 28, 20, 59, tzinfo=UTC)) == []  # 23:59 in Riyadh
    assert due(datetime(2026, 2, 28, 21, 0, tzinfo=UTC)) == ["Riyadh"]  # midnight in Riyadh
    assert sorted(due(datetime(2026, 3, 1, 0, 0, tzinfo=UTC))) == ["Riyadh", "Viejos Recuerdos"]
    assert sorted(due(datetime(2026, 3, 1, 9, 59, tzinfo=UTC))) == ["Riyadh", "Viejos Recuerdos"]  # 23:59 Honolulu
    assert sorted(due(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))) == ["Honolulu", "Riyadh", "Viejos Recuerdos"]


def test_the_same_instant_is_a_different_day_for_each_merchant(db):
    riyadh, riyadh_plan = _merchant_with_plan("Riyadh", "Asia/Riyadh", date(2026, 2, 28))
    utc, utc_plan = _merchant_with_plan("Greenwich", "UTC", date(2026, 2, 28))

    # 21:30 UTC on 02-28 is 00:30 on 03-01 in Riyadh: the row due 02-28 is overdue there, due today in UTC.
    with time_machine.travel(datetime(2026, 2, 28, 21, 30, tzinfo=UTC), tick=False):
        assert daily_jobs_catch_up(merchant=riyadh) == [date(2026, 3, 1)]
        assert daily_jobs_catch_up(merchant=utc) == [date(2026, 2, 28)]

    assert Installment.objects.get(plan=riyadh_plan, number=1).status == Installment.Status.OVERDUE
    assert Installment.objects.get(plan=utc_plan, number=1).status == Installment.Status.PENDING
    assert sorted(
        Notification.objects.filter(channel=Channel.EMAIL).values_list("merchant__name", "kind", "day", "send_after")
    ) == [
        # Both are in their quiet hours (21:00-08:00 local): they wait until 08:00 local.
        ("Greenwich", Kind.REMINDER_DUE_TODAY, date(2026, 2, 28), datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
        ("Riyadh", Kind.OVERDUE_ALERT, date(2026, 3, 1), datetime(2026, 3, 1, 5, 0, tzinfo=UTC)),
    ]


def test_a_plan_paid_the_morning_after_it_was_marked_overdue(
    owner, merchant, amina, sms_outbox, django_capture_on_commit_callbacks, ledger_assert
):
    plan = plan_make(actor=owner, customer=amina, first_due_date=date(2026, 2, 28))
    # 00:30 on 03-01: the row due 02-28 is marked overdue and charged; its alert waits for 08:00 (quiet hours).
    with (
        time_machine.travel(datetime(2026, 3, 1, 0, 30, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert daily_jobs_catch_up(merchant=merchant) == [date(2026, 3, 1)]
    assert Installment.objects.get(plan=plan, number=1).status == Installment.Status.OVERDUE
    assert list(Notification.objects.filter(kind=Kind.OVERDUE_ALERT).values_list("status", flat=True)) == [
        Status.QUEUED,
        Status.QUEUED,
    ]

    # 07:30: the customer pays the row and its fee at the counter.
    with time_machine.travel(datetime(2026, 3, 1, 7, 30, tzinfo=UTC), tick=False):
        payment_post(actor=owner, plan=plan, amount=Decimal("215.00"))

    # 08:00: the alerts are handed out, and not sent: nothing is overdue any more.
    with (
        time_machine.travel(datetime(2026, 3, 1, 8, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notifications_dispatch_task.delay().get() == 2
    assert list(Notification.objects.filter(kind=Kind.OVERDUE_ALERT).values_list("status", "last_error")) == [
        (Status.SKIPPED, "Installment 1 is paid."),
        (Status.SKIPPED, "Installment 1 is paid."),
    ]
    assert mail.outbox == []
    assert sms_outbox == []

    # The next night changes nothing for the plan: no second fee, no new message, still active and paid.
    with time_machine.travel(datetime(2026, 3, 2, 0, 30, tzinfo=UTC), tick=False):
        assert daily_jobs_catch_up(merchant=merchant) == [date(2026, 3, 2)]
    assert Installment.objects.get(plan=plan, number=1).status == Installment.Status.PAID
    assert LateFee.objects.filter(plan=plan).count() == 1
    assert Notification.objects.filter(installment__plan=plan).count() == 2
    plan.refresh_from_db()
    assert (plan.status, plan.late_fees) == (InstallmentPlan.Status.ACTIVE, Decimal("15.00"))
    ledger_assert(plan)


def test_beat_hands_each_merchant_due_to_a_worker(owner, merchant, amina):
    other = MerchantFactory(name="Another Shop")
    MerchantFactory(name="Closed", is_active=False)
    _run_finished(other, date(2026, 3, 1))

    # Eager tasks: the worker's part runs here.
    assert daily_runs_dispatch() == 1
    assert list(DailyJobRun.objects.order_by("merchant__name").values_list("merchant__name", "day")) == [
        ("Another Shop", date(2026, 3, 1)),
        ("Viejos Recuerdos", date(2026, 3, 1)),
    ]
    assert daily_runs_dispatch() == 0


# manage.py run_daily_jobs -----------------------------------------------------------------------------------


def _command(*args: str) -> str:
    out = StringIO()
    call_command("run_daily_jobs", *args, stdout=out)
    return out.getvalue()


def test_the_command_catches_up_every_merchant(owner, merchant, amina):
    MerchantFactory(name="Another Shop")
    _run_finished(merchant, date(2026, 2, 27))

    assert _command() == "Another Shop: ran 2026-03-01\nViejos Recuerdos: ran 2026-02-28, 2026-03-01\n"
    assert _command() == (
        "Another Shop: nothing owed (or running elsewhere).\nViejos Recuerdos: nothing owed (or running elsewhere).\n"
    )


def test_the_command_runs_one_day_of_one_merchant_again(owner, merchant, amina):
    plan_make(actor=owner, customer=amina, first_due_date=date(2026, 2, 28))
    MerchantFactory(name="Another Shop")

    first = _command("--merchant", "viejos recuerdos", "--date", "2026-02-28")
    again = _command("--merchant", str(merchant.pk), "--date", "2026-02-28")

    assert first.startswith("Viejos Recuerdos: ran 2026-02-28: {'installments_mark_overdue': 0, ")
    assert "'reminders_queue': 2" in first
    assert "'reminders_queue': 0" in again
    assert list(DailyJobRun.objects.values_list("merchant__name", "day")) == [("Viejos Recuerdos", date(2026, 2, 28))]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--merchant", "Nobody"], "No merchant named or with id 'Nobody'."),
        (
            ["--merchant", "Viejos Recuerdos", "--date", "2026-03-02"],
            "2026-03-02 is after Viejos Recuerdos's today (2026-03-01): nothing was run.",
        ),
    ],
)
def test_the_command_refuses_what_it_cannot_run(merchant, args, message):
    with pytest.raises(CommandError) as error:
        _command(*args)

    assert str(error.value) == message
    assert not DailyJobRun.objects.exists()
