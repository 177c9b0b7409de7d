"""The statistics (payments/stats.py): equal to a plain Python recomputation over the same rows, to the unit;
cached per merchant until money moves; served at GET /api/stats/ to every role of the merchant only."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import yaml
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import ValidationError

from customers.tests.factories import CustomerFactory
from installments.jobs import late_fees_apply, plans_mark_defaulted
from installments.models import Installment, InstallmentPlan
from installments.overdue import overdue_totals_advance
from installments.services import plan_cancel, plan_create, plan_reject, plan_reschedule
from installments.tests.factories import late_fee_make, plan_make
from payments.models import Payment
from payments.services import payment_post, payment_refund, payment_void
from payments.stats import merchant_stats, merchant_stats_compute, merchant_stats_compute_full
from taqsit.models import Merchant, Role
from taqsit.money import to_money
from taqsit.services import merchant_update
from taqsit.tenancy import merchant_scope
from taqsit.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D = Decimal
Status = InstallmentPlan.Status
BOOK = (Status.ACTIVE, Status.DEFAULTED, Status.COMPLETED)
OPEN = (Status.ACTIVE, Status.DEFAULTED)


def _customer(merchant, name: str, phone: str):
    return CustomerFactory(merchant=merchant, name=name, phone=phone)


def book_build(merchant: Merchant, owner, manager) -> dict[str, InstallmentPlan]:
    """Plans in every state, seen on 2026-03-01 (a Sunday; its week starts Monday 23 February) with 3 grace days
    (overdue: due before 26 February) and a late fee of 3.33 % of what is left on an overdue row:

    ali: 1000, 200 down, 4 x 200 monthly from 15 Jan; 50 paid on #1 (14 days overdue); a manual fee of 10 and
         the job's fee on #1; then 20 more, which goes to the fees first.
    badr: 500, 100 down, 4 x 100 due 1 Dec, 1 Jan, 1 Feb, 1 Mar; 150 paid (#1 and 50 of #2); a payment of 20
          voided; #2 (59 days) and #3 (28 days) overdue, #4 due today.
    chadi: 150, 50 down, 2 x 50 due 1 Oct and 1 Nov (151 and 120 days); 30 paid then refunded; defaulted.
    dana: 400, nothing down, 8 x 50 weekly from 20 Feb: #1 due 27 Feb is within grace; 75 paid ahead.
    eman: 300, 100 down, 2 x 100 due 10 Jan and 10 Feb, all paid: completed.
    farid: 600, 100 down, 5 monthly from 5 Oct 2025; 100 paid, then cancelled (out of the book).
    gala: 1200, nothing down, 3 x 400 monthly from 20 Dec; 100 paid on #1; rescheduled over 4 months from
          1 Mar (the old rows superseded).
    And one application pending, one rejected.
    """
    merchant.grace_days = 3
    merchant.late_fee_method = Merchant.LateFeeMethod.PERCENT
    merchant.late_fee_percent = D("3.33")
    merchant.save()
    plans = {}
    plans["ali"] = plan_make(actor=owner, customer=_customer(merchant, "Ali", "+14155550101"))
    payment_post(actor=owner, plan=plans["ali"], amount=D("50.00"), payment_date=date(2026, 2, 16))
    first = plans["ali"].installments.get(number=1)
    late_fee_make(installment=first, period=date(2026, 2, 20), amount=D("10.00"), actor=manager)

    plans["badr"] = plan_make(
        actor=owner,
        customer=_customer(merchant, "Badr", "+14155550102"),
        total_amount=D("500.00"),
        down_payment=D("100.00"),
        start_date=date(2025, 11, 1),
    )
    payment_post(actor=owner, plan=plans["badr"], amount=D("150.00"), payment_date=date(2026, 2, 24))
    voided = payment_post(actor=owner, plan=plans["badr"], amount=D("20.00"), payment_date=date(2026, 2, 25))
    payment_void(actor=manager, payment=voided, reason="Typed twice.")

    plans["chadi"] = plan_make(
        actor=owner,
        customer=_customer(merchant, "Chadi", "+14155550103"),
        total_amount=D("150.00"),
        down_payment=D("50.00"),
        number_of_installments=2,
        start_date=date(2025, 9, 1),
    )
    refunded = payment_post(actor=owner, plan=plans["chadi"], amount=D("30.00"), payment_date=date(2026, 1, 5))
    payment_refund(actor=manager, payment=refunded, reason="Goods returned.")

    plans["dana"] = plan_make(
        actor=owner,
        customer=_customer(merchant, "Dana", "+14155550104"),
        total_amount=D("400.00"),
        down_payment=D("0"),
        number_of_installments=8,
        installment_frequency="weekly",
        start_date=date(2026, 2, 20),
    )
    payment_post(actor=owner, plan=plans["dana"], amount=D("75.00"), payment_date=date(2026, 2, 28))

    plans["eman"] = plan_make(
        actor=owner,
        customer=_customer(merchant, "Eman", "+14155550105"),
        total_amount=D("300.00"),
        down_payment=D("100.00"),
        number_of_installments=2,
        start_date=date(2025, 12, 10),
    )
    payment_post(actor=owner, plan=plans["eman"], amount=D("200.00"), payment_date=date(2026, 2, 10))

    plans["farid"] = plan_make(
        actor=owner,
        customer=_customer(merchant, "Farid", "+14155550106"),
        total_amount=D("600.00"),
        down_payment=D("100.00"),
        number_of_installments=5,
        start_date=date(2025, 10, 5),
    )
    payment_post(actor=owner, plan=plans["farid"], amount=D("100.00"), payment_date=date(2026, 1, 20))
    plan_cancel(actor=manager, plan=plans["farid"], reason="Goods returned.")

    plans["gala"] = plan_make(
        actor=owner,
        customer=_customer(merchant, "Gala", "+14155550107"),
        total_amount=D("1200.00"),
        down_payment=D("0"),
        number_of_installments=3,
        start_date=date(2025, 12, 20),
    )
    payment_post(actor=owner, plan=plans["gala"], amount=D("100.00"), payment_date=date(2026, 1, 25))
    plan_reschedule(
        actor=manager,
        plan=plans["gala"],
        number_of_installments=4,
        installment_frequency="monthly",
        start_date=date(2026, 3, 1),
    )

    late_fees_apply(merchant=merchant, today=date(2026, 3, 1))
    payment_post(actor=owner, plan=plans["ali"], amount=D("20.00"), payment_date=date(2026, 3, 1))
    plans_mark_defaulted(merchant=merchant, today=date(2026, 3, 1))

    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    plans["pending"] = plan_make(actor=owner, customer=plans["ali"].customer)
    rejected = plan_make(actor=owner, customer=plans["badr"].customer)
    plan_reject(actor=manager, plan=rejected, reason="No guarantor.")
    for name, plan in plans.items():
        plan.refresh_from_db()
        plans[name] = plan
    return plans


@pytest.fixture
def book(merchant, owner, manager, today):
    return book_build(merchant, owner, manager)


def recompute(merchant: Merchant, today: date) -> dict:
    """The statistics by plain Python loops over every row of the merchant (the definitions of payments/stats.py)."""
    currency = merchant.currency
    plans = list(InstallmentPlan.objects.filter(merchant=merchant))
    by_id = {plan.pk: plan for plan in plans}
    rows = list(Installment.objects.filter(merchant=merchant))
    payments = list(Payment.objects.filter(merchant=merchant))
    cutoff = today - timedelta(days=merchant.grace_days)
    zero = D("0")

    def money(value: Decimal) -> str:
        return str(to_money(value, currency))

    book = [plan for plan in plans if plan.status in BOOK]
    open_plans = [plan for plan in plans if plan.status in OPEN]
    current = [row for row in rows if row.superseded_at is None]
    unpaid = [row for row in current if by_id[row.plan_id].status in OPEN and row.amount_paid < row.amount_due]
    overdue = [row for row in unpaid if row.due_date < cutoff]

    def left(selected) -> Decimal:
        return sum((row.amount_due - row.amount_paid for row in selected), zero)

    aging = []
    for key, first, last in (("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, 10**6)):
        selected = [row for row in overdue if first <= (today - row.due_date).days <= last]
        aging.append((key, len(selected), money(left(selected))))
    fallen = [row for row in current if by_id[row.plan_id].status in BOOK and row.due_date <= today]
    fallen_due = sum((row.amount_due for row in fallen), zero)
    fallen_paid = sum((row.amount_paid for row in fallen), zero)

    monday = today - timedelta(days=today.weekday())
    weeks = []
    for k in range(8):
        start = monday + timedelta(weeks=k)
        end = start + timedelta(weeks=1)
        selected = [row for row in unpaid if (cutoff if k == 0 else start) <= row.due_date < end]
        weeks.append((start, len(selected), money(left(selected))))
    months = []
    for k in range(6):
        year, month = divmod(today.year * 12 + today.month - 1 + k, 12)
        start = date(year, month + 1, 1)
        end = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        selected = [row for row in unpaid if (cutoff if k == 0 else start) <= row.due_date < end]
        months.append((start, len(selected), money(left(selected))))

    customers: dict = defaultdict(lambda: {"amount": zero, "installments": 0, "plans": set(), "oldest": None})
    for row in overdue:
        plan = by_id[row.plan_id]
        entry = customers[plan.customer_id]
        entry["amount"] += row.amount_due - row.amount_paid
        entry["installments"] += 1
        entry["plans"].add(plan.pk)
        entry["oldest"] = min(filter(None, (entry["oldest"], row.due_date)))
    names = {plan.customer_id: (plan.customer.name, plan.customer.phone) for plan in plans}
    top = sorted(customers.items(), key=lambda item: (-item[1]["amount"], item[1]["oldest"], names[item[0]][0]))[:10]

    completed = [payment for payment in payments if payment.status == Payment.Status.COMPLETED]
    first_week = monday - timedelta(weeks=11)
    return {
        "total_payable": money(sum((plan.total_payable for plan in book), zero)),
        "late_fees_charged": money(sum((plan.late_fees for plan in book), zero)),
        # From the payments themselves, not the plans' running totals: the ledger's invariant is checked too.
        "collected": money(sum((p.amount for p in completed if by_id[p.plan_id].status in BOOK), zero)),
        "outstanding": money(
            sum((plan.total_payable + plan.late_fees - plan.amount_paid for plan in open_plans), zero)
        ),
        "plans": [sum(1 for plan in plans if plan.status == status) for status in ("active", "defaulted", "completed")]
        + [sum(1 for plan in plans if plan.status == Status.PENDING)],
        "overdue": (len(overdue), money(left(overdue)), len({row.plan_id for row in overdue})),
        "late_fees_due": money(
            sum((row.late_fee - row.late_fee_paid for row in rows if by_id[row.plan_id].status in OPEN), zero)
        ),
        "aging": aging,
        "fallen_due": money(fallen_due),
        "fallen_due_paid": money(fallen_paid),
        "collection_rate": str((fallen_paid * 100 / fallen_due).quantize(D("0.01"), rounding=ROUND_HALF_UP)),
        "due_today": (
            sum(1 for row in unpaid if row.due_date == today),
            money(left([row for row in unpaid if row.due_date == today])),
        ),
        "due_this_week": (
            sum(1 for row in unpaid if today <= row.due_date <= today + timedelta(days=6)),
            money(left([row for row in unpaid if today <= row.due_date <= today + timedelta(days=6)])),
        ),
        "expected_by_week": weeks,
        "expected_by_month": months,
        "top": [
            (
                customer_id,
                names[customer_id][0],
                names[customer_id][1],
                len(entry["plans"]),
                entry["installments"],
                money(entry["amount"]),
                entry["oldest"],
                (today - entry["oldest"]).days,
            )
            for customer_id, entry in top
        ],
        "collected_this_month": money(
            sum((p.amount for p in completed if today.replace(day=1) <= p.payment_date <= today), zero)
        ),
        "collections_by_week": [
            (
                first_week + timedelta(weeks=k),
                money(
                    sum(
                        (
                            p.amount
                            for p in completed
                            if first_week + timedelta(weeks=k) <= p.payment_date < first_week + timedelta(weeks=k + 1)
                            and p.payment_date <= today
                        ),
                        zero,
                    )
                ),
            )
            for k in range(12)
        ],
    }


def as_recomputed(stats) -> dict:
    """The selector's figures in the shape of ``recompute`` (amounts as strings, so their places count too)."""
    return {
        "total_payable": str(stats.total_payable),
        "late_fees_charged": str(stats.late_fees_charged),
        "collected": str(stats.collected),
        "outstanding": str(stats.outstanding),
        "plans": [stats.plans_active, stats.plans_defaulted, stats.plans_completed, stats.pending_applications],
        "overdue": (stats.overdue.count, str(stats.overdue.amount), stats.overdue_plans),
        "late_fees_due": str(stats.late_fees_due),
        "aging": [(bucket.key, bucket.count, str(bucket.amount)) for bucket in stats.aging],
        "fallen_due": str(stats.fallen_due),
        "fallen_due_paid": str(stats.fallen_due_paid),
        "collection_rate": str(stats.collection_rate),
        "due_today": (stats.due_today.count, str(stats.due_today.amount)),
        "due_this_week": (stats.due_this_week.count, str(stats.due_this_week.amount)),
        "expected_by_week": [(week.start, week.count, str(week.amount)) for week in stats.expected_by_week],
        "expected_by_month": [(month.start, month.count, str(month.amount)) for month in stats.expected_by_month],
        "top": [
            (
                row.customer_id,
                row.name,
                row.phone,
                row.plans,
                row.installments,
                str(row.amount),
                row.oldest_due_date,
                row.days_overdue,
            )
            for row in stats.top_overdue_customers
        ],
        "collected_this_month": str(stats.collected_this_month),
        "collections_by_week": [(week.week_start, str(week.amount)) for week in stats.collections_by_week],
    }


# The figures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["USD", "KWD"])
def test_the_statistics_equal_a_plain_python_recomputation_to_the_unit(merchant, owner, manager, today, currency):
    merchant.currency = currency
    merchant.save(update_fields=["currency"])
    book_build(merchant, owner, manager)

    stats = merchant_stats_compute(merchant=merchant)

    assert stats.today == today
    assert stats.currency == currency
    assert as_recomputed(stats) == recompute(merchant, today)


def test_the_fixture_covers_every_case_and_the_figures_add_up(book, merchant, today):
    stats = merchant_stats_compute(merchant=merchant)

    statuses = {name: plan.status for name, plan in book.items()}
    assert statuses == {
        "ali": "active",
        "badr": "active",
        "chadi": "defaulted",
        "dana": "active",
        "eman": "completed",
        "farid": "cancelled",
        "gala": "active",
        "pending": "pending",
    }
    # Cash price + finance charge of the book: ali 1000, badr 500, chadi 150, dana 400, eman 300, gala 1200.
    assert stats.total_payable == D("3550.00")
    # ali 200 down + 50 + 20; badr 100 + 150; chadi 50; dana 75; eman 100 + 200; gala 100 (refunds and voids out).
    assert stats.collected == D("1045.00")
    # Completed plans owe nothing: what the book owes is what the open plans owe.
    assert stats.outstanding == stats.total_payable + stats.late_fees_charged - stats.collected
    assert [bucket.count for bucket in stats.aging] == [2, 1, 0, 2]  # ali #1, badr #3 | badr #2 | chadi #1, #2
    assert stats.overdue.count == sum(bucket.count for bucket in stats.aging)
    assert stats.overdue.amount == sum((bucket.amount for bucket in stats.aging), D("0"))
    # Fallen due (due by today): ali #1 200, badr #1-#4 400, chadi 100, dana #1 50, eman 200, gala #1 100 (closed
    # at the 100 paid on it when the rest was rescheduled); gala's new rows fall due from April and its superseded
    # rows are history.
    assert stats.fallen_due == D("1050.00")
    # Fees on ali #1: 10.00 by hand + 3.33 % of 150.00 = 5.00 (4.995 rounded half up) by the job; of the 20.00
    # paid after them, 15.00 went to the fees and 5.00 to #1, which has 145.00 left. Badr owes 50.00 + 100.00.
    assert [(row.name, row.amount) for row in stats.top_overdue_customers] == [
        ("Badr", D("150.00")),
        ("Ali", D("145.00")),
        ("Chadi", D("100.00")),
    ]
    assert stats.pending_applications == 1
    assert stats.expected_by_week[0].start == date(2026, 2, 23)
    # Dana's 25 left on #2 is due 6 March (week 2); #1 (27 Feb, in grace) was paid; badr #4 is due today.
    assert (stats.expected_by_week[0].count, stats.expected_by_week[0].amount) == (1, D("100.00"))
    assert stats.expected_by_month[0].start == date(2026, 3, 1)


def test_every_count_is_an_int_as_the_full_computation_gives_it(book, merchant):
    """The summary rows' counts are summed by PostgreSQL as numerics; the pages pluralise with them ("1
    installment", "2 installments"), which wants an integer."""
    stats = merchant_stats_compute(merchant=merchant)
    full = merchant_stats_compute_full(merchant=merchant)

    def counts(figures):
        return [
            (type(figures.overdue.count), figures.overdue.count),
            (type(figures.due_today.count), figures.due_today.count),
            (type(figures.due_this_week.count), figures.due_this_week.count),
            (type(figures.overdue_plans), figures.overdue_plans),
            *[(type(bucket.count), bucket.count) for bucket in figures.aging],
            *[(type(period.count), period.count) for period in figures.expected_by_week],
            *[(type(period.count), period.count) for period in figures.expected_by_month],
        ]

    assert counts(stats) == counts(full)
    assert {kind for kind, _count in counts(stats)} == {int}
    # Overdue: ali #1, badr #2 and #3, chadi #1 and #2, on 3 plans; due today: badr #4; due in the 7 days from
    # today: badr #4 and dana #2 (6 March).
    assert counts(stats)[:4] == [(int, 5), (int, 1), (int, 2), (int, 3)]


def test_the_collection_rate_is_rounded_half_up_and_none_when_nothing_has_fallen_due(merchant, owner, today):
    customer = CustomerFactory(merchant=merchant)
    assert merchant_stats_compute(merchant=merchant).collection_rate is None
    # 3 x 100.00 due 1 Jan, 1 Feb, 1 Mar: 300.00 fallen due; 100.00 + 0.01 paid -> 33.3366... -> 33.34.
    plan = plan_make(
        actor=owner,
        customer=customer,
        total_amount=D("300.00"),
        down_payment=D("0"),
        number_of_installments=3,
        start_date=date(2025, 12, 1),
    )
    payment_post(actor=owner, plan=plan, amount=D("100.01"))
    assert merchant_stats_compute(merchant=merchant).collection_rate == D("33.34")


def test_another_merchants_plans_are_not_counted(book, merchant, other_merchant, other_owner, today):
    before = as_recomputed(merchant_stats_compute(merchant=merchant))
    plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant), start_date=date(2025, 6, 1))

    assert as_recomputed(merchant_stats_compute(merchant=merchant)) == before
    theirs = merchant_stats_compute(merchant=other_merchant)
    assert (theirs.total_payable, theirs.collected, theirs.overdue.count) == (D("1000.00"), D("200.00"), 4)


