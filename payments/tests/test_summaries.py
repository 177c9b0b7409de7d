"""The statistics' summary rows: kept by the services and the daily job in the movement's transaction, they equal
what ``stats_rebuild`` recomputes from the ledger after any sequence of operations (early settlements with each
rebate rule and charity fees under murabaha terms among them), and the statistics read from them equal the full
computation over the book (``merchant_stats_compute_full``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from customers.tests.factories import CustomerFactory
from installments.jobs import installments_mark_overdue, late_fees_apply, plans_mark_defaulted, plans_restore_active
from installments.models import (
    CustomerOverdueTotal,
    DueDayTotal,
    Installment,
    InstallmentPlan,
    MerchantOverdueTotal,
    PlanStatusTotal,
)
from installments.overdue import overdue_totals_advance, overdue_totals_rebuild
from installments.selectors import overdue_cutoff
from installments.services import (
    plan_approve,
    plan_cancel,
    plan_create,
    plan_delete,
    plan_reject,
    plan_reschedule,
)
from installments.tests.factories import late_fee_make, plan_make
from payments.models import CollectionDayTotal, Payment
from payments.selectors import charity_fees_totals, charity_fees_totals_from_ledger
from payments.services import (
    charity_disbursement_record,
    payment_complete,
    payment_fail,
    payment_post,
    payment_refund,
    payment_void,
    plan_settle,
)
from payments.stats import merchant_stats_compute, merchant_stats_compute_full
from payments.summaries import SUMMARY_MODELS, summaries_rebuild
from taqsit.models import Merchant, Role
from taqsit.money import to_money
from taqsit.tenancy import merchant_scope
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
START = datetime(2026, 1, 5, 12, tzinfo=UTC)


def summary_rows(merchant: Merchant) -> dict:
    """The merchant's summary rows by table and key, rows all zero left out (a row emptied by a refund stays)."""
    found = {}
    for model in (*SUMMARY_MODELS, MerchantOverdueTotal, CustomerOverdueTotal):
        keys = [f.name for f in model._meta.fields if f.name in _KEYS[model]]
        values = [f.name for f in model._meta.fields if f.name not in (*_KEYS[model], "id", "merchant")]
        for row in model.objects.filter(merchant=merchant).values(*keys, *values):
            if any(row[name] for name in values):
                found[(model.__name__, *(row[key] for key in keys))] = {name: row[name] for name in values}
    return found


_KEYS = {
    PlanStatusTotal: ("status",),
    DueDayTotal: ("due_date",),
    CollectionDayTotal: ("payment_date", "payment_method", "kind"),
    MerchantOverdueTotal: (),
    CustomerOverdueTotal: ("customer",),
}


def rebuilt_rows(merchant: Merchant) -> dict:
    """What ``summaries_rebuild`` makes of the ledger, rolled back afterwards; the overdue rows only for a
    merchant that has them (the first daily run makes them)."""
    kept_overdue = MerchantOverdueTotal.objects.filter(merchant=merchant).exists()
    with transaction.atomic():
        summaries_rebuild(merchant=merchant)
        rows = summary_rows(merchant)
        transaction.set_rollback(True)
    overdue = ("MerchantOverdueTotal", "CustomerOverdueTotal")
    return {key: value for key, value in rows.items() if kept_overdue or key[0] not in overdue}


def _comparable(stats) -> dict:
    return {**dataclasses.asdict(stats), "computed_at": None}


def assert_in_step(merchant: Merchant, today: date) -> None:
    assert summary_rows(merchant) == rebuilt_rows(merchant)
    assert charity_fees_totals(merchant=merchant) == charity_fees_totals_from_ledger(merchant=merchant)
    assert _comparable(merchant_stats_compute(merchant=merchant, today=today)) == _comparable(
        merchant_stats_compute_full(merchant=merchant, today=today)
    )


def _attempt(service, **arguments) -> None:
    """An operation the services may refuse (a plan already closed, a schedule that cannot start then); which
    were done and which refused shows in ``--hypothesis-show-statistics``."""
    try:
        with transaction.atomic():
            service(**arguments)
    except ValidationError:
        event(f"{service.__name__} refused")
    else:
        event(f"{service.__name__} done")


OPERATIONS = (
    "create",
    "create",
    "decide",
    "cancel",
    "delete",
    "reschedule",
    "pay",
    "pay",
    "pay",
    "pay_pending",
    "settle_pending",
    "reverse",
    "late_fee",
    "days_pass",
    "days_pass",
    "settle",
    "settle",
    "disburse",
)

Rebate = Merchant.SettlementRebate


