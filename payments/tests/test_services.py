"""The ledger: posting, allocation order, pending payments, refunds, voids, idempotency and tenancy.

The clock is frozen at 2026-03-01 (the ``today`` fixture). A ``plan_make`` plan is 1000.00 with 200.00 down
(payment number 1) and four monthly 200.00 due 2026-02-15, 03-15, 04-15, 05-15. After every scenario the
ledger's invariants are asserted (the ``ledger_assert`` fixture in the root conftest).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan
from installments.services import plan_cancel, plan_mark_defaulted, plan_reschedule
from installments.tests.factories import late_fee_make, plan_make
from payments.models import Payment, PaymentAllocation
from payments.selectors import payment_list
from payments.services import (
    payment_complete,
    payment_delete,
    payment_fail,
    payment_post,
    payment_refund,
    payment_update,
    payment_void,
)
from taqsit.models import Merchant, Role
from taqsit.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]


# A read only this test made: the API and pages scope by the merchant through the viewsets.
def payment_get(*, merchant: Merchant, pk) -> Payment:
    """One payment of the merchant; another merchant's is ``Payment.DoesNotExist``."""
    return payment_list(merchant=merchant).get(pk=pk)


PlanStatus = InstallmentPlan.Status
RowStatus = Installment.Status
Kind = PaymentAllocation.Kind


@pytest.fixture(autouse=True)
def _ledger_holds_after_every_test(ledger_assert):
    """Besides the checks inside each scenario: every plan's ledger adds up when the test is over."""
    yield
    for plan in InstallmentPlan.objects.all():
        ledger_assert(plan)


@pytest.fixture
def plan(owner, customer):
    return plan_make(actor=owner, customer=customer)


@pytest.fixture
def flat_plan(owner, customer):
    """12% flat from 2025-12-01: four rows of 208.00 (8.00 interest + 200.00 principal) due 2026-01-01, 02-01,
    03-01 and 04-01; on 2026-03-01 the first two are overdue and the third is due today."""
    return plan_make(
        actor=owner,
        customer=customer,
        start_date=date(2025, 12, 1),
        finance_charge_method="flat",
        interest_rate=Decimal("12"),
    )


def _lines(payment):
    """(installment number or None, kind, amount, reversed line) of a payment's allocations, in order."""
    return [
        (line.installment.number if line.installment else None, line.kind, line.amount, line.reversal_of_id)
        for line in payment.allocations.select_related("installment").order_by("id")
    ]


def _rows(plan):
    """(number, interest paid, principal paid, late fee paid, status) of the plan's current rows."""
    return [
        (row.number, row.interest_paid, row.principal_paid, row.late_fee_paid, row.status)
        for row in Installment.objects.current().filter(plan=plan).order_by("number")
    ]


def _fresh(plan):
    return InstallmentPlan.objects.get(pk=plan.pk)


# Allocation order -----------------------------------------------------------------------------------------


def test_late_fees_first_oldest_first_then_interest_before_principal(owner, flat_plan, ledger_assert):
    second = flat_plan.installments.get(number=2)
    first = flat_plan.installments.get(number=1)
    late_fee_make(installment=second, period=date(2026, 2, 10), amount=Decimal("10.00"))
    late_fee_make(installment=first, period=date(2026, 2, 10), amount=Decimal("5.00"))

    payment = payment_post(actor=owner, plan=flat_plan, amount=Decimal("230.00"))

    assert _lines(payment) == [
        (1, Kind.LATE_FEE, Decimal("5.00"), None),
        (2, Kind.LATE_FEE, Decimal("10.00"), None),
        (1, Kind.INTEREST, Decimal("8.00"), None),
        (1, Kind.PRINCIPAL, Decimal("200.00"), None),
        (2, Kind.INTEREST, Decimal("7.00"), None),
    ]
    zero = Decimal("0")
    assert _rows(flat_plan) == [
        (1, Decimal("8.00"), Decimal("200.00"), Decimal("5.00"), RowStatus.PAID),
        (2, Decimal("7.00"), zero, Decimal("10.00"), RowStatus.OVERDUE),
        (3, zero, zero, zero, RowStatus.PENDING),
        (4, zero, zero, zero, RowStatus.PENDING),
    ]
    assert flat_plan.installments.get(number=1).paid_on == date(2026, 3, 1)
    assert flat_plan.installments.get(number=2).paid_on is None
    plan = _fresh(flat_plan)
    assert plan.amount_paid == Decimal("430.00")
    assert plan.late_fees == Decimal("15.00")
    assert plan.remaining_balance == Decimal("1032.00") + Decimal("15.00") - Decimal("430.00")
    ledger_assert(plan)

    # The next payment finishes row 2 (1.00 interest, then principal) and starts row 3, interest first.
    payment = payment_post(actor=owner, plan=flat_plan, amount=Decimal("300.00"))

    assert _lines(payment) == [
        (2, Kind.INTEREST, Decimal("1.00"), None),
        (2, Kind.PRINCIPAL, Decimal("200.00"), None),
        (3, Kind.INTEREST, Decimal("8.00"), None),
        (3, Kind.PRINCIPAL, Decimal("91.00"), None),
    ]
    assert _rows(flat_plan)[1:3] == [
        (2, Decimal("8.00"), Decimal("200.00"), Decimal("10.00"), RowStatus.PAID),
        (3, Decimal("8.00"), Decimal("91.00"), zero, RowStatus.PARTIALLY_PAID),
    ]
    ledger_assert(flat_plan)


