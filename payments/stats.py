"""The statistics of one merchant: the one module the dashboard and ``GET /api/stats/`` read.

Every figure is an SQL aggregate (four queries whatever the number of plans, no Python loop over rows), rounded
to the currency's minor unit, and cached per merchant and day until money moves (``taqsit.cache``). All dates are
the merchant's ("today" is the merchant's today). Definitions:

- the book: plans granted and not cancelled, i.e. active, defaulted or completed (pending applications,
  rejected and cancelled plans owe nothing; a cancelled plan's payments stay in the ledger but out of the book);
- total payable: the book's cash prices plus finance charges (down payments included), late fees apart;
- collected: what the book's plans have received, net of refunds and voids: their completed payments, down
  payments and late fees included (equal, by the ledger's invariant, to their ``amount_paid``);
- outstanding: what open (active or defaulted) plans still owe: total payable + late fees charged - collected;
- overdue: unpaid current installments of open plans past due date plus grace days (the collections list),
  counted and summed by what is left to pay on them; their aging buckets by days past the due date: 1-30,
  31-60, 61-90, 90+; late fees due are the fees charged on open plans and not yet paid;
- collection rate: of the book's current installments whose due date has come (due on or before today), the
  amount paid ÷ the amount due, as a percent rounded half-up to two places (None when nothing has fallen due).
  Down payments, late fees and installments paid ahead of their due date are left out of both sides, so the
  rate is at most 100 and says how much of what customers should have paid by today they did pay;
- due today / in the next 7 days: unpaid current installments of open plans due today / today through
  today + 6 days, by what is left to pay on them;
- expected by week / month: what is left to pay on unpaid current installments of open plans not yet overdue,
  by the week (Monday to Sunday) or calendar month of their due date, for this week and the 7 after and this
  month and the 5 after; rows already due but still within grace count in the current week and month;
- top overdue customers: the 10 customers with the most overdue (as above), largest first;
- cash flow (collected this month, collections by week over the last 12 weeks): completed payments by payment
  date, whatever became of their plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, DecimalField, F, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from installments.models import Installment, InstallmentPlan
from installments.schedule import Frequency, due_date_for
from installments.selectors import AGING_BUCKETS, aging_condition, days_overdue, installments_unpaid, overdue_cutoff
from payments.models import Payment
from payments.selectors import CharityFeesTotals, charity_fees_totals
from taqsit.cache import merchant_cache_refresh, merchant_cached
from taqsit.dates import merchant_today
from taqsit.models import Merchant
from taqsit.money import ZERO, percent_of, to_money

PlanStatus = InstallmentPlan.Status

WEEKS = 12  # collections by week, looking back
WEEKS_AHEAD = 8
MONTHS_AHEAD = 6
TOP_CUSTOMERS = 10
BOOK = (PlanStatus.ACTIVE, PlanStatus.DEFAULTED, PlanStatus.COMPLETED)
OPEN = InstallmentPlan.OPEN_STATUSES

_MONEY = DecimalField(max_digits=20, decimal_places=3)


def _sum(expression, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=condition), ZERO, output_field=_MONEY)


@dataclass(frozen=True)
class Figure:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class AgingBucket:
    key: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class WeekTotal:
    week_start: date
    amount: Decimal


@dataclass(frozen=True)
class PeriodTotal:
    """Installments expected in one week (``start`` a Monday) or one month (``start`` its first day)."""

    start: date
    count: int
    amount: Decimal


@dataclass(frozen=True)
class OverdueCustomer:
    customer_id: Any
    name: str
    phone: str
    plans: int
    installments: int
    amount: Decimal
    oldest_due_date: date
    days_overdue: int


@dataclass(frozen=True)
class MerchantStats:
    today: date
    currency: str
    computed_at: datetime
    # the book
    total_payable: Decimal
    late_fees_charged: Decimal
    collected: Decimal
    outstanding: Decimal
    plans_active: int
    plans_defaulted: int
    plans_completed: int
    pending_applications: int
    # what is late
    overdue: Figure
    overdue_plans: int
    late_fees_due: Decimal
    aging: tuple[AgingBucket, ...]
    top_overdue_customers: tuple[OverdueCustomer, ...]
    # how well it is collected
    fallen_due: Decimal
    fallen_due_paid: Decimal
    collection_rate: Decimal | None
    # what comes next
    due_today: Figure
    due_this_week: Figure
    expected_by_week: tuple[PeriodTotal, ...]
    expected_by_month: tuple[PeriodTotal, ...]
    # cash flow
    collected_this_month: Decimal
    collections_by_week: tuple[WeekTotal, ...]
    # charity fees (murabaha terms): apart from the late fees and what was collected above, never income
    charity_fees: CharityFeesTotals | None = None


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (PostgreSQL's ``date_trunc('week', ...)`` agrees)."""
    return day - timedelta(days=day.weekday())