def _operate(data, operation: str, *, merchant: Merchant, owner, customers: list, clock) -> None:
    """One random ``operation`` on the merchant's book, through the services or the daily job, as of the clock's
    today (``days_pass`` moves the clock on and runs the daily job)."""
    today = datetime.now(UTC).date()
    plans = list(InstallmentPlan.objects.filter(merchant=merchant).order_by("number"))
    payments = list(Payment.objects.filter(merchant=merchant).order_by("plan__number", "payment_number"))
    if operation == "create" or not plans:
        total = D(data.draw(st.integers(100, 3000)))
        _attempt(
            plan_create,
            actor=owner,
            customer=data.draw(st.sampled_from(customers)),
            total_amount=total,
            down_payment=D(data.draw(st.sampled_from([0, 10, 50]))),
            number_of_installments=data.draw(st.integers(1, 6)),
            installment_frequency=data.draw(st.sampled_from(["weekly", "monthly"])),
            start_date=today - timedelta(days=data.draw(st.integers(0, 60))),
            # A flat 12% (settlements then rebate interest) or no finance charge at all.
            **data.draw(
                st.sampled_from(
                    [
                        {"finance_charge_method": "flat", "interest_rate": D("12")},
                        {"finance_charge_method": "none", "interest_rate": D("0")},
                    ]
                )
            ),
        )
    elif operation == "decide":
        plan = data.draw(st.sampled_from(plans))
        if data.draw(st.booleans()):
            _attempt(plan_approve, actor=owner, plan=plan)
        else:
            _attempt(plan_reject, actor=owner, plan=plan, reason="No.")
    elif operation == "cancel":
        plan = data.draw(st.sampled_from(plans))
        _attempt(plan_cancel, actor=owner, plan=plan, reason="Returned.")
    elif operation == "delete":
        plan = data.draw(st.sampled_from(plans))
        _attempt(plan_delete, actor=owner, plan=plan)
    elif operation == "reschedule":
        plan = data.draw(st.sampled_from(plans))
        _attempt(
            plan_reschedule,
            actor=owner,
            plan=plan,
            number_of_installments=data.draw(st.integers(1, 4)),
            installment_frequency="monthly",
            start_date=today + timedelta(days=data.draw(st.integers(0, 40))),
        )
    elif operation in ("pay", "pay_pending"):
        plan = data.draw(st.sampled_from(plans))
        plan.refresh_from_db()
        share = D(data.draw(st.integers(1, 100))) / 100
        amount = max(to_money(plan.remaining_balance * share, "USD"), D("0.01"))
        _attempt(
            payment_post,
            actor=owner,
            plan=plan,
            amount=amount,
            payment_date=today - timedelta(days=data.draw(st.integers(0, 3))),
            payment_method=data.draw(st.sampled_from(["cash", "card", "cheque"])),
            status="pending" if operation == "pay_pending" else "completed",
        )
    elif operation == "settle_pending" and payments:
        payment = data.draw(st.sampled_from(payments))
        if data.draw(st.booleans()):
            _attempt(payment_complete, actor=owner, payment=payment)
        else:
            _attempt(payment_fail, actor=owner, payment=payment, reason="Bounced.")
    elif operation == "reverse" and payments:
        payment = data.draw(st.sampled_from(payments))
        reverse = payment_refund if data.draw(st.booleans()) else payment_void
        _attempt(reverse, actor=owner, payment=payment, reason="Oops.")
    elif operation == "late_fee":
        rows = list(Installment.objects.filter(plan__merchant=merchant, superseded_at__isnull=True).order_by("pk"))
        if rows:
            row = data.draw(st.sampled_from(rows))
            _attempt(late_fee_make, installment=row, period=today, amount=D("7.50"))
    elif operation == "settle":
        plan = data.draw(st.sampled_from(plans))
        _attempt(
            plan_settle,
            actor=owner,
            plan=plan,
            on=today - timedelta(days=data.draw(st.integers(0, 3))),
            method=data.draw(st.sampled_from(["cash", "card"])),
            # A discretionary rebate (murabaha) the owner grants; other rules ignore none given.
            rebate=D(data.draw(st.integers(0, 5)))
            if merchant.early_settlement_rebate == Rebate.DISCRETIONARY
            else None,
            reason="Paid early.",
        )
    elif operation == "disburse":
        to_give = charity_fees_totals(merchant=merchant).to_give
        if to_give > 0:
            share = D(data.draw(st.integers(1, 100))) / 100
            amount = max(to_money(to_give * share, "USD"), D("0.01"))
            _attempt(charity_disbursement_record, actor=owner, amount=amount, recipient="Orphanage")
    elif operation == "days_pass":
        clock.shift(timedelta(days=data.draw(st.integers(1, 45))))
        today = datetime.now(UTC).date()
        with merchant_scope(merchant.pk):
            for job in (installments_mark_overdue, late_fees_apply, plans_mark_defaulted, plans_restore_active):
                done = job(merchant=merchant, today=today, chunk_size=data.draw(st.integers(1, 3)))
                event(f"{job.__name__} {'did something' if done not in (0, (0, 0)) else 'did nothing'}")
            event(f"overdue_totals_advance {overdue_totals_advance(merchant=merchant, today=today)}")