def test_declining_balance_rows_pay_interest_before_principal(owner, customer, ledger_assert):
    # 800.00 at 12% a year over four months: payment 205.02; interest 8.00, 6.03, 4.04, 2.03.
    plan = plan_make(
        actor=owner, customer=customer, finance_charge_method="declining_balance", interest_rate=Decimal("12")
    )
    assert [(row.amount_due, row.interest, row.principal) for row in plan.installments.order_by("number")] == [
        (Decimal("205.02"), Decimal("8.00"), Decimal("197.02")),
        (Decimal("205.02"), Decimal("6.03"), Decimal("198.99")),
        (Decimal("205.02"), Decimal("4.04"), Decimal("200.98")),
        (Decimal("205.04"), Decimal("2.03"), Decimal("203.01")),
    ]

    small = payment_post(actor=owner, plan=plan, amount=Decimal("5.00"))
    assert _lines(small) == [(1, Kind.INTEREST, Decimal("5.00"), None)]
    assert _rows(plan)[0] == (1, Decimal("5.00"), Decimal("0"), Decimal("0"), RowStatus.OVERDUE)
    ledger_assert(plan)

    larger = payment_post(actor=owner, plan=plan, amount=Decimal("400.00"))
    assert _lines(larger) == [
        (1, Kind.INTEREST, Decimal("3.00"), None),
        (1, Kind.PRINCIPAL, Decimal("197.02"), None),
        (2, Kind.INTEREST, Decimal("6.03"), None),
        (2, Kind.PRINCIPAL, Decimal("193.95"), None),
    ]
    assert _rows(plan)[:2] == [
        (1, Decimal("8.00"), Decimal("197.02"), Decimal("0"), RowStatus.PAID),
        (2, Decimal("6.03"), Decimal("193.95"), Decimal("0"), RowStatus.PARTIALLY_PAID),
    ]
    ledger_assert(plan)

    payment_post(actor=owner, plan=plan, amount=_fresh(plan).remaining_balance)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert plan.amount_paid == Decimal("1020.10")
    ledger_assert(plan)


def test_a_partial_payment_leaves_the_installment_partially_paid(clerk, plan, ledger_assert):
    payment = payment_post(actor=clerk, plan=plan, amount=Decimal("300.00"), payment_method="card", reference=" R-1 ")

    payment.refresh_from_db()
    assert payment.payment_number == 2
    assert payment.status == Payment.Status.COMPLETED
    assert payment.payment_date == date(2026, 3, 1)
    assert payment.payment_method == "card"
    assert payment.reference == "R-1"
    assert payment.received_by == clerk
    assert payment.is_down_payment is False
    assert _lines(payment) == [
        (1, Kind.PRINCIPAL, Decimal("200.00"), None),
        (2, Kind.PRINCIPAL, Decimal("100.00"), None),
    ]
    zero = Decimal("0")
    assert _rows(plan) == [
        (1, zero, Decimal("200.00"), zero, RowStatus.PAID),
        (2, zero, Decimal("100.00"), zero, RowStatus.PARTIALLY_PAID),
        (3, zero, zero, zero, RowStatus.PENDING),
        (4, zero, zero, zero, RowStatus.PENDING),
    ]
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("500.00")
    assert plan.remaining_balance == Decimal("500.00")
    assert plan.status == PlanStatus.ACTIVE
    ledger_assert(plan)


def test_a_payment_dated_in_the_past_is_allocated_the_same(owner, plan, ledger_assert):
    payment = payment_post(actor=owner, plan=plan, amount="200", payment_date=date(2026, 2, 10))

    assert payment.payment_date == date(2026, 2, 10)
    assert payment.amount == Decimal("200")
    assert Installment.objects.get(plan=plan, number=1).paid_on == date(2026, 2, 10)
    ledger_assert(plan)


# Overpayment and completion -------------------------------------------------------------------------------


def test_an_overpayment_is_refused_with_the_remaining_balance_and_nothing_written(
    owner, plan, row_counts, ledger_assert
):
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("600.00"))

    assert excinfo.value.message_dict == {"amount": ["600.00 exceeds the remaining balance 550.00 of plan P-000001."]}
    assert excinfo.value.error_dict["amount"][0].code == "overpayment"
    assert row_counts() == before
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("450.00")
    assert plan.last_payment_number == 2
    ledger_assert(plan)


