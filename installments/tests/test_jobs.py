"""The daily job services on schedules (installments/jobs.py), on PostgreSQL with frozen dates and exact values.

The clock is frozen at 2026-03-01 (the ``today`` fixture); the jobs take the merchant's day explicitly, so each
test walks the calendar by passing days. A ``plan_make`` plan (1000.00, 200.00 down, four monthly 200.00 from
2026-01-15) is due 2026-02-15, 03-15, 04-15 and 05-15.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from installments.jobs import (
    DEFAULTED_REASON,
    RESTORED_REASON,
    installments_mark_overdue,
    late_fees_apply,
    plans_mark_defaulted,
    plans_restore_active,
)
from installments.models import Installment, InstallmentPlan, LateFee
from installments.services import plan_cancel, plan_mark_defaulted
from installments.tests.factories import plan_make
from payments.services import payment_post
from taqsit.models import Merchant
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

Status = Installment.Status
PlanStatus = InstallmentPlan.Status


def _policy(merchant: Merchant, **fields) -> Merchant:
    Merchant.objects.filter(pk=merchant.pk).update(**fields)
    merchant.refresh_from_db()
    return merchant


def _statuses(plan) -> list[tuple[int, str]]:
    return list(Installment.objects.current().filter(plan=plan).order_by("number").values_list("number", "status"))


def _fees(plan) -> list[tuple[int, date, Decimal]]:
    return list(
        LateFee.objects.filter(plan=plan)
        .order_by("installment__number", "period")
        .values_list("installment__number", "period", "amount")
    )


def _totals(plan) -> tuple[Decimal, list[Decimal]]:
    plan.refresh_from_db()
    rows = list(Installment.objects.filter(plan=plan).order_by("number").values_list("late_fee", flat=True))
    return plan.late_fees, rows


# Overdue marking ------------------------------------------------------------------------------------------


def test_overdue_waits_for_the_grace_days(owner, customer):
    merchant = _policy(owner.merchant, grace_days=3)
    plan = plan_make(actor=owner, customer=customer)

    # Due 2026-02-15 with three grace days: the 18th is the last day of grace, the 19th the first overdue day.
    assert installments_mark_overdue(merchant=merchant, today=date(2026, 2, 18)) == 0
    assert _statuses(plan) == [(1, Status.PENDING), (2, Status.PENDING), (3, Status.PENDING), (4, Status.PENDING)]

    assert installments_mark_overdue(merchant=merchant, today=date(2026, 2, 19)) == 1
    assert _statuses(plan) == [(1, Status.OVERDUE), (2, Status.PENDING), (3, Status.PENDING), (4, Status.PENDING)]


def test_overdue_marking_twice_changes_nothing_more(owner, customer):
    plan = plan_make(actor=owner, customer=customer)

    assert installments_mark_overdue(merchant=owner.merchant, today=date(2026, 3, 16)) == 2
    assert installments_mark_overdue(merchant=owner.merchant, today=date(2026, 3, 16)) == 0
    assert _statuses(plan) == [(1, Status.OVERDUE), (2, Status.OVERDUE), (3, Status.PENDING), (4, Status.PENDING)]


def test_overdue_marking_leaves_paid_rows_and_plans_not_collected(owner, customer):
    paid = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=paid, amount=Decimal("200.00"), payment_date=date(2026, 2, 10))
    partly = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=partly, amount=Decimal("50.00"), payment_date=date(2026, 2, 10))
    cancelled = plan_make(actor=owner, customer=customer)
    plan_cancel(actor=owner, plan=cancelled, reason="Goods returned.")
    unpaid = plan_make(actor=owner, customer=customer)

    # The payment service already set ``partly``'s row overdue (it computes the status when it pays): only
    # ``unpaid``'s row is left to mark.
    assert _statuses(partly)[0] == (1, Status.OVERDUE)
    assert installments_mark_overdue(merchant=owner.merchant, today=date(2026, 3, 1)) == 1

    assert _statuses(paid)[0] == (1, Status.PAID)
    assert _statuses(partly)[0] == (1, Status.OVERDUE)
    assert _statuses(cancelled)[0] == (1, Status.PENDING)
    assert _statuses(unpaid)[0] == (1, Status.OVERDUE)


def test_a_row_no_longer_overdue_goes_back_when_the_grace_days_grow(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    other = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=other, amount=Decimal("50.00"), payment_date=date(2026, 2, 10))
    installments_mark_overdue(merchant=owner.merchant, today=date(2026, 3, 1))
    assert _statuses(plan)[0] == (1, Status.OVERDUE)

    merchant = _policy(owner.merchant, grace_days=20)
    assert installments_mark_overdue(merchant=merchant, today=date(2026, 3, 1)) == 2

    assert _statuses(plan)[0] == (1, Status.PENDING)
    assert _statuses(other)[0] == (1, Status.PARTIALLY_PAID)


def test_overdue_marking_works_in_chunks_with_a_fixed_number_of_queries(owner, customer, django_assert_num_queries):
    plans = [plan_make(actor=owner, customer=customer) for _ in range(5)]

    # Ten rows to mark in chunks of six: two chunks of a SELECT and an UPDATE, each in its savepoint (4 queries),
    # the empty SELECT that ends the loop (3), then the same empty SELECT for rows to un-mark (3). More rows make
    # more chunks, never a query per row. (And 1: the job's audit context cleared as it ends inside this test's
    # transaction, taqsit/audit.py.)
    with django_assert_num_queries(4 * 2 + 3 + 3 + 1):
        assert installments_mark_overdue(merchant=owner.merchant, today=date(2026, 3, 16), chunk_size=6) == 10

    for plan in plans:
        assert _statuses(plan) == [(1, Status.OVERDUE), (2, Status.OVERDUE), (3, Status.PENDING), (4, Status.PENDING)]


# Late fees ------------------------------------------------------------------------------------------------


def test_a_fixed_late_fee_is_charged_once_for_its_period_however_often_the_job_runs(owner, customer, ledger_assert):
    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"), grace_days=2)
    plan = plan_make(actor=owner, customer=customer)

    runs = [late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) for _ in range(3)]

    assert runs == [(1, Decimal("15.00")), (0, Decimal("0")), (0, Decimal("0"))]
    # The period is the row's first overdue day: due 02-15 + 2 grace days + 1.
    assert _fees(plan) == [(1, date(2026, 2, 18), Decimal("15.00"))]
    assert _totals(plan) == (Decimal("15.00"), [Decimal("15.00"), Decimal("0"), Decimal("0"), Decimal("0")])
    ledger_assert(plan)

    # Later days charge nothing more on row 1; row 2 gets its own fee once it is overdue (due 03-15, from 03-18).
    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 17)) == (0, Decimal("0"))
    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 18)) == (1, Decimal("15.00"))
    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 30)) == (0, Decimal("0"))
    assert _fees(plan) == [(1, date(2026, 2, 18), Decimal("15.00")), (2, date(2026, 3, 18), Decimal("15.00"))]
    assert _totals(plan) == (Decimal("30.00"), [Decimal("15.00"), Decimal("15.00"), Decimal("0"), Decimal("0")])
    ledger_assert(plan)


def test_no_fee_during_the_grace_days(owner, customer):
    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"), grace_days=3)
    plan = plan_make(actor=owner, customer=customer)

    assert late_fees_apply(merchant=merchant, today=date(2026, 2, 18)) == (0, Decimal("0"))
    assert _fees(plan) == []
    assert late_fees_apply(merchant=merchant, today=date(2026, 2, 19)) == (1, Decimal("15.00"))
    assert _fees(plan) == [(1, date(2026, 2, 19), Decimal("15.00"))]


def test_the_fee_the_demo_or_a_clerk_charged_for_the_period_is_not_charged_again(owner, customer):
    from installments.tests.factories import late_fee_make

    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    plan = plan_make(actor=owner, customer=customer)
    row = Installment.objects.get(plan=plan, number=1)
    late_fee_make(installment=row, period=date(2026, 2, 16), amount=Decimal("15.00"))

    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) == (0, Decimal("0"))
    assert _totals(plan) == (Decimal("15.00"), [Decimal("15.00"), Decimal("0"), Decimal("0"), Decimal("0")])


def test_a_percent_fee_is_rounded_half_up_on_what_is_left_of_the_row(owner, customer, ledger_assert):
    # Rows of 275.00; 1.5% of 275.00 is 4.125: half-up gives 4.13 (half-even would give 4.12).
    merchant = _policy(owner.merchant, late_fee_method="percent", late_fee_percent=Decimal("1.5"))
    whole = plan_make(actor=owner, customer=customer, total_amount=Decimal("1300.00"))
    partly = plan_make(actor=owner, customer=customer, total_amount=Decimal("1300.00"))
    payment_post(actor=owner, plan=partly, amount=Decimal("100.00"), payment_date=date(2026, 2, 10))

    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) == (2, Decimal("6.76"))

    assert _fees(whole) == [(1, date(2026, 2, 16), Decimal("4.13"))]
    # 1.5% of the 175.00 left is 2.625: 2.63.
    assert _fees(partly) == [(1, date(2026, 2, 16), Decimal("2.63"))]
    ledger_assert(whole)
    ledger_assert(partly)


def test_a_percent_fee_is_capped(owner, customer):
    merchant = _policy(
        owner.merchant, late_fee_method="percent", late_fee_percent=Decimal("10"), late_fee_cap=Decimal("20.00")
    )
    plan = plan_make(actor=owner, customer=customer, total_amount=Decimal("1300.00"))

    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) == (1, Decimal("20.00"))
    assert _fees(plan) == [(1, date(2026, 2, 16), Decimal("20.00"))]


def test_a_percent_fee_in_a_currency_without_cents(db, today):
    merchant = MerchantFactory(currency="JPY", late_fee_method="percent", late_fee_percent=Decimal("3"))
    owner = UserFactory(merchant=merchant, role="owner")
    from customers.tests.factories import CustomerFactory

    customer = CustomerFactory(merchant=merchant)
    plan = plan_make(actor=owner, customer=customer, total_amount=Decimal("13000"), down_payment=Decimal("2000"))

    # 3% of 2750 is 82.5: half-up to the yen gives 83.
    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) == (1, Decimal("83"))
    assert _fees(plan) == [(1, date(2026, 2, 16), Decimal("83.000"))]


def test_no_late_fee_rule_charges_nothing_and_closed_plans_are_not_charged(owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    assert late_fees_apply(merchant=owner.merchant, today=date(2026, 3, 1)) == (0, Decimal("0"))

    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    plan_cancel(actor=owner, plan=plan, reason="Goods returned.")
    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) == (0, Decimal("0"))
    assert _fees(plan) == []


def test_defaulted_plans_are_still_charged(owner, customer):
    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    plan = plan_make(actor=owner, customer=customer)
    plan_mark_defaulted(actor=owner, plan=plan)

    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) == (1, Decimal("15.00"))


def test_late_fees_in_chunks_take_a_fixed_number_of_queries(owner, customer, django_assert_num_queries):
    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    plans = [plan_make(actor=owner, customer=customer) for _ in range(6)]

    # One read lists the plans with a row to charge; then three chunks of two plans: each locks its plans and
    # runs one INSERT ... SELECT with the totals (plus its savepoint). Six plans or six thousand: the same per
    # chunk. (And 1: the job's audit context cleared as it ends inside this test's transaction, taqsit/audit.py.)
    with django_assert_num_queries(1 + 4 * 3 + 1):
        assert late_fees_apply(merchant=merchant, today=date(2026, 3, 16), chunk_size=2) == (12, Decimal("180.00"))

    for plan in plans:
        assert _totals(plan) == (Decimal("30.00"), [Decimal("15.00"), Decimal("15.00"), Decimal("0"), Decimal("0")])


# Defaults -------------------------------------------------------------------------------------------------


def test_a_plan_is_defaulted_on_the_limits_day_and_not_before(owner, customer):
    merchant = _policy(owner.merchant, grace_days=2, default_after_days=10)
    plan = plan_make(actor=owner, customer=customer)

    # Due 02-15, first overdue day 02-18 (day 1): day 10 is 02-27.
    assert plans_mark_defaulted(merchant=merchant, today=date(2026, 2, 26)) == 0
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE

    assert plans_mark_defaulted(merchant=merchant, today=date(2026, 2, 27)) == 1
    assert plans_mark_defaulted(merchant=merchant, today=date(2026, 2, 27)) == 0
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == (PlanStatus.DEFAULTED, DEFAULTED_REASON)


def test_a_defaulted_plan_brought_up_to_date_stays_active(owner, customer, ledger_assert):
    merchant = _policy(owner.merchant, default_after_days=10)
    plan = plan_make(actor=owner, customer=customer)
    assert plans_mark_defaulted(merchant=merchant, today=date(2026, 3, 1)) == 1

    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"))
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == (PlanStatus.ACTIVE, "Brought up to date.")

    assert plans_mark_defaulted(merchant=merchant, today=date(2026, 3, 2)) == 0
    assert plans_restore_active(merchant=merchant, today=date(2026, 3, 2)) == 0
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    ledger_assert(plan)


def test_a_defaulted_plan_with_nothing_overdue_any_more_is_restored(owner, customer):
    merchant = _policy(owner.merchant, default_after_days=10)
    plan = plan_make(actor=owner, customer=customer)
    still = plan_make(actor=owner, customer=customer, start_date=date(2025, 12, 1))
    assert plans_mark_defaulted(merchant=merchant, today=date(2026, 3, 1)) == 2

    # Twenty grace days: ``plan`` (due 02-15) is no longer overdue on 03-01; ``still`` (due 01-01) is.
    merchant = _policy(merchant, grace_days=20)
    assert plans_restore_active(merchant=merchant, today=date(2026, 3, 1)) == 1

    plan.refresh_from_db()
    still.refresh_from_db()
    assert (plan.status, plan.status_reason) == (PlanStatus.ACTIVE, RESTORED_REASON)
    assert still.status == PlanStatus.DEFAULTED


# The morning after -----------------------------------------------------------------------------------------


def test_a_plan_paid_the_morning_after_it_was_marked_overdue(owner, customer, ledger_assert):
    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    plan = plan_make(actor=owner, customer=customer, first_due_date=date(2026, 2, 28))
    # The night of 03-01: the row due 02-28 is overdue and charged its fee.
    assert installments_mark_overdue(merchant=merchant, today=date(2026, 3, 1)) == 1
    assert late_fees_apply(merchant=merchant, today=date(2026, 3, 1)) == (1, Decimal("15.00"))

    # The morning of 03-01 the customer pays the row and its fee.
    payment_post(actor=owner, plan=plan, amount=Decimal("215.00"))

    assert _statuses(plan)[0] == (1, Status.PAID)
    # The next nights change nothing: no second fee, the row stays paid, the plan active.
    for day in (date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)):
        assert installments_mark_overdue(merchant=merchant, today=day) == 0
        assert late_fees_apply(merchant=merchant, today=day) == (0, Decimal("0"))
        assert plans_mark_defaulted(merchant=merchant, today=day) == 0
    assert _statuses(plan)[0] == (1, Status.PAID)
    assert _fees(plan) == [(1, date(2026, 3, 1), Decimal("15.00"))]
    plan.refresh_from_db()
    assert (plan.status, plan.late_fees) == (PlanStatus.ACTIVE, Decimal("15.00"))
    ledger_assert(plan)


# Concurrency (real transactions, one connection per thread) -------------------------------------------------


def _in_thread(target, results: list, index: int, *args) -> threading.Thread:
    def run() -> None:
        try:
            results[index] = target(*args)
        except Exception as exc:  # the assertion names it
            results[index] = exc
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_two_fee_jobs_in_parallel_charge_each_fee_once(owner, customer, ledger_assert):
    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    plans = [plan_make(actor=owner, customer=customer) for _ in range(4)]
    start = threading.Barrier(2)

    def job() -> tuple[int, Decimal]:
        start.wait()
        return late_fees_apply(merchant=Merchant.objects.get(pk=merchant.pk), today=date(2026, 3, 16), chunk_size=1)

    results: list = [None, None]
    threads = [_in_thread(job, results, index) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(isinstance(result, Exception) for result in results), results
    assert sum(count for count, _ in results) == 8
    assert sum(total for _, total in results) == Decimal("120.00")
    assert LateFee.objects.count() == 8
    for plan in plans:
        assert _totals(plan) == (Decimal("30.00"), [Decimal("15.00"), Decimal("15.00"), Decimal("0"), Decimal("0")])
        ledger_assert(plan)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("amount", "plan_status", "fees"),
    [
        # The payment completes the plan while the job waits for its lock: a fee now would break the plan's
        # CHECK (completed means paid); the job sees the completed plan and charges nothing.
        (Decimal("800.00"), InstallmentPlan.Status.COMPLETED, []),
        # The payment pays the overdue row: nothing is overdue any more, so nothing is charged.
        (Decimal("200.00"), InstallmentPlan.Status.ACTIVE, []),
        # A partial payment: the row is still overdue and charged once, on top of what was paid.
        (Decimal("50.00"), InstallmentPlan.Status.ACTIVE, [(1, date(2026, 2, 16), Decimal("15.00"))]),
    ],
)
def test_a_fee_job_waits_for_a_payment_holding_the_plan_and_loses_no_money(
    owner, customer, ledger_assert, amount, plan_status, fees
):
    merchant = _policy(owner.merchant, late_fee_method="fixed", late_fee_amount=Decimal("15.00"))
    plan = plan_make(actor=owner, customer=customer)
    locked = threading.Event()

    def pay() -> None:
        with transaction.atomic():
            payment_post(actor=owner, plan=plan, amount=amount)
            locked.set()
            time.sleep(0.5)  # the job starts now and must wait for this transaction

    def job() -> tuple[int, Decimal]:
        locked.wait(timeout=30)
        return late_fees_apply(merchant=Merchant.objects.get(pk=merchant.pk), today=date(2026, 3, 1))

    results: list = [None, None]
    threads = [_in_thread(pay, results, 0), _in_thread(job, results, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(isinstance(result, Exception) for result in results), results
    assert _fees(plan) == fees
    plan.refresh_from_db()
    assert plan.status == plan_status
    assert plan.late_fees == sum((fee for _, _, fee in fees), Decimal("0"))
    ledger_assert(plan)