def _run(data, operations: tuple[str, ...], *, merchant: Merchant, steps: tuple[int, int]) -> None:
    owner = UserFactory(merchant=merchant, role=Role.OWNER)
    customers = [CustomerFactory(merchant=merchant) for _ in range(2)]
    with time_machine.travel(START, tick=False) as clock:
        with merchant_scope(merchant.pk):
            overdue_totals_rebuild(merchant=merchant)  # as the first daily run does
        for _step in range(data.draw(st.integers(*steps))):
            operation = data.draw(st.sampled_from(operations))
            _operate(data, operation, merchant=merchant, owner=owner, customers=customers, clock=clock)
            today = datetime.now(UTC).date()
            assert_in_step(merchant, today)
            # The overdue rows are kept for today's cutoff (the daily job moved them on): the statistics read them.
            kept = MerchantOverdueTotal.objects.get(merchant=merchant)
            assert kept.cutoff == overdue_cutoff(merchant, today=today)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_maintained_rows_equal_the_rebuilt_ones_after_any_operations(data):
    murabaha = data.draw(st.booleans())
    merchant = MerchantFactory(
        grace_days=data.draw(st.integers(0, 5)),
        default_after_days=data.draw(st.integers(1, 20)),
        late_fee_method=data.draw(st.sampled_from(list(Merchant.LateFeeMethod.values))),
        late_fee_amount=D("5.00"),
        late_fee_percent=D("3.33"),
        requires_approval=data.draw(st.booleans()),
        # Murabaha terms book late fees for charity (never income); a conventional merchant books them as income.
        sale_terms=Merchant.SaleTerms.MURABAHA if murabaha else Merchant.SaleTerms.CONVENTIONAL,
        late_fee_booking=Merchant.LateFeeBooking.CHARITY if murabaha else Merchant.LateFeeBooking.INCOME,
        early_settlement_rebate=data.draw(
            st.sampled_from([Rebate.NONE, Rebate.ACTUARIAL, Rebate.RULE_OF_78] + ([Rebate.DISCRETIONARY] * murabaha))
        ),
    )
    _run(data, OPERATIONS, merchant=merchant, steps=(4, 18))