def test_the_remaining_balance_includes_late_fees(owner, plan, ledger_assert):
    late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 2, 20), amount=Decimal("12.50"))

    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("812.51"))
    assert excinfo.value.message_dict == {"amount": ["812.51 exceeds the remaining balance 812.50 of plan P-000001."]}

    payment = payment_post(actor=owner, plan=plan, amount=Decimal("812.50"))
    assert _lines(payment)[0] == (1, Kind.LATE_FEE, Decimal("12.50"), None)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert plan.amount_paid == Decimal("1012.50")
    ledger_assert(plan)


def test_the_plan_is_completed_at_zero_balance(owner, plan, ledger_assert):
    payment_post(actor=owner, plan=plan, amount=Decimal("500.00"))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE

    payment_post(actor=owner, plan=plan, amount=Decimal("300.00"))

    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert plan.remaining_balance == Decimal("0")
    assert plan.status_changed_at is not None
    assert {row[4] for row in _rows(plan)} == {RowStatus.PAID}
    ledger_assert(plan)


def test_a_defaulted_plan_is_active_again_once_brought_up_to_date(owner, plan, ledger_assert):
    plan_mark_defaulted(actor=None, plan=plan)

    payment_post(actor=owner, plan=plan, amount=Decimal("150.00"))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DEFAULTED  # row 1 (due 2026-02-15) still has 50.00 overdue

    payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))

    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert plan.status_reason == "Brought up to date."
    ledger_assert(plan)


def test_a_defaulted_plan_paid_off_is_completed(owner, plan, ledger_assert):
    plan_mark_defaulted(actor=None, plan=plan)

    payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))

    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    ledger_assert(plan)


# Payment number, dates, plan status -----------------------------------------------------------------------


def test_the_payment_number_must_be_the_next_one(owner, plan, row_counts, ledger_assert):
    before = row_counts()
    for wrong in (1, 3):
        with pytest.raises(ValidationError) as excinfo:
            payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), payment_number=wrong)
        assert excinfo.value.message_dict == {
            "payment_number": [f"Payment number {wrong} is not the next one; the next is 2."]
        }
    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), payment_number="two")
    assert excinfo.value.message_dict == {"payment_number": ["'two' is not a whole number."]}
    assert row_counts() == before

    payment = payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), payment_number="2")

    assert payment.payment_number == 2
    assert payment_post(actor=owner, plan=plan, amount=Decimal("10.00")).payment_number == 3
    ledger_assert(plan)


@pytest.mark.parametrize(
    ("payment_date", "message"),
    [
        (date(2026, 3, 2), "The payment date 2026-03-02 is in the future."),
        (date(2026, 1, 14), "The payment date 2026-01-14 is before the plan started (2026-01-15)."),
    ],
)
def test_a_payment_date_out_of_range_is_refused(owner, plan, payment_date, message, row_counts, ledger_assert):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), payment_date=payment_date)

    assert excinfo.value.message_dict == {"payment_date": [message]}
    assert row_counts() == before
    ledger_assert(plan)


def test_the_merchants_today_decides_what_is_future(owner, merchant, plan):
    # At noon UTC on 1 March it is already 2 March in Kiritimati (UTC+14).
    Merchant.objects.filter(pk=merchant.pk).update(timezone="Pacific/Kiritimati")
    merchant.refresh_from_db()

    payment = payment_post(actor=owner, plan=_fresh(plan), amount=Decimal("10.00"), payment_date=date(2026, 3, 2))

    assert payment.payment_date == date(2026, 3, 2)
    assert payment_post(actor=owner, plan=_fresh(plan), amount=Decimal("10.00")).payment_date == date(2026, 3, 2)


def _pending_plan(owner, merchant, customer):
    Merchant.objects.filter(pk=merchant.pk).update(requires_approval=True)
    merchant.refresh_from_db()
    return plan_make(actor=owner, customer=customer)


@pytest.mark.parametrize("status", [PlanStatus.PENDING, PlanStatus.CANCELLED, PlanStatus.COMPLETED])
def test_a_plan_not_being_collected_takes_no_payment(owner, merchant, customer, status, row_counts, ledger_assert):
    if status == PlanStatus.PENDING:
        plan = _pending_plan(owner, merchant, customer)
    else:
        plan = plan_make(actor=owner, customer=customer)
        if status == PlanStatus.CANCELLED:
            plan_cancel(actor=owner, plan=plan, reason="Goods returned")
        else:
            payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"))

    label = PlanStatus(status).label.lower()
    assert excinfo.value.message_dict == {"plan": [f"Plan P-000001 is {label}: it takes no payments."]}
    assert row_counts() == before
    ledger_assert(plan)


