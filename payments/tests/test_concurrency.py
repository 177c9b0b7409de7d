"""Two clerks paying the same plan at the same second: the plan's row lock keeps the ledger exact.

Real threads, each on its own database connection, released together by a barrier; the tests commit for real
(``transaction=True``), so every thread sees what the others committed and nothing else.
"""

import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.models import CustomerOverdueTotal, Installment, InstallmentPlan
from installments.overdue import overdue_totals_advance, overdue_totals_rebuild
from installments.tests.factories import late_fee_make, plan_make
from payments.models import Payment, PaymentAllocation
from payments.services import payment_complete, payment_post
from payments.summaries import summaries_rebuild
from payments.tests.test_summaries import rebuilt_rows, summary_rows
from taqsit.models import Merchant, Role, User
from taqsit.money import sum_of
from taqsit.tenancy import merchant_scope
from taqsit.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("today")]

THREADS = 8
PAYMENTS_PER_THREAD = 4


def _together(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(index)`` in ``count`` threads released at once; each result, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # handed back to the test, which asserts on it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,), name=f"clerk-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def clerks(merchant):
    return [UserFactory(merchant=merchant, role=Role.CLERK, username=f"till-{n}") for n in range(THREADS)]


def _post_many(plan_id, clerk_ids, amounts_for: Callable[[int], list[Decimal]]):
    """A worker: thread ``index`` posts its amounts one after another; each outcome is kept in order."""

    def work(index: int) -> list[tuple[str, Decimal, object]]:
        actor = User.objects.select_related("merchant").get(pk=clerk_ids[index])
        outcomes = []
        for amount in amounts_for(index):
            plan = InstallmentPlan.objects.select_related("merchant").get(pk=plan_id)
            try:
                payment = payment_post(actor=actor, plan=plan, amount=amount)
            except ValidationError as exc:
                outcomes.append(("refused", amount, exc))
            else:
                outcomes.append(("posted", amount, payment.pk))
        return outcomes

    return work


def _outcomes(results):
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [outcome for result in results for outcome in result]


def _ledger_check(plan: InstallmentPlan) -> None:
    """The ledger after the storm: allocations = completed payments = amount paid, no row over-paid,
    installments + down payment = amount paid - late fees paid, payment numbers 1..N without gaps."""
    plan.refresh_from_db()
    completed = Payment.objects.filter(plan=plan, status=Payment.Status.COMPLETED)
    allocations = PaymentAllocation.objects.filter(payment__plan=plan)
    allocated = allocations.aggregate(total=sum_of("amount"))["total"]
    paid = completed.aggregate(total=sum_of("amount"))["total"]
    assert allocated == paid == plan.amount_paid
    rows = list(Installment.objects.filter(plan=plan))
    assert [row.number for row in rows if row.amount_paid > row.amount_due] == []
    assert [row.number for row in rows if row.late_fee_paid > row.late_fee] == []
    for row in rows:
        by_row = allocations.filter(installment=row).exclude(kind=PaymentAllocation.Kind.LATE_FEE)
        assert by_row.aggregate(total=sum_of("amount"))["total"] == row.amount_paid
    down = allocations.filter(kind=PaymentAllocation.Kind.DOWN_PAYMENT).aggregate(total=sum_of("amount"))["total"]
    fees_paid = sum((row.late_fee_paid for row in rows), Decimal("0"))
    assert sum((row.amount_paid for row in rows), Decimal("0")) + down == plan.amount_paid - fees_paid
    numbers = list(
        Payment.objects.filter(plan=plan).order_by("payment_number").values_list("payment_number", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))
    assert plan.last_payment_number == len(numbers)
    assert plan.remaining_balance == plan.total_payable + plan.late_fees - paid


def test_concurrent_payments_never_overdraw_the_plan(owner, customer, clerks):
    plan = plan_make(actor=owner, customer=customer)  # 800.00 left after the 200.00 down payment
    clerk_ids = [clerk.pk for clerk in clerks]
    # 8 threads x 4 payments x 30.00 = 960.00 for 800.00 owed: 26 fit (780.00) and 6 cannot.
    work = _post_many(plan.pk, clerk_ids, lambda index: [Decimal("30.00")] * PAYMENTS_PER_THREAD)

    outcomes = _outcomes(_together(THREADS, work))

    posted = [outcome for outcome in outcomes if outcome[0] == "posted"]
    refused = [outcome for outcome in outcomes if outcome[0] == "refused"]
    assert len(outcomes) == THREADS * PAYMENTS_PER_THREAD
    assert (len(posted), len(refused)) == (26, 6)
    for _kind, _amount, exc in refused:
        assert exc.message_dict == {"amount": ["30.00 exceeds the remaining balance 20.00 of plan P-000001."]}
        assert exc.error_dict["amount"][0].code == "overpayment"
    assert len({payment_id for _kind, _amount, payment_id in posted}) == 26
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("980.00")
    assert plan.remaining_balance == Decimal("20.00")
    assert plan.status == InstallmentPlan.Status.ACTIVE
    assert Payment.objects.filter(plan=plan).count() == 27
    assert sorted(Payment.objects.filter(plan=plan).values_list("payment_number", flat=True)) == list(range(1, 28))
    assert [(row.number, row.amount_paid, row.status) for row in plan.installments.order_by("number")] == [
        (1, Decimal("200.00"), Installment.Status.PAID),
        (2, Decimal("200.00"), Installment.Status.PAID),
        (3, Decimal("200.00"), Installment.Status.PAID),
        (4, Decimal("180.00"), Installment.Status.PARTIALLY_PAID),
    ]
    _ledger_check(plan)


def test_concurrent_payments_of_different_amounts_keep_the_ledger_exact(owner, customer, clerks):
    # 12% flat: 1032.00 payable, 832.00 left; a 7.50 late fee on row 1 makes 839.50.
    plan = plan_make(actor=owner, customer=customer, finance_charge_method="flat", interest_rate=Decimal("12"))
    late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 2, 20), amount=Decimal("7.50"))
    clerk_ids = [clerk.pk for clerk in clerks]
    amounts = {index: [Decimal(f"{21 + 4 * index + step}.{index}{step}") for step in range(5)] for index in range(8)}
    attempted = sum((sum(values) for values in amounts.values()), Decimal("0"))
    assert attempted > Decimal("839.50")
    work = _post_many(plan.pk, clerk_ids, lambda index: amounts[index])

    outcomes = _outcomes(_together(THREADS, work))

    posted = [amount for kind, amount, _detail in outcomes if kind == "posted"]
    refused = [(amount, detail) for kind, amount, detail in outcomes if kind == "refused"]
    assert len(posted) + len(refused) == 40
    assert refused, "the amounts were chosen to exceed the balance"
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00") + sum(posted, Decimal("0"))
    assert plan.remaining_balance == Decimal("839.50") - sum(posted, Decimal("0"))
    assert plan.remaining_balance >= 0
    # The balance only falls, so each refused amount was more than what is left now.
    for amount, exc in refused:
        assert amount > plan.remaining_balance
        assert list(exc.message_dict) == ["amount"]
        assert exc.error_dict["amount"][0].code == "overpayment"
    assert Payment.objects.filter(plan=plan).count() == 1 + len(posted)
    first = plan.installments.get(number=1)
    assert (first.late_fee, first.late_fee_paid) == (Decimal("7.50"), Decimal("7.50"))
    _ledger_check(plan)


