"""The daily run fanned out per merchant (dailyrun/tasks.py): beat's tick hands each merchant due to a worker as a
task of its own, and no merchant's day is run twice, whether the tick fires twice, a task is delivered twice, or
two workers are handed the same merchant at once; a run cut short (its worker killed) is done again.

``DailyJobRun.attempts`` counts the starts of a day's steps. Frozen at 2026-03-01 12:00 UTC (the ``today``
fixture); tasks are eager (dailyrun/tests/conftest.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from customers.tests.factories import CustomerFactory
from dailyrun.jobs import daily_runs_dispatch
from dailyrun.models import DailyJobRun
from dailyrun.tasks import daily_jobs_catch_up_task, daily_runs_dispatch_task
from installments.models import Installment
from installments.tests.factories import plan_make
from taqsit.models import Merchant
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

DAY = date(2026, 3, 1)


def _merchant_with_plan(name: str) -> Merchant:
    merchant = MerchantFactory(name=name)
    owner = UserFactory(merchant=merchant, role="owner", username=f"{name.lower()}-owner")
    customer = CustomerFactory(merchant=merchant, email=f"{name.lower()}@example.com")
    plan_make(actor=owner, customer=customer, first_due_date=date(2026, 2, 28))
    return merchant


def _runs() -> list[tuple[str, date, int, bool]]:
    return list(
        DailyJobRun.objects.order_by("merchant__name").values_list("merchant__name", "day", "attempts", "finished_at")
    )


def _finished(runs) -> list[tuple[str, date, int]]:
    assert all(finished is not None for *_, finished in runs)
    return [(name, day, attempts) for name, day, attempts, _finished_at in runs]


def test_a_tick_fired_twice_runs_each_merchant_once():
    for name in ("Alpha", "Beta", "Gamma"):
        _merchant_with_plan(name)

    assert daily_runs_dispatch_task.apply().get() == 3
    assert daily_runs_dispatch_task.apply().get() == 0

    assert _finished(_runs()) == [("Alpha", DAY, 1), ("Beta", DAY, 1), ("Gamma", DAY, 1)]
    # Each merchant's overdue installment was marked by its own run.
    assert Installment.objects.filter(status=Installment.Status.OVERDUE).count() == 3


def test_a_task_delivered_twice_runs_the_day_once():
    merchant = _merchant_with_plan("Alpha")

    first = daily_jobs_catch_up_task.apply(args=[str(merchant.pk)]).get()
    again = daily_jobs_catch_up_task.apply(args=[str(merchant.pk)]).get()

    assert (first, again) == (["2026-03-01"], [])
    assert _finished(_runs()) == [("Alpha", DAY, 1)]


@pytest.mark.django_db(transaction=True)
def test_two_workers_handed_the_same_merchant_at_once_run_it_once():
    merchants = [_merchant_with_plan(name) for name in ("Alpha", "Beta")]
    start = threading.Barrier(4)
    results: list[tuple[str, list[str]]] = []
    errors: list[Exception] = []

    def worker(merchant_id: str) -> None:
        try:
            start.wait()
            # Eager tasks on threads share Celery's stack of current tasks: get() must not take another's for its
            # caller (it would refuse, as inside a task).
            outcome = daily_jobs_catch_up_task.apply(args=[merchant_id])
            results.append((merchant_id, outcome.get(disable_sync_subtasks=False)))
        except Exception as exc:  # the assertion below names it
            errors.append(exc)
        finally:
            connection.close()

    # Two ticks' tasks for each merchant, taken by four workers at the same moment.
    threads = [threading.Thread(target=worker, args=[str(m.pk)]) for m in merchants for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    for merchant in merchants:
        assert sorted(days for merchant_id, days in results if merchant_id == str(merchant.pk)) == [
            [],
            ["2026-03-01"],
        ]
    assert _finished(_runs()) == [("Alpha", DAY, 1), ("Beta", DAY, 1)]


def test_a_run_cut_short_is_done_again_and_counted():
    merchant = _merchant_with_plan("Alpha")
    # A worker killed mid-run left the day started and not finished.
    DailyJobRun.objects.create(merchant=merchant, day=DAY, started_at=datetime(2026, 3, 1, 0, 5, tzinfo=UTC))

    assert daily_jobs_catch_up_task.apply(args=[str(merchant.pk)]).get() == ["2026-03-01"]
    assert daily_runs_dispatch() == 0

    assert _finished(_runs()) == [("Alpha", DAY, 2)]