# Idempotency ----------------------------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_first_payment_and_records_nothing(clerk, plan, row_counts, ledger_assert):
    first = payment_post(actor=clerk, plan=plan, amount=Decimal("100.00"), idempotency_key="till-7-0001")
    before = row_counts()

    again = payment_post(actor=clerk, plan=plan, amount="100.00", idempotency_key="  till-7-0001  ")

    assert again.pk == first.pk
    assert again.payment_number == 2
    assert row_counts() == before
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("300.00")
    assert plan.last_payment_number == 2
    ledger_assert(plan)


def test_the_same_idempotency_key_for_another_payment_is_refused(
    owner, clerk, customer, plan, row_counts, ledger_assert
):
    payment_post(actor=clerk, plan=plan, amount=Decimal("100.00"), idempotency_key="till-7-0001")
    other_plan = plan_make(actor=owner, customer=customer)
    before = row_counts()

    for target, amount in ((plan, Decimal("120.00")), (other_plan, Decimal("100.00"))):
        with pytest.raises(ValidationError) as excinfo:
            payment_post(actor=clerk, plan=target, amount=amount, idempotency_key="till-7-0001")
        assert excinfo.value.message_dict == {
            "idempotency_key": ["This idempotency key was already used for a different payment."]
        }
        assert excinfo.value.error_dict["idempotency_key"][0].code == "idempotency_mismatch"

    assert row_counts() == before
    ledger_assert(plan)
    ledger_assert(other_plan)


def test_idempotency_keys_are_per_merchant(owner, plan, other_owner, other_merchant):
    theirs = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))
    mine = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), idempotency_key="k-1")

    other = payment_post(actor=other_owner, plan=theirs, amount=Decimal("100.00"), idempotency_key="k-1")

    assert other.pk != mine.pk
    assert other.merchant_id == other_merchant.pk


def test_an_idempotent_replay_is_returned_even_after_a_refund(owner, plan, row_counts):
    first = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), idempotency_key="k-1")
    payment_refund(actor=owner, payment=first, reason="Customer changed their mind")
    before = row_counts()

    again = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), idempotency_key="k-1")

    assert again.pk == first.pk
    assert again.status == Payment.Status.REFUNDED
    assert row_counts() == before


# Pending payments -----------------------------------------------------------------------------------------


def test_a_pending_payment_is_allocated_when_it_completes(clerk, plan, ledger_assert):
    payment = payment_post(actor=clerk, plan=plan, amount=Decimal("250.00"), status="pending", payment_method="cheque")

    assert payment.status == Payment.Status.PENDING
    assert payment.payment_number == 2
    assert _lines(payment) == []
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")
    ledger_assert(plan)

    completed = payment_complete(actor=clerk, payment=payment)

    assert completed.status == Payment.Status.COMPLETED
    assert _lines(payment) == [
        (1, Kind.PRINCIPAL, Decimal("200.00"), None),
        (2, Kind.PRINCIPAL, Decimal("50.00"), None),
    ]
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("450.00")
    ledger_assert(plan)
    with pytest.raises(ValidationError) as excinfo:
        payment_complete(actor=clerk, payment=payment)
    assert excinfo.value.message_dict == {"status": ["Payment 2 is completed, not pending."]}
    ledger_assert(plan)


def test_a_pending_payment_that_fails_moves_nothing(clerk, plan, ledger_assert):
    payment = payment_post(actor=clerk, plan=plan, amount=Decimal("250.00"), status="pending", notes="Cheque 881")

    failed = payment_fail(actor=clerk, payment=payment, reason="Bounced")

    payment.refresh_from_db()
    assert failed.status == payment.status == Payment.Status.FAILED
    assert (payment.notes, payment.reversal_reason, payment.settled_by) == ("Cheque 881", "Bounced", clerk)
    assert _lines(payment) == []
    for service in (payment_complete, payment_fail):
        with pytest.raises(ValidationError) as excinfo:
            service(actor=clerk, payment=payment)
        assert excinfo.value.message_dict == {"status": ["Payment 2 is failed, not pending."]}
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")
    # The failed payment keeps its number; the next one follows it.
    assert payment_post(actor=clerk, plan=plan, amount=Decimal("10.00")).payment_number == 3
    ledger_assert(plan)


def test_a_pending_payment_larger_than_the_balance_is_refused_on_completion(owner, plan, row_counts, ledger_assert):
    pending = payment_post(actor=owner, plan=plan, amount=Decimal("500.00"), status="pending")
    payment_post(actor=owner, plan=plan, amount=Decimal("400.00"))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        payment_complete(actor=owner, payment=pending)

    assert excinfo.value.message_dict == {"amount": ["500.00 exceeds the remaining balance 400.00 of plan P-000001."]}
    assert row_counts() == before
    pending.refresh_from_db()
    assert pending.status == Payment.Status.PENDING
    ledger_assert(plan)