def test_concurrent_posts_with_the_same_idempotency_key_record_one_payment(owner, customer, clerks):
    plan = plan_make(actor=owner, customer=customer)
    clerk_ids = [clerk.pk for clerk in clerks]

    def work(index: int):
        actor = User.objects.select_related("merchant").get(pk=clerk_ids[index])
        target = InstallmentPlan.objects.select_related("merchant").get(pk=plan.pk)
        return payment_post(actor=actor, plan=target, amount=Decimal("100.00"), idempotency_key="till-0042")

    results = _together(THREADS, work)

    assert [type(result).__name__ for result in results] == ["Payment"] * THREADS
    recorded = Payment.objects.get(plan=plan, idempotency_key="till-0042")
    assert {result.pk for result in results} == {recorded.pk}
    assert (recorded.payment_number, recorded.amount) == (2, Decimal("100.00"))
    assert Payment.objects.filter(plan=plan).count() == 2
    assert PaymentAllocation.objects.filter(payment=recorded).count() == 1
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("300.00")
    assert plan.last_payment_number == 2
    _ledger_check(plan)


def test_concurrent_plan_creation_hands_out_gapless_numbers_and_honours_the_key(owner, merchant, clerks):
    customer_ids = [
        Customer.objects.create(merchant=merchant, name=f"C{n}", phone=f"+1415555{n:04d}").pk for n in range(8)
    ]
    clerk_ids = [clerk.pk for clerk in clerks]

    def create(index: int, key: str | None):
        actor = User.objects.select_related("merchant").get(pk=clerk_ids[index])
        customer = Customer.objects.select_related("merchant").get(pk=customer_ids[index if key is None else 0])
        return plan_make(actor=actor, customer=customer, idempotency_key=key)

    separate = _together(THREADS, lambda index: create(index, None))
    same_key = _together(THREADS, lambda index: create(index, "counter-order-9"))

    assert sorted(plan.number for plan in separate) == list(range(1, 9))
    assert {type(plan).__name__ for plan in same_key} == {"InstallmentPlan"}
    keyed = InstallmentPlan.objects.get(merchant=merchant, idempotency_key="counter-order-9")
    assert {plan.pk for plan in same_key} == {keyed.pk}
    assert keyed.number == 9
    assert InstallmentPlan.objects.filter(merchant=merchant).count() == 9
    assert Merchant.objects.get(pk=merchant.pk).last_plan_number == 9
    for plan in InstallmentPlan.objects.filter(merchant=merchant):
        _ledger_check(plan)


