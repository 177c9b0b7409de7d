"""The schedule a customer, the API and a receipt see accounts for every unit, whatever happened to the plan:
random sequences of payments (completed, or pending then cleared), refunds, voids, late fees and reschedules
(down-payment refunds included), in currencies of 2, 3 and 0 decimal places, on PostgreSQL, checked after every
step with the query the bench's checker runs (``plans_schedule_gaps``)."""

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.selectors import overdue_cutoff, plan_schedule_totals, plans_schedule_gaps
from installments.serializers import PlanSerializer
from installments.services import plan_reschedule
from installments.tests.factories import late_fee_make, plan_make
from payments.models import Payment
from payments.services import payment_complete, payment_post, payment_refund, payment_void
from taqsit.models import Merchant
from taqsit.money import quantum, to_money

pytestmark = pytest.mark.django_db

terms = st.fixed_dictionaries(
    {
        "currency": st.sampled_from(["USD", "KWD", "JPY"]),  # 2, 3 and 0 decimal places
        "total_units": st.integers(10_000, 500_000),
        "down_percent": st.sampled_from([0, 0, 10, 25, 50]),
        "number_of_installments": st.integers(1, 12),
        "installment_frequency": st.sampled_from(["weekly", "biweekly", "monthly", "quarterly"]),
        "start_days_ago": st.integers(1, 400),
        "finance": st.sampled_from([("none", None), ("flat", Decimal("12")), ("declining_balance", Decimal("18.5"))]),
    }
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(1, 100)),  # percent of the remaining balance
        st.tuples(st.just("pending"), st.integers(1, 100)),  # a cheque recorded, not yet cleared
        st.tuples(st.just("complete"), st.integers(0, 20)),  # which pending payment cleared
        st.tuples(st.just("refund"), st.integers(0, 20)),  # which payment, counted among the completed ones
        st.tuples(st.just("void"), st.integers(0, 20)),
        st.tuples(st.just("fee"), st.integers(1, 2_000)),  # units of the currency, on the oldest overdue row
        st.tuples(
            st.just("reschedule"),
            st.tuples(
                st.integers(1, 8),
                st.sampled_from(["weekly", "biweekly", "monthly", "quarterly"]),
                st.integers(-20, 120),  # start, in days from today
            ),
        ),
    ),
    min_size=1,
    max_size=10,
)


def _plan(owner, customer, today, terms_) -> InstallmentPlan:
    currency = terms_["currency"]
    Merchant.objects.filter(pk=customer.merchant_id).update(currency=currency)
    total = Decimal(terms_["total_units"]) * quantum(currency)
    method, rate = terms_["finance"]
    return plan_make(
        actor=owner,
        customer=customer,
        total_amount=total,
        down_payment=to_money(total * terms_["down_percent"] / 100, currency),
        number_of_installments=terms_["number_of_installments"],
        installment_frequency=terms_["installment_frequency"],
        start_date=today - timedelta(days=terms_["start_days_ago"]),
        finance_charge_method=method,
        interest_rate=rate,
    )


def _step(owner, plan: InstallmentPlan, today: date, step, fee_day: list[int]) -> None:
    kind, argument = step
    plan.refresh_from_db()
    unit = quantum(plan.merchant.currency)
    if kind in ("post", "pending"):
        amount = max(unit, (plan.remaining_balance * argument / 100).quantize(unit, rounding=ROUND_DOWN))
        status = Payment.Status.COMPLETED if kind == "post" else Payment.Status.PENDING
        payment_post(actor=owner, plan=plan, amount=min(amount, plan.remaining_balance), status=status)
    elif kind == "complete":
        waiting = list(Payment.objects.filter(plan=plan, status="pending").order_by("payment_number"))
        if waiting:
            payment_complete(actor=owner, payment=waiting[argument % len(waiting)])
    elif kind in ("refund", "void"):
        completed = list(Payment.objects.filter(plan=plan, status="completed").order_by("payment_number"))
        if not completed:
            return
        service = payment_refund if kind == "refund" else payment_void
        service(actor=owner, payment=completed[argument % len(completed)], reason="Property test")
    elif kind == "fee":
        row = (
            Installment.objects.current()
            .filter(plan=plan, amount_paid__lt=F("amount_due"), due_date__lt=today)
            .order_by("due_date")
            .first()
        )
        if row is None:
            return
        fee_day[0] += 1
        late_fee_make(installment=row, period=today - timedelta(days=fee_day[0]), amount=argument * unit)
    else:
        count, frequency, offset = argument
        plan_reschedule(
            actor=owner,
            plan=plan,
            number_of_installments=count,
            installment_frequency=frequency,
            start_date=today + timedelta(days=offset),
        )


def _check(plan: InstallmentPlan, ledger_assert) -> None:
    ledger_assert(plan)  # the ledger's invariants, the schedule's gap check among them
    assert plans_schedule_gaps(plan_ids=[plan.pk]) == {}
    totals = plan_schedule_totals(plan=plan)
    assert totals.total == plan.total_payable
    assert totals.late_fees == plan.late_fees
    # What the API shows: the rows in force, numbered without a repeat, each due after the one before.
    shown = PlanSerializer(plan, context={"overdue_cutoff": overdue_cutoff(plan.merchant)}).data["installments"]
    numbers = [row["number"] for row in shown]
    assert numbers == sorted(set(numbers))
    due_dates = [row["due_date"] for row in shown]
    assert due_dates == sorted(set(due_dates))
    superseded_paid = sum(
        (row.amount_paid for row in Installment.objects.filter(plan=plan, superseded_at__isnull=False)), Decimal("0")
    )
    assert totals.down_payment + sum(Decimal(row["amount_due"]) for row in shown) + superseded_paid == (
        plan.total_payable
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(terms_=terms, steps_=steps)
def test_the_schedule_adds_up_after_any_sequence_of_services(owner, merchant, today, ledger_assert, terms_, steps_):
    # Each example in a savepoint rolled back at its end, so examples do not see each other's plans.
    with transaction.atomic():
        customer = CustomerFactory(merchant=merchant)
        plan = _plan(owner, customer, today, terms_)
        _check(plan, ledger_assert)
        fee_day = [0]
        for step in steps_:
            try:
                with transaction.atomic():
                    _step(owner, plan, today, step, fee_day)
                event(f"{step[0]}: done")
            except ValidationError:
                # Refused (a closed plan, a first due date before a paid row, too little to split): nothing changed.
                event(f"{step[0]}: refused")
            _check(plan, ledger_assert)
        transaction.set_rollback(True)