def test_a_pending_payment_on_a_cancelled_plan_cannot_complete(owner, plan, ledger_assert):
    pending = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), status="pending")
    plan_cancel(actor=owner, plan=plan, reason="Goods returned")

    with pytest.raises(ValidationError) as excinfo:
        payment_complete(actor=owner, payment=pending)

    assert excinfo.value.message_dict == {"plan": ["Plan P-000001 is cancelled: it takes no payments."]}
    pending.refresh_from_db()
    assert pending.status == Payment.Status.PENDING
    ledger_assert(plan)


# Refund and void ------------------------------------------------------------------------------------------


def test_a_refund_reverses_the_allocations_and_restores_the_installments(
    owner, manager, flat_plan, row_counts, ledger_assert
):
    late_fee_make(installment=flat_plan.installments.get(number=1), period=date(2026, 2, 10), amount=Decimal("5.00"))
    rows_before = _rows(flat_plan)
    payment = payment_post(actor=owner, plan=flat_plan, amount=Decimal("300.00"))
    originals = list(payment.allocations.order_by("id"))
    before = row_counts()

    refunded = payment_refund(actor=manager, payment=payment, reason="  Returned the goods  ")

    payment.refresh_from_db()
    assert refunded.pk == payment.pk
    assert payment.status == Payment.Status.REFUNDED
    assert payment.reversed_by == manager
    assert payment.reversed_at is not None
    assert payment.reversal_reason == "Returned the goods"
    assert payment.amount == Decimal("300.00")
    assert _lines(payment) == [
        (1, Kind.LATE_FEE, Decimal("5.00"), None),
        (1, Kind.INTEREST, Decimal("8.00"), None),
        (1, Kind.PRINCIPAL, Decimal("200.00"), None),
        (2, Kind.INTEREST, Decimal("8.00"), None),
        (2, Kind.PRINCIPAL, Decimal("79.00"), None),
        (1, Kind.LATE_FEE, Decimal("-5.00"), originals[0].pk),
        (1, Kind.INTEREST, Decimal("-8.00"), originals[1].pk),
        (1, Kind.PRINCIPAL, Decimal("-200.00"), originals[2].pk),
        (2, Kind.INTEREST, Decimal("-8.00"), originals[3].pk),
        (2, Kind.PRINCIPAL, Decimal("-79.00"), originals[4].pk),
    ]
    assert sum(line.amount for line in payment.allocations.all()) == Decimal("0")
    # Nothing paid any more; the statuses are those of the day (rows 1 and 2 are past due).
    zero = Decimal("0")
    assert _rows(flat_plan) == [
        (1, zero, zero, zero, RowStatus.OVERDUE),
        (2, zero, zero, zero, RowStatus.OVERDUE),
        (3, zero, zero, zero, RowStatus.PENDING),
        (4, zero, zero, zero, RowStatus.PENDING),
    ]
    assert [row[:4] for row in rows_before] == [(n, zero, zero, zero) for n in (1, 2, 3, 4)]
    assert {row.paid_on for row in Installment.objects.filter(plan=flat_plan)} == {None}
    after = row_counts()
    assert after["Payment"] == before["Payment"]
    assert after["PaymentAllocation"] == before["PaymentAllocation"] + 5
    plan = _fresh(flat_plan)
    assert plan.amount_paid == Decimal("200.00")
    assert plan.late_fees == Decimal("5.00")
    ledger_assert(plan)


def test_a_refund_reopens_a_completed_plan(owner, plan, ledger_assert):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED

    payment_refund(actor=owner, payment=payment, reason="Paid twice by mistake")

    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert plan.status_reason == "Re-opened by a refund."
    assert plan.amount_paid == Decimal("200.00")
    assert [row[4] for row in _rows(plan)] == [
        RowStatus.OVERDUE,
        RowStatus.PENDING,
        RowStatus.PENDING,
        RowStatus.PENDING,
    ]
    ledger_assert(plan)
    # Re-opened, it takes payments again.
    payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    ledger_assert(plan)


def test_refunding_the_down_payment(owner, plan, ledger_assert):
    down = Payment.objects.get(plan=plan, payment_number=1)

    payment_refund(actor=owner, payment=down, reason="Agreement rewritten")

    assert [(line[0], line[1], line[2]) for line in _lines(down)] == [
        (None, Kind.DOWN_PAYMENT, Decimal("200.00")),
        (None, Kind.DOWN_PAYMENT, Decimal("-200.00")),
    ]
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("0")
    ledger_assert(plan)
    # The down payment is owed again, on the first unpaid installment, so the whole balance stays collectable.
    current = list(Installment.objects.current().filter(plan=plan).order_by("number"))
    assert [(row.number, row.principal, row.amount_due) for row in current] == [
        (1, Decimal("400.00"), Decimal("400.00")),
        (2, Decimal("200.00"), Decimal("200.00")),
        (3, Decimal("200.00"), Decimal("200.00")),
        (4, Decimal("200.00"), Decimal("200.00")),
    ]
    assert plan.remaining_balance == Decimal("1000.00")
    payment_post(actor=owner, plan=plan, amount=Decimal("1000.00"))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    ledger_assert(plan)