def test_a_pending_cheque_confirmed_by_several_clerks_at_once_is_allocated_once(owner, customer, clerks):
    plan = plan_make(actor=owner, customer=customer)
    cheque = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), status="pending")
    clerk_ids = [clerk.pk for clerk in clerks]

    def work(index: int):
        actor = User.objects.select_related("merchant").get(pk=clerk_ids[index])
        return payment_complete(actor=actor, payment=Payment.objects.get(pk=cheque.pk))

    results = _together(THREADS, work)

    done = [result for result in results if isinstance(result, Payment)]
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert (len(done), len(refused)) == (1, THREADS - 1)
    for exc in refused:
        assert exc.message_dict == {"status": ["Payment 2 is completed, not pending."]}
    assert PaymentAllocation.objects.filter(payment=cheque).count() == 2
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("450.00")
    _ledger_check(plan)


def test_cheques_confirmed_while_cash_is_paid_never_overdraw_the_plan(owner, customer, clerks):
    plan = plan_make(actor=owner, customer=customer)  # 800.00 left
    cheques = [payment_post(actor=owner, plan=plan, amount=Decimal("150.00"), status="pending").pk for _ in range(4)]
    clerk_ids = [clerk.pk for clerk in clerks]

    def work(index: int):
        actor = User.objects.select_related("merchant").get(pk=clerk_ids[index])
        try:
            if index < 4:  # half the clerks confirm a cheque each, the others take 100.00 in cash
                return payment_complete(actor=actor, payment=Payment.objects.get(pk=cheques[index])).amount
            target = InstallmentPlan.objects.select_related("merchant").get(pk=plan.pk)
            return payment_post(actor=actor, plan=target, amount=Decimal("100.00")).amount
        except ValidationError as exc:
            return exc

    results = _together(THREADS, work)

    # 4 x 150.00 + 4 x 100.00 = 1000.00 for 800.00 left: whatever the order, what went through fits exactly.
    accepted = sum((result for result in results if isinstance(result, Decimal)), Decimal("0"))
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert refused
    plan.refresh_from_db()
    for exc in refused:
        # More than is left, or, once what went through paid the plan off exactly (4 cheques and 2 cash, say),
        # the plan is completed and takes nothing more.
        if plan.status == InstallmentPlan.Status.COMPLETED and "plan" in exc.error_dict:
            assert exc.error_dict["plan"][0].code == "invalid_status"
        else:
            assert exc.error_dict["amount"][0].code == "overpayment"
    assert plan.amount_paid == Decimal("200.00") + accepted
    assert Decimal("0") <= plan.remaining_balance < Decimal("150.00")
    _ledger_check(plan)