def _months_on(first: date, months: int) -> date:
    return due_date_for(first, Frequency.MONTHLY, months)


def _periods(today: date, cutoff: date) -> tuple[list[tuple[date, date, date]], list[tuple[date, date, date]]]:
    """(label, from, before) of each week and month ahead; the first of each starts at the overdue cutoff, so
    rows still within grace count there and no row is both overdue and expected."""
    monday, first = week_start(today), today.replace(day=1)
    weeks = [(monday + timedelta(weeks=k), monday + timedelta(weeks=k + 1)) for k in range(WEEKS_AHEAD)]
    months = [(_months_on(first, k), _months_on(first, k + 1)) for k in range(MONTHS_AHEAD)]
    return (
        [(start, cutoff if k == 0 else start, end) for k, (start, end) in enumerate(weeks)],
        [(start, cutoff if k == 0 else start, end) for k, (start, end) in enumerate(months)],
    )


def merchant_stats_compute(*, merchant: Merchant, today: date | None = None) -> MerchantStats:
    """Every statistic of one merchant, computed now in five queries whatever the number of plans (the fifth:
    the charity fees collected and given, ``charity_fees_totals``)."""
    today = today or merchant_today(merchant)
    currency = merchant.currency

    def money(value: Decimal) -> Decimal:
        return to_money(value, currency)

    # 1. The plans: the book's totals and the count of each status.
    book, open_ = Q(status__in=BOOK), Q(status__in=OPEN)
    plans = InstallmentPlan.objects.for_merchant(merchant).aggregate(
        book_payable=_sum("total_payable", book),
        book_fees=_sum("late_fees", book),
        book_collected=_sum("amount_paid", book),
        open_outstanding=_sum(F("total_payable") + F("late_fees") - F("amount_paid") - F("rebates"), open_),
        active=Count("pk", filter=Q(status=PlanStatus.ACTIVE)),
        defaulted=Count("pk", filter=Q(status=PlanStatus.DEFAULTED)),
        completed=Count("pk", filter=Q(status=PlanStatus.COMPLETED)),
        pending=Count("pk", filter=Q(status=PlanStatus.PENDING)),
    )

    # 2. The installments of the book: what is due, late, expected, and the collection rate.
    cutoff = overdue_cutoff(merchant, today=today)
    current = Q(superseded_at__isnull=True)
    unpaid = current & Q(plan__status__in=OPEN, amount_paid__lt=F("amount_due"))
    remaining = F("amount_due") - F("amount_paid")
    overdue = unpaid & Q(due_date__lt=cutoff)
    week_end = today + timedelta(days=6)
    fallen_due = current & Q(due_date__lte=today)
    aggregates = {
        "today_count": Count("pk", filter=unpaid & Q(due_date=today)),
        "today_amount": _sum(remaining, unpaid & Q(due_date=today)),
        "week_count": Count("pk", filter=unpaid & Q(due_date__gte=today, due_date__lte=week_end)),
        "week_amount": _sum(remaining, unpaid & Q(due_date__gte=today, due_date__lte=week_end)),
        "overdue_count": Count("pk", filter=overdue),
        "overdue_amount": _sum(remaining, overdue),
        "overdue_plans": Count("plan", filter=overdue, distinct=True),
        "fees_due": _sum(F("late_fee") - F("late_fee_paid"), Q(plan__status__in=OPEN)),
        # Charity fees are taken out of the late fees and of what was collected: they are not income.
        "charity_charged": _sum("charity_fee"),
        "charity_paid": _sum("charity_fee_paid"),
        "charity_due": _sum(F("charity_fee") - F("charity_fee_paid"), Q(plan__status__in=OPEN)),
        "fallen_due": _sum("amount_due", fallen_due),
        "fallen_due_paid": _sum("amount_paid", fallen_due),
    }
    for key, _first, _last in AGING_BUCKETS:
        bucket = overdue & aging_condition(key, today=today)
        aggregates[f"aging_{key}_count"] = Count("pk", filter=bucket)
        aggregates[f"aging_{key}_amount"] = _sum(remaining, bucket)
    weeks, months = _periods(today, cutoff)
    for prefix, periods in (("week", weeks), ("month", months)):
        for index, (_label, start, end) in enumerate(periods):
            expected = unpaid & Q(due_date__gte=start, due_date__lt=end)
            aggregates[f"{prefix}_{index}_count"] = Count("pk", filter=expected)
            aggregates[f"{prefix}_{index}_amount"] = _sum(remaining, expected)
    rows = Installment.objects.for_merchant(merchant).filter(plan__status__in=BOOK).aggregate(**aggregates)

    # 3. The cash flow: completed payments by payment date.
    first_week = week_start(today) - timedelta(weeks=WEEKS - 1)
    month_start = today.replace(day=1)
    week_starts = [first_week + timedelta(weeks=index) for index in range(WEEKS)]
    flow = {
        f"week_{index}": _sum("amount", Q(payment_date__gte=start, payment_date__lt=start + timedelta(weeks=1)))
        for index, start in enumerate(week_starts)
    }
    flow["month"] = _sum("amount", Q(payment_date__gte=month_start))
    payments = (
        Payment.objects.for_merchant(merchant)
        .filter(status=Payment.Status.COMPLETED, payment_date__lte=today)
        .filter(payment_date__gte=min(first_week, month_start))
        .aggregate(**flow)
    )

    # 4. The customers with the most overdue.
    top = (
        installments_unpaid(merchant=merchant)
        .filter(due_date__lt=cutoff)
        .values("plan__customer_id", "plan__customer__name", "plan__customer__phone")
        .annotate(
            amount=_sum(remaining),
            installments=Count("pk"),
            plans=Count("plan", distinct=True),
            oldest=Min("due_date"),
        )
        .order_by("-amount", "oldest", "plan__customer__name", "plan__customer_id")[:TOP_CUSTOMERS]
    )

    fallen, fallen_paid = money(rows["fallen_due"]), money(rows["fallen_due_paid"])
    return MerchantStats(
        today=today,
        currency=currency,
        computed_at=timezone.now(),
        total_payable=money(plans["book_payable"]),
        late_fees_charged=money(plans["book_fees"] - rows["charity_charged"]),
        collected=money(plans["book_collected"] - rows["charity_paid"]),
        outstanding=money(plans["open_outstanding"]),
        plans_active=plans["active"],
        plans_defaulted=plans["defaulted"],
        plans_completed=plans["completed"],
        pending_applications=plans["pending"],
        overdue=Figure(rows["overdue_count"], money(rows["overdue_amount"])),
        overdue_plans=rows["overdue_plans"],
        late_fees_due=money(rows["fees_due"] - rows["charity_due"]),
        aging=tuple(
            AgingBucket(key, rows[f"aging_{key}_count"], money(rows[f"aging_{key}_amount"]))
            for key, _first, _last in AGING_BUCKETS
        ),
        top_overdue_customers=tuple(
            OverdueCustomer(
                customer_id=row["plan__customer_id"],
                name=row["plan__customer__name"],
                phone=row["plan__customer__phone"],
                plans=row["plans"],
                installments=row["installments"],
                amount=money(row["amount"]),
                oldest_due_date=row["oldest"],
                days_overdue=days_overdue(due_date=row["oldest"], today=today),
            )
            for row in top
        ),
        fallen_due=fallen,
        fallen_due_paid=fallen_paid,
        collection_rate=percent_of(fallen_paid, fallen),
        due_today=Figure(rows["today_count"], money(rows["today_amount"])),
        due_this_week=Figure(rows["week_count"], money(rows["week_amount"])),
        expected_by_week=tuple(
            PeriodTotal(label, rows[f"week_{index}_count"], money(rows[f"week_{index}_amount"]))
            for index, (label, _start, _end) in enumerate(weeks)
        ),
        expected_by_month=tuple(
            PeriodTotal(label, rows[f"month_{index}_count"], money(rows[f"month_{index}_amount"]))
            for index, (label, _start, _end) in enumerate(months)
        ),
        collected_this_month=money(payments["month"]),
        collections_by_week=tuple(
            WeekTotal(start, money(payments[f"week_{index}"])) for index, start in enumerate(week_starts)
        ),
        charity_fees=charity_fees_totals(merchant=merchant),
    )