@pytest.mark.parametrize("reason", ["", "   ", None])
@pytest.mark.parametrize("service", [payment_refund, payment_void])
def test_a_refund_or_void_needs_a_reason(owner, plan, service, reason, row_counts, ledger_assert):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        service(actor=owner, payment=payment, reason=reason)

    assert excinfo.value.message_dict == {"reason": ["Give the reason."]}
    assert row_counts() == before
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    ledger_assert(plan)


@pytest.mark.parametrize(
    ("first", "second", "label"),
    [
        (payment_refund, payment_refund, "refunded"),
        (payment_refund, payment_void, "refunded"),
        (payment_void, payment_refund, "voided"),
        (payment_void, payment_void, "voided"),
    ],
)
def test_a_payment_is_reversed_only_once(owner, plan, first, second, label, row_counts, ledger_assert):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))
    first(actor=owner, payment=payment, reason="First time")
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        second(actor=owner, payment=payment, reason="Second time")

    assert excinfo.value.message_dict == {"status": [f"Payment 2 is {label}."]}
    assert excinfo.value.error_dict["status"][0].code == "invalid_status"
    assert row_counts() == before
    payment.refresh_from_db()
    assert payment.reversal_reason == "First time"
    ledger_assert(plan)


def test_a_void_reverses_a_completed_payment_like_a_refund(owner, manager, plan, ledger_assert):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"))

    payment_void(actor=manager, payment=payment, reason="Keyed on the wrong plan")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    assert (payment.reversed_by, payment.reversal_reason) == (manager, "Keyed on the wrong plan")
    assert [(line[0], line[2], line[3] is not None) for line in _lines(payment)] == [
        (1, Decimal("200.00"), False),
        (2, Decimal("50.00"), False),
        (1, Decimal("-200.00"), True),
        (2, Decimal("-50.00"), True),
    ]
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")
    ledger_assert(plan)


def test_a_pending_payment_is_voided_without_allocations(owner, plan, ledger_assert):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), status="pending")

    payment_void(actor=owner, payment=payment, reason="Duplicate entry")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    assert _lines(payment) == []
    ledger_assert(plan)


@pytest.mark.parametrize("service", [payment_refund, payment_void])
def test_a_failed_payment_cannot_be_refunded_or_voided(owner, plan, service):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), status="pending")
    payment_fail(actor=owner, payment=payment, reason="Cheque bounced")

    with pytest.raises(ValidationError) as excinfo:
        service(actor=owner, payment=payment, reason="Why not")

    assert excinfo.value.message_dict == {"status": ["Payment 2 is failed."]}


def test_a_pending_payment_cannot_be_refunded(owner, plan):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), status="pending")

    with pytest.raises(ValidationError) as excinfo:
        payment_refund(actor=owner, payment=payment, reason="Nothing to give back")

    assert excinfo.value.message_dict == {"status": ["Payment 2 is pending."]}


def test_refunding_an_earlier_payment_reopens_the_rows_it_paid(owner, plan, ledger_assert):
    first = payment_post(actor=owner, plan=plan, amount=Decimal("300.00"))
    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"))  # rows: 1 paid, 2 paid, 3 at 100.00

    payment_refund(actor=owner, payment=first, reason="Card charge-back")

    zero = Decimal("0")
    assert _rows(plan) == [
        (1, zero, zero, zero, RowStatus.OVERDUE),
        (2, zero, Decimal("100.00"), zero, RowStatus.PARTIALLY_PAID),
        (3, zero, Decimal("100.00"), zero, RowStatus.PARTIALLY_PAID),
        (4, zero, zero, zero, RowStatus.PENDING),
    ]
    ledger_assert(plan)


# payment_delete and payment_update ------------------------------------------------------------------------


@pytest.mark.parametrize("fail_first", [False, True])
def test_payment_delete_voids_a_pending_or_failed_payment_and_keeps_the_row(clerk, plan, fail_first, ledger_assert):
    payment = payment_post(actor=clerk, plan=plan, amount=Decimal("100.00"), status="pending")
    if fail_first:
        payment_fail(actor=clerk, payment=payment, reason="Cheque bounced")

    payment_delete(actor=clerk, payment=payment)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    assert payment.reversal_reason == "Deleted"
    assert payment.reversed_by == clerk
    following = payment_post(actor=clerk, plan=plan, amount=Decimal("100.00"))
    assert following.payment_number == 3
    assert sorted(Payment.objects.filter(plan=plan).values_list("payment_number", flat=True)) == [1, 2, 3]
    ledger_assert(plan)


def test_payment_delete_refuses_a_completed_payment(owner, plan, row_counts, ledger_assert):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        payment_delete(actor=owner, payment=payment)

    assert excinfo.value.message_dict == {"status": ["Payment 2 moved money: refund or void it instead."]}
    assert excinfo.value.error_dict["status"][0].code == "has_money"
    assert row_counts() == before
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    ledger_assert(plan)


