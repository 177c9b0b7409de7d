"""Dashboard statistics for one merchant, each figure an SQL aggregate (no Python loop over rows).

Cross-app reads (installments and payments) live here, in the project package, like the URLConf that joins the
apps. Definitions, all in the merchant's time zone ("today" is the merchant's today):

- due today / this week: current, unpaid installments of open plans due today / today through today + 6 days,
  counted and summed by what is left to pay on them;
- overdue: the same rows past due date plus grace days (the collections list), and their aging buckets by days
  past the due date: 1-30, 31-60, 61-90, 90+;
- collected: completed payments (down payments included; refunded and voided ones excluded) by payment date;
- outstanding: what open (active or defaulted) plans still owe, late fees included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce, TruncWeek

from installments.models import InstallmentPlan
from installments.selectors import AGING_BUCKETS, installments_unpaid, overdue_cutoff
from payments.models import Payment
from taqsit.dates import merchant_today
from taqsit.models import Merchant
from taqsit.money import ZERO, to_money

WEEKS = 12
# (key, first day overdue, last day overdue or None for open-ended)

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
class DashboardStats:
    today: date
    currency: str
    due_today: Figure
    due_this_week: Figure
    overdue: Figure
    aging: tuple[AgingBucket, ...]
    collected_this_month: Decimal
    collections_by_week: tuple[WeekTotal, ...]
    outstanding: Decimal
    pending_applications: int


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (PostgreSQL's ``date_trunc('week', ...)`` agrees)."""
    return day - timedelta(days=day.weekday())


def dashboard_stats(*, merchant: Merchant, today: date | None = None) -> DashboardStats:
    """Every dashboard figure of one merchant in five queries, whatever the number of plans."""
    today = today or merchant_today(merchant)
    currency = merchant.currency
    cutoff = overdue_cutoff(merchant, today=today)
    remaining = F("amount_due") - F("amount_paid")
    overdue = Q(due_date__lt=cutoff)
    aggregates = {
        "today_count": Count("pk", filter=Q(due_date=today)),
        "today_amount": _sum(remaining, Q(due_date=today)),
        "week_count": Count("pk", filter=Q(due_date__gte=today, due_date__lte=today + timedelta(days=6))),
        "week_amount": _sum(remaining, Q(due_date__gte=today, due_date__lte=today + timedelta(days=6))),
        "overdue_count": Count("pk", filter=overdue),
        "overdue_amount": _sum(remaining, overdue),
    }
    for key, first, last in AGING_BUCKETS:
        bucket = overdue & Q(due_date__lte=today - timedelta(days=first))
        if last is not None:
            bucket &= Q(due_date__gte=today - timedelta(days=last))
        aggregates[f"aging_{key}_count"] = Count("pk", filter=bucket)
        aggregates[f"aging_{key}_amount"] = _sum(remaining, bucket)
    rows = installments_unpaid(merchant=merchant).aggregate(**aggregates)

    plans = InstallmentPlan.objects.for_merchant(merchant)
    outstanding = plans.filter(status__in=InstallmentPlan.OPEN_STATUSES).aggregate(
        total=_sum(F("total_payable") + F("late_fees") - F("amount_paid"))
    )["total"]
    pending = plans.filter(status=InstallmentPlan.Status.PENDING).count()

    first_week = week_start(today) - timedelta(weeks=WEEKS - 1)
    month_start = today.replace(day=1)
    payments = Payment.objects.for_merchant(merchant).filter(
        status=Payment.Status.COMPLETED, payment_date__lte=today, payment_date__gte=min(first_week, month_start)
    )
    # TruncWeek of a DateField is a date: the Monday of the payment's week.
    weekly = dict(
        payments.filter(payment_date__gte=first_week)
        .annotate(week=TruncWeek("payment_date"))
        .values("week")
        .annotate(total=_sum("amount"))
        .values_list("week", "total")
    )
    collected_month = payments.filter(payment_date__gte=month_start).aggregate(total=_sum("amount"))["total"]

    def money(value: Decimal) -> Decimal:
        return to_money(value, currency)

    weeks = tuple(first_week + timedelta(weeks=index) for index in range(WEEKS))
    return DashboardStats(
        today=today,
        currency=currency,
        due_today=Figure(rows["today_count"], money(rows["today_amount"])),
        due_this_week=Figure(rows["week_count"], money(rows["week_amount"])),
        overdue=Figure(rows["overdue_count"], money(rows["overdue_amount"])),
        aging=tuple(
            AgingBucket(key, rows[f"aging_{key}_count"], money(rows[f"aging_{key}_amount"]))
            for key, _first, _last in AGING_BUCKETS
        ),
        collected_this_month=money(collected_month),
        collections_by_week=tuple(WeekTotal(week, money(weekly.get(week, ZERO))) for week in weeks),
        outstanding=money(outstanding),
        pending_applications=pending,
    )