def test_the_statistics_take_four_queries_whatever_the_number_of_plans(
    merchant, owner, today, django_assert_num_queries
):
    for size in (2, 12):
        while InstallmentPlan.objects.filter(merchant=merchant).count() < size:
            # Started 65 days ago: two monthly rows overdue each.
            start = today - timedelta(days=65)
            plan = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant), start_date=start)
            payment_post(actor=owner, plan=plan, amount=D("10.00"))
        # Before the day's first run has kept what is overdue by customer, it is read from the rows late, in the
        # same statement; the plans added after it are kept by their payments.
        with django_assert_num_queries(4):
            before_run = merchant_stats_compute(merchant=merchant)
        with merchant_scope(merchant.pk):
            overdue_totals_advance(merchant=merchant, today=today)
        with django_assert_num_queries(4):
            after_run = merchant_stats_compute(merchant=merchant)
        assert dataclasses.replace(after_run, computed_at=None) == dataclasses.replace(before_run, computed_at=None)
        assert after_run.overdue_plans == size
        assert len(after_run.top_overdue_customers) == min(size, 10)
        # The reference sums the charity fees from the installments, whatever the merchant: a fifth query.
        with django_assert_num_queries(5):
            merchant_stats_compute_full(merchant=merchant)


def test_a_merchant_that_charged_charity_fees_takes_a_fifth_query(merchant, owner, today, django_assert_num_queries):
    Merchant.objects.filter(pk=merchant.pk).update(late_fee_booking=Merchant.LateFeeBooking.CHARITY)
    plan = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant))
    late_fee_make(installment=plan.installments.order_by("number").first(), period=today, amount=D("7.50"))
    merchant.refresh_from_db()
    with merchant_scope(merchant.pk):
        overdue_totals_advance(merchant=merchant, today=today)
    with django_assert_num_queries(5):
        stats = merchant_stats_compute(merchant=merchant)
    assert (stats.charity_fees.collected, stats.charity_fees.to_give, stats.late_fees_charged) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )


# The cache -----------------------------------------------------------------------------------------------


def test_a_second_read_is_served_from_the_cache_without_a_query(book, merchant, django_assert_num_queries):
    first = merchant_stats(merchant=merchant)

    with django_assert_num_queries(0):
        second = merchant_stats(merchant=merchant)

    assert second == first


def test_the_cache_is_per_merchant_and_per_day(book, merchant, other_merchant, today, django_assert_num_queries):
    merchant_stats(merchant=merchant)
    with django_assert_num_queries(4):
        assert merchant_stats(merchant=other_merchant).total_payable == D("0.00")
    with django_assert_num_queries(4):
        tomorrow = merchant_stats(merchant=merchant, today=today + timedelta(days=1))
    assert tomorrow.today == date(2026, 3, 2)


def _read_after(merchant, django_assert_num_queries):
    with django_assert_num_queries(4):
        return merchant_stats(merchant=merchant)


def test_a_payment_invalidates_the_cache_once_committed(
    book, merchant, owner, django_assert_num_queries, django_capture_on_commit_callbacks
):
    before = merchant_stats(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payment_post(actor=owner, plan=book["badr"], amount=D("30.00"))
    # Not committed yet: a reader still gets the figures of what is committed.
    with django_assert_num_queries(0):
        assert merchant_stats(merchant=merchant) == before
    for callback in callbacks:
        callback()

    after = _read_after(merchant, django_assert_num_queries)

    assert after.collected == before.collected + D("30.00")
    assert after.outstanding == before.outstanding - D("30.00")
    assert as_recomputed(after) == recompute(merchant, before.today)


def test_a_refund_invalidates_the_cache(
    book, merchant, manager, django_assert_num_queries, django_capture_on_commit_callbacks
):
    payment = Payment.objects.get(plan=book["eman"], payment_number=2)
    before = merchant_stats(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        payment_refund(actor=manager, payment=payment, reason="Returned.")

    after = _read_after(merchant, django_assert_num_queries)

    assert after.collected == before.collected - D("200.00")
    assert (after.plans_completed, after.plans_active) == (before.plans_completed - 1, before.plans_active + 1)
    assert as_recomputed(after) == recompute(merchant, before.today)


def test_a_late_fee_invalidates_the_cache(
    book, merchant, manager, django_assert_num_queries, django_capture_on_commit_callbacks
):
    row = book["badr"].installments.get(number=3)
    before = merchant_stats(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        late_fee_make(installment=row, period=date(2026, 3, 1), amount=D("7.50"), actor=manager)

    after = _read_after(merchant, django_assert_num_queries)

    assert after.late_fees_charged == before.late_fees_charged + D("7.50")
    assert after.late_fees_due == before.late_fees_due + D("7.50")
    assert after.outstanding == before.outstanding + D("7.50")


def test_the_daily_late_fee_job_invalidates_the_cache(
    merchant, owner, customer, today, django_assert_num_queries, django_capture_on_commit_callbacks
):
    merchant.late_fee_method = Merchant.LateFeeMethod.FIXED
    merchant.late_fee_amount = D("5.00")
    merchant.save()
    plan_make(actor=owner, customer=customer)
    before = merchant_stats(merchant=merchant)

    with django_capture_on_commit_callbacks(execute=True):
        late_fees_apply(merchant=merchant, today=today)

    after = _read_after(merchant, django_assert_num_queries)
    assert after.late_fees_charged == before.late_fees_charged + D("5.00")


@pytest.mark.parametrize(
    "change",
    ["plan_create", "plan_cancel", "plan_reschedule", "payment_void", "merchant_update"],
)
def test_every_change_to_what_is_counted_invalidates_the_cache(
    book, merchant, owner, manager, change, django_assert_num_queries, django_capture_on_commit_callbacks
):
    merchant_stats(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "plan_create":
            merchant.requires_approval = False
            merchant.save(update_fields=["requires_approval"])
            plan_create(
                actor=owner,
                customer=book["ali"].customer,
                total_amount=D("100.00"),
                number_of_installments=2,
                installment_frequency="monthly",
                start_date=date(2026, 2, 1),
            )
        elif change == "plan_cancel":
            plan_cancel(actor=manager, plan=book["dana"], reason="Returned.")
        elif change == "plan_reschedule":
            plan_reschedule(
                actor=manager,
                plan=book["badr"],
                number_of_installments=2,
                installment_frequency="monthly",
                start_date=date(2026, 3, 1),
            )
        elif change == "payment_void":
            payment = Payment.objects.get(plan=book["dana"], payment_number=1)
            payment_void(actor=manager, payment=payment, reason="Typed twice.")
        else:
            merchant_update(actor=owner, merchant=merchant, grace_days=0)
            merchant.refresh_from_db()

    after = _read_after(merchant, django_assert_num_queries)
    assert as_recomputed(after) == recompute(merchant, after.today)


def test_a_refused_payment_leaves_the_cache_alone(
    book, merchant, owner, django_assert_num_queries, django_capture_on_commit_callbacks
):
    merchant_stats(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError, match="exceeds"):
        payment_post(actor=owner, plan=book["badr"], amount=D("5000.00"))

    with django_assert_num_queries(0):
        merchant_stats(merchant=merchant)


class UnreachableCache(BaseCache):
    """A cache whose server cannot be reached (Redis down): every call fails."""

    def __init__(self, location, params) -> None:
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise ConnectionError("Connection refused")

    add = get = set = delete = clear = _fail


def test_a_cache_that_is_down_stops_neither_the_figures_nor_a_payment(
    book, merchant, owner, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.CACHES = {"default": {"BACKEND": "payments.tests.test_stats.UnreachableCache"}}
    with django_assert_num_queries(4):
        stats = merchant_stats(merchant=merchant)
    assert as_recomputed(stats) == recompute(merchant, stats.today)
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_post(actor=owner, plan=book["badr"], amount=D("10.00"))
    assert payment.status == Payment.Status.COMPLETED


# Always current: a reader after money moved computes them ------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/stats/", "/"])
def test_the_api_and_the_dashboard_always_answer_current_figures(
    api_client, client, book, merchant, owner, url, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(owner)
    client.force_login(owner)
    before = merchant_stats(merchant=merchant)
    assert (api_client if url.startswith("/api/") else client).get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        payment_post(actor=owner, plan=book["badr"], amount=D("30.00"))

    response = (api_client if url.startswith("/api/") else client).get(url)

    after = response.json()["collected"] if url.startswith("/api/") else response.context["stats"].collected
    assert D(after) == before.collected + D("30.00")


# GET /api/stats/ -------------------------------------------------------------------------------------------


URL = "/api/stats/"


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_every_role_reads_the_statistics_of_its_merchant(api_client, book, merchant, role):
    user = UserFactory(merchant=merchant, role=role, username=f"stats-{role}")
    api_client.force_authenticate(user)

    response = api_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    expected = recompute(merchant, date(2026, 3, 1))
    assert body["currency"] == "USD"
    assert body["today"] == "2026-03-01"
    for name in ("total_payable", "late_fees_charged", "collected", "outstanding", "late_fees_due"):
        assert body[name] == expected[name], name
    assert body["collection_rate"] == expected["collection_rate"]
    assert body["overdue"] == dict(zip(("count", "amount", "plans"), expected["overdue"], strict=True))
    assert body["aging"] == [{"days": key, "count": n, "amount": amount} for key, n, amount in expected["aging"]]
    assert body["plans"] == dict(zip(("active", "defaulted", "completed", "pending"), expected["plans"], strict=True))
    assert body["expected_by_week"][0] == {
        "week_start": "2026-02-23",
        "count": expected["expected_by_week"][0][1],
        "amount": expected["expected_by_week"][0][2],
    }
    assert [month["month"] for month in body["expected_by_month"]] == [
        "2026-03-01",
        "2026-04-01",
        "2026-05-01",
        "2026-06-01",
        "2026-07-01",
        "2026-08-01",
    ]
    keys = ("customer", "name", "phone", "plans", "installments", "amount", "oldest_due_date", "days_overdue")
    assert body["top_overdue_customers"] == [
        dict(zip(keys, (str(row[0]), *row[1:6], row[6].isoformat(), row[7]), strict=True)) for row in expected["top"]
    ]
    assert [row["name"] for row in body["top_overdue_customers"]] == ["Badr", "Ali", "Chadi"]
    assert len(body["collections_by_week"]) == 12


def test_the_statistics_answer_is_exact_for_a_small_book(api_client, owner, merchant, customer, today):
    plan = plan_make(actor=owner, customer=customer)  # 1000.00, 200.00 down; #1 (200.00) due 15 Feb: overdue
    payment_post(actor=owner, plan=plan, amount=D("50.00"), payment_date=date(2026, 2, 20))
    api_client.force_authenticate(owner)

    body = api_client.get(URL).json()

    weeks = [date(2026, 2, 23) + timedelta(weeks=k) for k in range(8)]
    months = ["2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01"]
    assert body == {
        "today": "2026-03-01",
        "currency": "USD",
        "computed_at": "2026-03-01T12:00:00Z",
        "total_payable": "1000.00",
        "late_fees_charged": "0.00",
        "collected": "250.00",
        "outstanding": "750.00",
        "plans": {"active": 1, "defaulted": 0, "completed": 0, "pending": 0},
        "overdue": {"count": 1, "amount": "150.00", "plans": 1},
        "late_fees_due": "0.00",
        "aging": [
            {"days": "1-30", "count": 1, "amount": "150.00"},
            {"days": "31-60", "count": 0, "amount": "0.00"},
            {"days": "61-90", "count": 0, "amount": "0.00"},
            {"days": "90+", "count": 0, "amount": "0.00"},
        ],
        "collection_rate": "25.00",
        "fallen_due": "200.00",
        "fallen_due_paid": "50.00",
        "due_today": {"count": 0, "amount": "0.00"},
        "due_next_7_days": {"count": 0, "amount": "0.00"},
        # 15 March is the Sunday of the week of 9 March; 15 April the Wednesday of the week of 13 April.
        "expected_by_week": [
            {
                "week_start": week.isoformat(),
                "count": 1 if week in (date(2026, 3, 9), date(2026, 4, 13)) else 0,
                "amount": "200.00" if week in (date(2026, 3, 9), date(2026, 4, 13)) else "0.00",
            }
            for week in weeks
        ],
        "expected_by_month": [
            {"month": month, "count": count, "amount": amount}
            for month, count, amount in zip(
                months,
                [1, 1, 1, 0, 0, 0],
                ["200.00", "200.00", "200.00", "0.00", "0.00", "0.00"],
                strict=True,
            )
        ],
        "top_overdue_customers": [
            {
                "customer": str(customer.pk),
                "name": "Amina Haddad",
                "phone": customer.phone,
                "plans": 1,
                "installments": 1,
                "amount": "150.00",
                "oldest_due_date": "2026-02-15",
                "days_overdue": 14,
            }
        ],
        "collected_this_month": "0.00",
        "collections_by_week": [
            {
                "week_start": (date(2025, 12, 8) + timedelta(weeks=k)).isoformat(),
                "amount": {date(2026, 1, 12): "200.00", date(2026, 2, 16): "50.00"}.get(
                    date(2025, 12, 8) + timedelta(weeks=k), "0.00"
                ),
            }
            for k in range(12)
        ],
        "charity_fees": {"collected": "0.00", "given": "0.00", "to_give": "0.00"},
    }


def test_another_merchant_sees_only_its_own_statistics(api_client, book, other_owner, other_merchant):
    plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))
    api_client.force_authenticate(other_owner)

    body = api_client.get(URL).json()

    assert (body["total_payable"], body["collected"], body["overdue"]["count"]) == ("1000.00", "200.00", 1)
    assert body["top_overdue_customers"][0]["name"] != "Ali"
    assert all(row["name"] not in {"Ali", "Badr", "Chadi"} for row in body["top_overdue_customers"])


def test_strangers_and_platform_admins_get_no_statistics(api_client, book, superuser):
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(superuser)
    assert api_client.get(URL).status_code == 404


def test_the_schema_documents_the_statistics_answer(api_client):
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    answer = schema["paths"]["/api/stats/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/Stats"}
    properties = schema["components"]["schemas"]["Stats"]["properties"]
    assert properties["collected"]["type"] == "string"
    assert properties["collected"]["format"] == "decimal"
    assert {"aging", "collection_rate", "expected_by_week", "expected_by_month", "top_overdue_customers"} <= set(
        properties
    )