@pytest.mark.parametrize("status", ["refunded", "voided"])
def test_payment_delete_refuses_a_reversed_payment(owner, plan, status):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))
    (payment_refund if status == "refunded" else payment_void)(actor=owner, payment=payment, reason="Because")

    with pytest.raises(ValidationError) as excinfo:
        payment_delete(actor=owner, payment=payment)

    assert list(excinfo.value.message_dict) == ["status"]
    payment.refresh_from_db()
    assert payment.status == status


def test_payment_update_changes_only_notes_and_reference(clerk, plan, ledger_assert):
    payment = payment_post(actor=clerk, plan=plan, amount=Decimal("100.00"), reference="A", notes="x")

    payment_update(actor=clerk, payment=payment, notes="Paid by the brother", reference=" B-7 ")

    payment.refresh_from_db()
    assert (payment.notes, payment.reference, payment.amount) == ("Paid by the brother", "B-7", Decimal("100.00"))
    ledger_assert(plan)


# Roles and tenancy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.CLERK])
def test_writers_record_payments(merchant, plan, role, ledger_assert):
    actor = UserFactory(merchant=merchant, role=role)

    payment = payment_post(actor=actor, plan=plan, amount=Decimal("10.00"))

    assert payment.received_by == actor
    ledger_assert(plan)


def test_a_viewer_records_nothing(viewer, plan, row_counts):
    pending = payment_post(actor=plan.created_by, plan=plan, amount=Decimal("10.00"), status="pending")
    before = row_counts()

    for attempt in (
        lambda: payment_post(actor=viewer, plan=plan, amount=Decimal("10.00")),
        lambda: payment_complete(actor=viewer, payment=pending),
        lambda: payment_fail(actor=viewer, payment=pending),
        lambda: payment_delete(actor=viewer, payment=pending),
        lambda: payment_update(actor=viewer, payment=pending, notes="x"),
        lambda: payment_void(actor=viewer, payment=pending, reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            attempt()

    assert row_counts() == before
    pending.refresh_from_db()
    assert (pending.status, pending.notes) == (Payment.Status.PENDING, "")


@pytest.mark.parametrize("service", [payment_refund, payment_void])
def test_a_clerk_records_but_may_not_refund_or_void(clerk, plan, service, row_counts, ledger_assert):
    payment = payment_post(actor=clerk, plan=plan, amount=Decimal("100.00"))
    before = row_counts()

    with pytest.raises(PermissionDenied):
        service(actor=clerk, payment=payment, reason="Customer asked")

    assert row_counts() == before
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    ledger_assert(plan)


def test_another_merchants_user_cannot_touch_the_ledger(owner, plan, other_owner, row_counts, ledger_assert):
    completed = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))
    pending = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), status="pending")
    before = row_counts()

    for attempt in (
        lambda: payment_post(actor=other_owner, plan=plan, amount=Decimal("10.00")),
        lambda: payment_refund(actor=other_owner, payment=completed, reason="x"),
        lambda: payment_void(actor=other_owner, payment=completed, reason="x"),
        lambda: payment_complete(actor=other_owner, payment=pending),
        lambda: payment_fail(actor=other_owner, payment=pending),
        lambda: payment_delete(actor=other_owner, payment=pending),
        lambda: payment_update(actor=other_owner, payment=pending, notes="mine now"),
    ):
        with pytest.raises(InstallmentPlan.DoesNotExist):
            attempt()

    assert row_counts() == before
    completed.refresh_from_db()
    pending.refresh_from_db()
    assert (completed.status, pending.status, pending.notes) == (Payment.Status.COMPLETED, "pending", "")
    ledger_assert(plan)


def test_a_platform_admin_records_and_refunds_on_any_merchant(superuser, plan, ledger_assert):
    payment = payment_post(actor=superuser, plan=plan, amount=Decimal("100.00"))
    payment_refund(actor=superuser, payment=payment, reason="Support ticket 12")

    payment.refresh_from_db()
    assert (payment.received_by, payment.reversed_by) == (superuser, superuser)
    ledger_assert(plan)


# Selectors ------------------------------------------------------------------------------------------------