# Settlements, their refunds and charity fees more often: plans granted at once, late from the first days passed.
SETTLEMENT_OPERATIONS = (
    "create",
    "pay",
    "pay",
    "pay",
    "settle",
    "settle",
    "reverse",
    "reverse",
    "days_pass",
    "days_pass",
    "disburse",
    "disburse",
    "cancel",
    "reschedule",
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_settlements_and_charity_fees_keep_the_rows_in_step(data):
    merchant = MerchantFactory(
        grace_days=0,
        default_after_days=data.draw(st.integers(1, 10)),
        late_fee_method=Merchant.LateFeeMethod.FIXED,
        late_fee_amount=D("5.00"),
        requires_approval=False,
        sale_terms=Merchant.SaleTerms.MURABAHA,
        late_fee_booking=Merchant.LateFeeBooking.CHARITY,
        early_settlement_rebate=data.draw(st.sampled_from(list(Rebate.values))),
    )
    _run(data, SETTLEMENT_OPERATIONS, merchant=merchant, steps=(6, 16))


def test_the_daily_job_moves_the_plans_it_defaults_and_restores_between_status_rows(merchant, owner, customer):
    Merchant.objects.filter(pk=merchant.pk).update(
        grace_days=0, default_after_days=1, late_fee_method=Merchant.LateFeeMethod.FIXED, late_fee_amount=D("5.00")
    )
    merchant.refresh_from_db()
    with time_machine.travel(START, tick=False):
        plans = [
            plan_make(actor=owner, customer=customer, start_date=date(2025, 11, 1), installment_frequency="weekly")
            for _ in range(3)
        ]
        with merchant_scope(merchant.pk):
            assert late_fees_apply(merchant=merchant, today=START.date(), chunk_size=2)[0] > 0
            assert plans_mark_defaulted(merchant=merchant, today=START.date(), chunk_size=2) == 3
        assert_in_step(merchant, START.date())
        defaulted = summary_rows(merchant)[("PlanStatusTotal", "defaulted")]
        assert (defaulted["plans"], defaulted["amount_paid"]) == (3, D("600.000"))
        assert ("PlanStatusTotal", "active") not in summary_rows(merchant)

        Merchant.objects.filter(pk=merchant.pk).update(grace_days=200)
        merchant.refresh_from_db()
        with merchant_scope(merchant.pk):
            assert plans_restore_active(merchant=merchant, today=START.date(), chunk_size=2) == 3
        assert_in_step(merchant, START.date())
        assert summary_rows(merchant)[("PlanStatusTotal", "active")]["plans"] == len(plans)


def test_a_settlement_moves_its_plan_to_completed_with_its_rebate_and_its_refund_moves_it_back(today):
    """plan_make's flat 12% plan: 1000.00, 200.00 down on 01-15, 4 rows of 200.00 + 8.00 interest from 02-15. Rule
    of 78 on 03-01, k = 2 of n = 4 periods left: 32.00 x 3/10 = 9.60 rebated (row 4's 8.00, row 3's 1.60), so
    832.00 - 9.60 = 822.40 paid: interest 8.00 + 8.00 + 6.40 = 22.40 and principal 800.00."""
    merchant = MerchantFactory(early_settlement_rebate=Rebate.RULE_OF_78)
    owner = UserFactory(merchant=merchant, role=Role.OWNER, username="settles")
    plan = plan_make(
        actor=owner, customer=CustomerFactory(merchant=merchant), finance_charge_method="flat", interest_rate=D("12")
    )
    payment = plan_settle(actor=owner, plan=plan, on=today, method="card")
    assert payment.amount == D("822.40")
    assert_in_step(merchant, today)
    rows = summary_rows(merchant)
    assert rows[("PlanStatusTotal", "completed")] == {
        "plans": 1,
        "total_payable": D("1032.000"),
        "late_fees": D("0.000"),
        "amount_paid": D("1022.400"),  # 200.00 down + 822.40
        "late_fees_unpaid": D("0.000"),
        "rebates": D("9.600"),
        "charity_fees": D("0.000"),
        "charity_fees_paid": D("0.000"),
    }
    assert ("PlanStatusTotal", "active") not in rows
    assert {key[1:]: value["amount"] for key, value in rows.items() if key[0] == "CollectionDayTotal"} == {
        (date(2026, 1, 15), "cash", "down_payment"): D("200.000"),
        (today, "card", "interest"): D("22.400"),
        (today, "card", "principal"): D("800.000"),
        (today, "card", "rebate"): D("9.600"),
    }
    stats = merchant_stats_compute(merchant=merchant, today=today)
    # Nothing is owed; the money received this month is the 822.40 paid, not the 9.60 forgiven.
    assert (stats.outstanding, stats.collected, stats.plans_completed) == (D("0.00"), D("1022.40"), 1)
    assert (stats.collected_this_month, stats.collections_by_week[-1].amount) == (D("822.40"), D("822.40"))

    payment_refund(actor=owner, payment=payment, reason="Paid by mistake")
    assert_in_step(merchant, today)
    rows = summary_rows(merchant)
    assert ("PlanStatusTotal", "completed") not in rows
    assert rows[("PlanStatusTotal", "active")] == {
        "plans": 1,
        "total_payable": D("1032.000"),
        "late_fees": D("0.000"),
        "amount_paid": D("200.000"),
        "late_fees_unpaid": D("0.000"),
        "rebates": D("0.000"),
        "charity_fees": D("0.000"),
        "charity_fees_paid": D("0.000"),
    }
    stats = merchant_stats_compute(merchant=merchant, today=today)
    assert (stats.outstanding, stats.collected_this_month) == (D("832.00"), D("0.00"))


def test_charity_fees_are_kept_apart_in_the_status_rows(today):
    """A murabaha shop charging 5.00 for charity: the daily job charges row 1 (due 02-15) on 03-01; 20.00 paid goes
    5.00 to the charity fee first; 3.00 given away."""
    merchant = MerchantFactory(
        sale_terms=Merchant.SaleTerms.MURABAHA,
        late_fee_method=Merchant.LateFeeMethod.FIXED,
        late_fee_amount=D("5.00"),
        late_fee_booking=Merchant.LateFeeBooking.CHARITY,
        grace_days=0,
    )
    owner = UserFactory(merchant=merchant, role=Role.OWNER, username="gives")
    plan = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant))
    with merchant_scope(merchant.pk):
        assert late_fees_apply(merchant=merchant, today=today) == (1, D("5.00"))
    assert_in_step(merchant, today)
    active = summary_rows(merchant)[("PlanStatusTotal", "active")]
    assert (active["late_fees"], active["late_fees_unpaid"], active["charity_fees"], active["charity_fees_paid"]) == (
        D("5.000"),
        D("5.000"),
        D("5.000"),
        D("0.000"),
    )
    payment_post(actor=owner, plan=plan, amount=D("20.00"), payment_date=today)
    charity_disbursement_record(actor=owner, amount="3.00", recipient="Orphanage")
    assert_in_step(merchant, today)
    active = summary_rows(merchant)[("PlanStatusTotal", "active")]
    assert (active["amount_paid"], active["late_fees_unpaid"], active["charity_fees_paid"]) == (
        D("220.000"),
        D("0.000"),
        D("5.000"),
    )
    stats = merchant_stats_compute(merchant=merchant, today=today)
    # Collected: 200.00 down + the 15.00 of the 20.00 that was not the charity fee; no late fee is income.
    assert (stats.collected, stats.late_fees_charged, stats.late_fees_due) == (D("215.00"), D("0.00"), D("0.00"))
    assert stats.charity_fees == charity_fees_totals(merchant=merchant)
    assert (stats.charity_fees.collected, stats.charity_fees.given, stats.charity_fees.to_give) == (
        D("5.00"),
        D("3.00"),
        D("2.00"),
    )
    # The money received this month is all of the 20.00: the charity fee is cash in hand, to be given away.
    assert stats.collected_this_month == D("20.00")