def _stats_name(today: date) -> str:
    return f"stats:{today.isoformat()}"


def merchant_stats(*, merchant: Merchant, today: date | None = None, allow_stale: bool = False) -> MerchantStats:
    """The merchant's statistics as of ``today`` (its today by default), from the cache when nothing that moves
    money has happened since they were computed; no query at all on a cache hit.

    With ``allow_stale`` (the dashboard), after money moved the last figures are served while they are under
    ``STATS_MAX_STALE_SECONDS`` old and a worker recomputes them (``computed_at`` says when they were); older, or
    with none, they are computed now. Without it (the API: an integrator reads what it has just written) they are
    always current."""
    today = today or merchant_today(merchant)

    def refresh() -> None:
        from payments.tasks import stats_refresh

        stats_refresh.delay(str(merchant.pk), today.isoformat())

    return merchant_cached(
        merchant.pk,
        _stats_name(today),
        lambda: merchant_stats_compute(merchant=merchant, today=today),
        max_stale=settings.STATS_MAX_STALE_SECONDS if allow_stale else 0,
        refresh=refresh,
    )


def merchant_stats_refresh(*, merchant: Merchant, today: date) -> MerchantStats:
    """Recompute the merchant's statistics for ``today`` and cache them (the background refresh)."""
    return merchant_cache_refresh(
        merchant.pk, _stats_name(today), lambda: merchant_stats_compute(merchant=merchant, today=today)
    )