def test_payment_list_and_payment_get_stay_within_the_merchant(owner, merchant, customer, plan, other_merchant):
    second_plan = plan_make(actor=owner, customer=customer)
    cheque = payment_post(
        actor=owner, plan=plan, amount=Decimal("50.00"), status="pending", payment_date=date(2026, 2, 20)
    )
    cash = payment_post(actor=owner, plan=plan, amount=Decimal("25.00"))

    assert [payment.pk for payment in payment_list(merchant=merchant, plan=plan)][:2] == [cash.pk, cheque.pk]
    assert payment_list(merchant=merchant).count() == 4
    assert [payment.pk for payment in payment_list(merchant=merchant, status="pending")] == [cheque.pk]
    assert {payment.plan_id for payment in payment_list(merchant=merchant, date_to=date(2026, 1, 31))} == {
        plan.pk,
        second_plan.pk,
    }
    assert [payment.pk for payment in payment_list(merchant=merchant, date_from=date(2026, 2, 1))] == [
        cash.pk,
        cheque.pk,
    ]
    assert payment_list(merchant=merchant, customer=customer).count() == 4
    fetched = payment_get(merchant=merchant, pk=cash.pk)
    assert [(line.kind, line.amount) for line in fetched.allocations.all()] == [(Kind.PRINCIPAL, Decimal("25.00"))]
    assert list(payment_list(merchant=other_merchant)) == []
    with pytest.raises(Payment.DoesNotExist):
        payment_get(merchant=other_merchant, pk=cash.pk)


# Bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": Decimal("0")}, "amount", "The amount must be greater than zero, not 0.00."),
        ({"amount": Decimal("-5.00")}, "amount", "The amount must be greater than zero, not -5.00."),
        ({"amount": "abc"}, "amount", "'abc' is not an amount."),
        ({"amount": ""}, "amount", "'' is not an amount."),
        ({"amount": None}, "amount", "None is not an amount."),
        ({"amount": 10.5}, "amount", "10.5 is not an amount."),
        ({"amount": "NaN"}, "amount", "'NaN' is not an amount."),
        ({"amount": "10.001"}, "amount", "10.001 has more decimal places than USD allows (2)."),
        ({"payment_method": "bitcoin"}, "payment_method", "'bitcoin' is not a payment method."),
        ({"status": "refunded"}, "status", "A payment is recorded as completed or pending, not 'refunded'."),
        ({"status": "failed"}, "status", "A payment is recorded as completed or pending, not 'failed'."),
    ],
)
def test_payment_post_refuses_bad_input_on_its_field_and_writes_nothing(
    owner, plan, overrides, field, message, row_counts, ledger_assert
):
    before = row_counts()
    arguments = {"amount": Decimal("10.00")}
    arguments.update(overrides)

    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, **arguments)

    assert excinfo.value.message_dict == {field: [message]}
    assert row_counts() == before
    plan.refresh_from_db()
    assert plan.last_payment_number == 1
    ledger_assert(plan)


def test_refunding_a_payment_made_before_a_reschedule_keeps_the_balance_collectable(owner, plan, ledger_assert):
    earlier = payment_post(actor=owner, plan=plan, amount=Decimal("300.00"))  # row 1 paid, 100.00 on row 2
    plan_reschedule(
        actor=owner, plan=plan, number_of_installments=2, installment_frequency="monthly", start_date=date(2026, 3, 1)
    )

    payment_refund(actor=owner, payment=earlier, reason="Card charge-back")

    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")
    assert plan.remaining_balance == Decimal("800.00")
    ledger_assert(plan)
    # Whatever is owed must be owed on the schedule in force, or it can never be collected.
    current = Installment.objects.current().filter(plan=plan)
    assert sum(row.amount_due - row.amount_paid for row in current) == plan.remaining_balance
    payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    ledger_assert(plan)


# In the clerk's language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "600.00 supera el saldo pendiente 550.00 del plan P-000001."),
        ("ar", "المبلغ 600.00 يتجاوز الرصيد المتبقي 550.00 للخطة P-000001."),
    ],
)
def test_an_overpayment_is_refused_in_the_clerks_language_with_the_amounts_filled_in(
    owner, plan, row_counts, language, expected
):
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"))
    before = row_counts()

    with translation.override(language), pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("600.00"))

    # Read after the language is switched back: the message was worded when it was raised.
    assert excinfo.value.message_dict == {"amount": [expected]}
    assert excinfo.value.error_dict["amount"][0].code == "overpayment"
    assert row_counts() == before


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "El plan P-000001 está en estado «cancelado»: no admite pagos."),
        ("ar", "حالة الخطة P-000001 «ملغى»: لا تقبل دفعات."),
    ],
)
def test_a_payment_on_a_cancelled_plan_is_refused_in_the_clerks_language(owner, plan, row_counts, language, expected):
    plan_cancel(actor=owner, plan=plan, reason="Goods returned")
    before = row_counts()

    with translation.override(language), pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"))

    assert excinfo.value.message_dict == {"plan": [expected]}
    assert excinfo.value.error_dict["plan"][0].code == "invalid_status"
    assert row_counts() == before


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "El pago 2 está en estado «completado», no pendiente."),
        ("ar", "حالة الدفعة 2 «مكتملة»، وليست قيد الانتظار."),
    ],
)
def test_completing_a_completed_payment_is_refused_in_the_clerks_language(owner, plan, language, expected):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))

    with translation.override(language), pytest.raises(ValidationError) as excinfo:
        payment_complete(actor=owner, payment=payment)

    assert excinfo.value.message_dict == {"status": [expected]}