def test_the_rebuild_command_recomputes_rows_lost_or_wrong(merchant, owner, customer):
    with time_machine.travel(START, tick=False):
        plan = plan_make(actor=owner, customer=customer, start_date=date(2026, 1, 5))
        payment_post(actor=owner, plan=plan, amount=D("250.00"))
        with merchant_scope(merchant.pk):  # kept as of a later cutoff: the rows due up to March
            overdue_totals_rebuild(merchant=merchant, cutoff=date(2026, 4, 1))
        kept = summary_rows(merchant)
        PlanStatusTotal.objects.filter(merchant=merchant).update(amount_paid=D("1"))
        DueDayTotal.objects.filter(merchant=merchant).delete()
        CustomerOverdueTotal.objects.filter(merchant=merchant).update(amount=D("7"), plans=5)

        call_command("stats_rebuild", merchant=[str(merchant.pk)])

        assert summary_rows(merchant) == kept
    assert kept[("MerchantOverdueTotal",)] == {"cutoff": date(2026, 4, 1), "plans": 1}
    assert kept[("CustomerOverdueTotal", customer.pk)] == {"amount": D("150.000"), "installments": 1, "plans": 1}
    assert kept[("PlanStatusTotal", "active")] == {
        "plans": 1,
        "total_payable": D("1000.000"),
        "late_fees": D("0.000"),
        "amount_paid": D("450.000"),
        "late_fees_unpaid": D("0.000"),
        "rebates": D("0.000"),
        "charity_fees": D("0.000"),
        "charity_fees_paid": D("0.000"),
    }
    assert kept[("DueDayTotal", date(2026, 2, 5))] == {
        "book_due": D("200.000"),
        "book_paid": D("200.000"),
        "unpaid_count": 0,
        "unpaid_amount": D("0.000"),
    }
    assert kept[("DueDayTotal", date(2026, 3, 5))] == {
        "book_due": D("200.000"),
        "book_paid": D("50.000"),
        "unpaid_count": 1,
        "unpaid_amount": D("150.000"),
    }
    assert kept[("CollectionDayTotal", date(2026, 1, 5), "cash", "principal")] == {"amount": D("250.000")}
    assert kept[("CollectionDayTotal", date(2026, 1, 5), "cash", "down_payment")] == {"amount": D("200.000")}


def test_a_payment_adds_to_the_summary_rows_in_three_statements(merchant, owner, customer):
    with time_machine.travel(START, tick=False):
        plan = plan_make(actor=owner, customer=customer, start_date=date(2026, 1, 5))
        capture = _Capture()
        with connection.execute_wrapper(capture):
            payment_post(actor=owner, plan=plan, amount=D("250.00"))
    tables = ("planstatustotal", "duedaytotal", "collectiondaytotal")
    upserts = [sql for sql in capture.statements if "ON CONFLICT" in sql and any(t in sql for t in tables)]
    assert len(upserts) == 3  # collections, plan status, due days: one statement each
    assert all("DO UPDATE SET" in sql for sql in upserts)


class _Capture:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append(sql)
        return execute(sql, params, many, context)