def test_payments_on_many_plans_of_one_merchant_at_once_lose_no_increment_of_the_statistics(merchant, owner, clerks):
    """Every thread pays its own plan, all of one merchant: they add to the same summary rows (the active plans',
    the same due dates', the same day's cash, the overdue rows) at once, and none of their increments is lost."""
    plans = [plan_make(actor=owner, customer=CustomerFactory(merchant=merchant)) for _ in range(THREADS)]
    clerk_ids = [clerk.pk for clerk in clerks]
    # What is overdue kept as of a cutoff 100 days on: every plan's first rows count, and every payment moves them.
    with merchant_scope(merchant.pk):
        overdue_totals_rebuild(merchant=merchant, cutoff=plans[0].start_date + timedelta(days=100))

    def work(index: int):
        actor = User.objects.select_related("merchant").get(pk=clerk_ids[index])
        for amount in (Decimal("150.00"), Decimal("75.50")):
            plan = InstallmentPlan.objects.select_related("merchant").get(pk=plans[index].pk)
            payment_post(actor=actor, plan=plan, amount=amount)

    results = _together(THREADS, work)

    assert results == [None] * THREADS
    maintained = summary_rows(merchant)
    assert maintained == rebuilt_rows(merchant)
    assert maintained[("PlanStatusTotal", "active")]["amount_paid"] == THREADS * Decimal("425.50")
    # Each plan: its rows of February, March and April (200.00 each) less the 225.50 paid, on two rows left.
    overdue = CustomerOverdueTotal.objects.filter(merchant=merchant).values_list("amount", "installments", "plans")
    assert sorted(overdue) == [(Decimal("374.500"), 2, 1)] * THREADS
    assert maintained[("MerchantOverdueTotal",)]["plans"] == THREADS
    summaries_rebuild(merchant=merchant)
    assert summary_rows(merchant) == maintained


def test_the_daily_run_moving_the_overdue_cutoff_while_clerks_pay_loses_and_doubles_nothing(merchant, owner, clerks):
    """The daily run adds the rows it passes while clerks pay rows among them: each payment's part comes before
    the run (which then reads it) or after it (at the new cutoff), so the kept rows equal a rebuild."""
    payers = THREADS - 1
    plans = [plan_make(actor=owner, customer=CustomerFactory(merchant=merchant)) for _ in range(payers)]
    clerk_ids = [clerk.pk for clerk in clerks]
    with merchant_scope(merchant.pk):
        overdue_totals_rebuild(merchant=merchant, cutoff=date(2026, 2, 1))
    # Rows due 15 February, 15 March and 15 April; each round moves the cutoff past one while every plan pays.
    for day, amount in ((date(2026, 2, 20), Decimal("150.00")), (date(2026, 3, 20), Decimal("125.00"))):

        def work(index: int, day=day, amount=amount):
            if index == payers:
                with merchant_scope(merchant.pk):
                    return overdue_totals_advance(merchant=Merchant.objects.get(pk=merchant.pk), today=day)
            actor = User.objects.select_related("merchant").get(pk=clerk_ids[index])
            plan = InstallmentPlan.objects.select_related("merchant").get(pk=plans[index].pk)
            payment_post(actor=actor, plan=plan, amount=amount)
            return None

        assert _together(THREADS, work) == [None] * payers + ["advanced"]
        assert summary_rows(merchant) == rebuilt_rows(merchant)
    # Each plan: February and March due (400.00), 275.00 paid, on one row left.
    overdue = CustomerOverdueTotal.objects.filter(merchant=merchant).values_list("amount", "installments", "plans")
    assert sorted(overdue) == [(Decimal("125.000"), 1, 1)] * payers
