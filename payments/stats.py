"""The statistics of one merchant: the one module the dashboard and ``GET /api/stats/`` read.

Every figure is an SQL aggregate (four or five queries whatever the number of plans, no Python loop over rows), rounded
to the currency's minor unit, and cached per merchant and day until money moves (``taqsit.cache``). All dates are
the merchant's ("today" is the merchant's today). Definitions:

- the book: plans granted and not cancelled, i.e. active, defaulted or completed (pending applications,
  rejected and cancelled plans owe nothing; a cancelled plan's payments stay in the ledger but out of the book);
- total payable: the book's cash prices plus finance charges (down payments included), late fees apart;
- late fees charged: the book's late fees, charity fees left out (murabaha terms: a charity fee is collected but
  never income; they are shown apart, below);
- collected: what the book's plans have received, net of refunds and voids: their completed payments, down
  payments and late fees included, charity fees left out (their ``amount_paid`` less their charity fees paid);
- outstanding: what open (active or defaulted) plans still owe: total payable + late fees (charity fees
  included) - what they received - settlement rebates (interest forgiven at an early settlement: no money);
- overdue: unpaid current installments of open plans past due date plus grace days (the collections list),
  counted and summed by what is left to pay on them; their aging buckets by days past the due date: 1-30,
  31-60, 61-90, 90+; late fees due are the fees charged on open plans and not yet paid, charity fees apart;
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
  date, whatever became of their plan (the money received: charity fees included, settlement rebates not);
- charity fees: collected (net of refunds and voids, on any plan), given to charity (``CharityDisbursement``) and
  still to give (``payments.selectors.charity_fees_totals``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, DecimalField, F, IntegerField, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from installments.models import (
    CustomerOverdueTotal,
    DueDayTotal,
    Installment,
    InstallmentPlan,
    MerchantOverdueTotal,
    PlanStatusTotal,
)
from installments.schedule import Frequency, due_date_for
from installments.selectors import AGING_BUCKETS, aging_bounds, days_overdue, installments_unpaid, overdue_cutoff
from payments.models import CollectionDayTotal, Payment, PaymentAllocation
from payments.selectors import CharityFeesTotals, charity_fees_totals, charity_fees_totals_from_ledger
from taqsit.cache import merchant_cached
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
    charity_fees: CharityFeesTotals


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


Bounds = tuple[date | None, date | None]  # due or payment dates from (inclusive) and before (exclusive); None: open


def _due_bounds(today: date, cutoff: date) -> tuple[dict[str, Bounds], list, list]:
    """The due-date range of every figure by due date: due today, this week, overdue (before the cutoff), each
    aging bucket (overdue and so many days past the due date) and each week and month expected; one set of
    definitions that both computations read, over installments or over ``DueDayTotal``."""
    bounds: dict[str, Bounds] = {
        "today": (today, today + timedelta(days=1)),
        "week": (today, today + timedelta(days=7)),
        "overdue": (None, cutoff),
    }
    for key, _first, _last in AGING_BUCKETS:
        start, before = aging_bounds(key, today=today)
        bounds[f"aging_{key}"] = (start, min(cutoff, before))
    weeks, months = _periods(today, cutoff)
    for prefix, periods in (("week", weeks), ("month", months)):
        for index, (_label, start, end) in enumerate(periods):
            bounds[f"{prefix}_{index}"] = (start, end)
    return bounds, weeks, months


def _in(bounds: Bounds, field: str = "due_date") -> Q:
    start, before = bounds
    condition = Q()
    if start is not None:
        condition &= Q(**{f"{field}__gte": start})
    if before is not None:
        condition &= Q(**{f"{field}__lt": before})
    return condition


def _due_aggregates(
    today: date, cutoff: date, *, count, amount, fallen_due, fallen_due_paid
) -> tuple[dict[str, Any], list, list]:
    """The ORM aggregates of what is due, late and expected by due date (``_due_bounds``), given how rows not
    fully paid on open plans are counted and summed under a condition on their due date (``count``,
    ``amount``), and what has fallen due by today (due and paid)."""
    bounds, weeks, months = _due_bounds(today, cutoff)
    aggregates = {"fallen_due": fallen_due, "fallen_due_paid": fallen_due_paid}
    for name, period in bounds.items():
        aggregates[f"{name}_count"] = count(_in(period))
        aggregates[f"{name}_amount"] = amount(_in(period))
    return aggregates, weeks, months


@functools.lru_cache(maxsize=8)
def _filtered_sums_sql(table: str, date_column: str, where: str, sums: tuple[tuple[str, str, bool, bool], ...]) -> str:
    """``SELECT COALESCE(SUM(column) FILTER (WHERE date in range), 0) AS name, ...`` over one summary table: the
    text depends only on which bounds are open, so it is built once and only the dates change."""
    columns = []
    for name, column, has_start, has_before in sums:
        conditions = [f"{date_column} >= %s"] * has_start + [f"{date_column} < %s"] * has_before
        condition = f" FILTER (WHERE {' AND '.join(conditions)})" if conditions else ""
        columns.append(f"COALESCE(SUM({column}){condition}, 0) AS {connection.ops.quote_name(name)}")
    # Table, columns and the extra condition come from this module, never from input; the dates are parameters.
    return f"SELECT {', '.join(columns)} FROM {table} WHERE merchant_id = %s{where}"  # noqa: S608


def _filtered_sums(
    model,
    date_column: str,
    merchant: Merchant,
    sums: list[tuple[str, str, Bounds]],
    where: str = "",
    where_params: tuple = (),
) -> dict[str, Any]:
    """Sums of a summary table's columns over date ranges, in one statement written in SQL: built by the ORM,
    the sixty-odd filtered aggregates cost more Python than the rows cost the database. When every range has a
    start, only the rows from the earliest are read (the cash flow's last weeks, not the merchant's history)."""
    starts = [start for _name, _column, (start, _before) in sums]
    if all(start is not None for start in starts):
        where, where_params = f" AND {date_column} >= %s{where}", (min(starts), *where_params)
    sql = _filtered_sums_sql(
        connection.ops.quote_name(model._meta.db_table),
        date_column,
        where,
        tuple((name, column, start is not None, before is not None) for name, column, (start, before) in sums),
    )
    params = [value for _name, _column, bounds in sums for value in bounds if value is not None]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, merchant.pk, *where_params])
        row = cursor.fetchone()
    # PostgreSQL sums a bigint column as a numeric: a count is given back as the int it is.
    counts = {column for _name, column, _bounds in sums if isinstance(model._meta.get_field(column), IntegerField)}
    return {
        name: int(value) if column in counts else value
        for (name, column, _bounds), value in zip(sums, row, strict=True)
    }


def _week_starts(today: date) -> tuple[list[date], date]:
    """The Mondays of the last ``WEEKS`` weeks, oldest first, and the first day of ``today``'s month."""
    first_week = week_start(today) - timedelta(weeks=WEEKS - 1)
    return [first_week + timedelta(weeks=index) for index in range(WEEKS)], today.replace(day=1)


def _flow_bounds(today: date) -> dict[str, Bounds]:
    """The payment dates of each of the last ``WEEKS`` weeks and of this month, up to ``today``."""
    week_starts, month_start = _week_starts(today)
    end = today + timedelta(days=1)
    flow = {f"week_{index}": (start, min(start + timedelta(weeks=1), end)) for index, start in enumerate(week_starts)}
    flow["month"] = (month_start, end)
    return flow


def _flow(queryset, today: date) -> dict[str, Decimal]:
    """Collected by week and this month: ``queryset``'s ``amount`` by ``payment_date`` up to ``today``."""
    flow = {name: _sum("amount", _in(bounds, "payment_date")) for name, bounds in _flow_bounds(today).items()}
    return queryset.aggregate(**flow)


def _top_overdue(merchant: Merchant, cutoff: date):
    """The customers with the most overdue, from the rows themselves (which customer is late depends on today)."""
    return (
        installments_unpaid(merchant=merchant)
        .filter(due_date__lt=cutoff)
        .values("plan__customer_id", "plan__customer__name", "plan__customer__phone")
        .annotate(
            amount=_sum(F("amount_due") - F("amount_paid")),
            installments=Count("pk"),
            plans=Count("plan", distinct=True),
            oldest=Min("due_date"),
        )
        .order_by("-amount", "oldest", "plan__customer__name", "plan__customer_id")[:TOP_CUSTOMERS]
    )


_OVERDUE_BY_CUSTOMER_SQL = """
WITH kept AS (  -- the overdue rows by customer, when kept as of this cutoff (installments/overdue.py)
    SELECT merchant_id, cutoff, plans FROM {state} WHERE merchant_id = %(merchant)s AND cutoff = %(cutoff)s
),
by_plan AS (  -- else the unpaid rows past the cutoff, from the covering unpaid-by-due-date index, by plan first
    SELECT plan_id, SUM(amount_due - amount_paid) AS amount, COUNT(*) AS installments, MIN(due_date) AS oldest
      FROM {installment}
     WHERE merchant_id = %(merchant)s AND superseded_at IS NULL AND status <> 'paid'
       AND amount_paid < amount_due AND due_date < %(cutoff)s
     GROUP BY plan_id
),
by_customer AS (  -- of open plans only
    SELECT p.customer_id, SUM(o.amount) AS amount, SUM(o.installments) AS installments, COUNT(*) AS plans,
           MIN(o.oldest) AS oldest, SUM(COUNT(*)) OVER () AS overdue_plans
      FROM by_plan o
      JOIN {plan} p ON p.id = o.plan_id
     WHERE p.status = ANY(%(open)s)
     GROUP BY p.customer_id
),
leaders AS (  -- the customers' names are read for the leaders only, ties on the ordering's first keys included
    SELECT * FROM by_customer ORDER BY amount DESC, oldest FETCH FIRST %(limit)s ROWS WITH TIES
)
SELECT k.plans, l.customer_id, c.name, c.phone, l.plans, l.installments, l.amount,
       (SELECT MIN((SELECT MIN(i.due_date)  -- the leaders' oldest row overdue, plan by plan: a few rows each
                      FROM {installment} i
                     WHERE i.plan_id = p.id AND i.due_date < k.cutoff AND i.superseded_at IS NULL
                       AND i.amount_paid < i.amount_due))
          FROM {plan} p
         WHERE p.customer_id = l.customer_id AND p.status = ANY(%(open)s))
  FROM kept k
  LEFT JOIN LATERAL (  -- the largest amounts, from the index, ties on the last one included
        SELECT t.customer_id, t.plans, t.installments, t.amount
          FROM {customer_total} t
         WHERE t.merchant_id = k.merchant_id AND t.amount > 0
         ORDER BY t.amount DESC
         FETCH FIRST %(limit)s ROWS WITH TIES
       ) l ON true
  LEFT JOIN {customer} c ON c.id = l.customer_id
UNION ALL
SELECT b.overdue_plans, b.customer_id, c.name, c.phone, b.plans, b.installments, b.amount, b.oldest
  FROM leaders b
  JOIN {customer} c ON c.id = b.customer_id
 WHERE NOT EXISTS (SELECT FROM kept)  -- a one-time filter: the rows late are not read when kept
 ORDER BY 7 DESC, 8, 3, 2
 LIMIT %(limit)s
"""


def _overdue_by_customer(merchant: Merchant, cutoff: date) -> tuple[list[dict[str, Any]], int]:
    """The customers with the most overdue (``TOP_CUSTOMERS``) and the number of plans with a row overdue
    (``_top_overdue``'s definitions), in one statement: from the overdue rows kept by customer when they are
    kept as of ``cutoff`` (installments/overdue.py: a few rows whatever the book), else from the unpaid rows past
    the cutoff, linear in them (before the day's run, or after a change of grace days)."""
    quote = connection.ops.quote_name
    sql = _OVERDUE_BY_CUSTOMER_SQL.format(
        state=quote(MerchantOverdueTotal._meta.db_table),
        customer_total=quote(CustomerOverdueTotal._meta.db_table),
        installment=quote(Installment._meta.db_table),
        plan=quote(InstallmentPlan._meta.db_table),
        customer=quote(Customer._meta.db_table),
    )
    params = {"merchant": merchant.pk, "cutoff": cutoff, "open": [str(s) for s in OPEN], "limit": TOP_CUSTOMERS}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    top = [
        {
            "plan__customer_id": customer_id,
            "plan__customer__name": name,
            "plan__customer__phone": phone,
            "plans": plans,
            "installments": int(installments),
            "amount": amount,
            "oldest": oldest,
        }
        for _overdue_plans, customer_id, name, phone, plans, installments, amount, oldest in found
        if customer_id is not None  # kept, and no one overdue
    ]
    return top, int(found[0][0]) if found else 0


def merchant_stats_compute(*, merchant: Merchant, today: date | None = None) -> MerchantStats:
    """Every statistic of one merchant, current, from its summary rows (kept with every movement: a few rows
    whatever the size of the book; what is overdue by customer kept for the day's cutoff once the daily run moved
    it on, read from the unpaid rows past the cutoff before): four queries, and a fifth for a merchant that
    charged charity fees."""
    today = today or merchant_today(merchant)
    cutoff = overdue_cutoff(merchant, today=today)

    # 1. The plans by status.
    by_status = {
        row["status"]: row
        for row in PlanStatusTotal.objects.for_merchant(merchant).values(
            "status",
            "plans",
            "total_payable",
            "late_fees",
            "amount_paid",
            "late_fees_unpaid",
            "rebates",
            "charity_fees",
            "charity_fees_paid",
        )
    }

    def total(statuses, name: str):
        return sum((by_status[status][name] for status in statuses if status in by_status), ZERO)

    plans = {
        # Charity fees are taken out of the late fees and of what was collected: they are not income.
        "book_payable": total(BOOK, "total_payable"),
        "book_fees": total(BOOK, "late_fees") - total(BOOK, "charity_fees"),
        "book_collected": total(BOOK, "amount_paid") - total(BOOK, "charity_fees_paid"),
        "open_outstanding": total(OPEN, "total_payable")
        + total(OPEN, "late_fees")
        - total(OPEN, "amount_paid")
        - total(OPEN, "rebates"),
        **{key: int(total((status,), "plans")) for key, status in _COUNTED.items()},
    }

    # 2. By due date: what is due, late, expected, and the collection rate.
    bounds, weeks, months = _due_bounds(today, cutoff)
    fallen: Bounds = (None, today + timedelta(days=1))
    sums = [("fallen_due", "book_due", fallen), ("fallen_due_paid", "book_paid", fallen)]
    for name, period in bounds.items():
        sums += [(f"{name}_count", "unpaid_count", period), (f"{name}_amount", "unpaid_amount", period)]
    rows = _filtered_sums(DueDayTotal, "due_date", merchant, sums)
    rows["fees_due"] = total(OPEN, "late_fees_unpaid") - (
        total(OPEN, "charity_fees") - total(OPEN, "charity_fees_paid")
    )

    # 3. The cash flow: what payments brought in, by payment date (a settlement's rebate lines moved no money).
    payments = _filtered_sums(
        CollectionDayTotal,
        "payment_date",
        merchant,
        [(name, "amount", period) for name, period in _flow_bounds(today).items()],
        where=" AND kind <> %s",
        where_params=(PaymentAllocation.Kind.REBATE.value,),
    )

    # 4. Who is late and on how many plans: from the overdue rows kept by customer (else the rows late).
    top, rows["overdue_plans"] = _overdue_by_customer(merchant, cutoff)

    # 5. The charity fees collected (the status rows again, every status) and given. A merchant that never charged
    # one has none collected nor given (a disbursement is at most what was collected, and a fee charged is never
    # taken back: a plan with fees is cancelled, not deleted): no query then, so the usual merchant's stay four.
    if any(row["charity_fees"] for row in by_status.values()):
        charity = charity_fees_totals(merchant=merchant)
    else:
        nothing = to_money(ZERO, merchant.currency)
        charity = CharityFeesTotals(collected=nothing, given=nothing, to_give=nothing)
    return _stats_assemble(merchant, today, plans, rows, payments, top, weeks, months, charity)


_COUNTED = {
    "active": PlanStatus.ACTIVE,
    "defaulted": PlanStatus.DEFAULTED,
    "completed": PlanStatus.COMPLETED,
    "pending": PlanStatus.PENDING,
}


def merchant_stats_compute_full(*, merchant: Merchant, today: date | None = None) -> MerchantStats:
    """Every statistic of one merchant from the whole book, in five queries whose cost grows with it: the
    reference ``merchant_stats_compute`` is held to (tests, the bench's baseline)."""
    today = today or merchant_today(merchant)

    # 1. The plans: the book's totals and the count of each status.
    book, open_ = Q(status__in=BOOK), Q(status__in=OPEN)
    plans = InstallmentPlan.objects.for_merchant(merchant).aggregate(
        book_payable=_sum("total_payable", book),
        book_fees=_sum("late_fees", book),
        book_collected=_sum("amount_paid", book),
        open_outstanding=_sum(F("total_payable") + F("late_fees") - F("amount_paid") - F("rebates"), open_),
        **{key: Count("pk", filter=Q(status=status)) for key, status in _COUNTED.items()},
    )

    # 2. The installments of the book: what is due, late, expected, and the collection rate.
    cutoff = overdue_cutoff(merchant, today=today)
    current = Q(superseded_at__isnull=True)
    unpaid = current & Q(plan__status__in=OPEN, amount_paid__lt=F("amount_due"))
    remaining = F("amount_due") - F("amount_paid")
    fallen_due = current & Q(due_date__lte=today)
    aggregates, weeks, months = _due_aggregates(
        today,
        cutoff,
        count=lambda condition: Count("pk", filter=unpaid & condition),
        amount=lambda condition: _sum(remaining, unpaid & condition),
        fallen_due=_sum("amount_due", fallen_due),
        fallen_due_paid=_sum("amount_paid", fallen_due),
    )
    aggregates["overdue_plans"] = Count("plan", filter=unpaid & Q(due_date__lt=cutoff), distinct=True)
    # Charity fees are taken out of the late fees and of what was collected: they are not income.
    aggregates["fees_due"] = _sum(
        F("late_fee") - F("late_fee_paid") - F("charity_fee") + F("charity_fee_paid"), Q(plan__status__in=OPEN)
    )
    aggregates["charity_charged"] = _sum("charity_fee")
    aggregates["charity_paid"] = _sum("charity_fee_paid")
    rows = Installment.objects.for_merchant(merchant).filter(plan__status__in=BOOK).aggregate(**aggregates)
    plans["book_fees"] -= rows["charity_charged"]
    plans["book_collected"] -= rows["charity_paid"]

    # 3. The cash flow: completed payments by payment date.
    payments = _flow(Payment.objects.for_merchant(merchant).filter(status=Payment.Status.COMPLETED), today)

    # 4. The customers with the most overdue; 5. the charity fees collected and given.
    top = _top_overdue(merchant, cutoff)
    charity = charity_fees_totals_from_ledger(merchant=merchant)
    return _stats_assemble(merchant, today, plans, rows, payments, top, weeks, months, charity)


def _stats_assemble(
    merchant: Merchant, today: date, plans, rows, payments, top, weeks, months, charity: CharityFeesTotals
) -> MerchantStats:
    currency = merchant.currency

    def money(value: Decimal) -> Decimal:
        return to_money(value, currency)

    week_starts, _month_start = _week_starts(today)
    fallen, fallen_paid = money(rows["fallen_due"]), money(rows["fallen_due_paid"])
    return MerchantStats(
        today=today,
        currency=currency,
        computed_at=timezone.now(),
        total_payable=money(plans["book_payable"]),
        late_fees_charged=money(plans["book_fees"]),
        collected=money(plans["book_collected"]),
        outstanding=money(plans["open_outstanding"]),
        plans_active=plans["active"],
        plans_defaulted=plans["defaulted"],
        plans_completed=plans["completed"],
        pending_applications=plans["pending"],
        overdue=Figure(rows["overdue_count"], money(rows["overdue_amount"])),
        overdue_plans=rows["overdue_plans"],
        late_fees_due=money(rows["fees_due"]),
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
        charity_fees=charity,
    )


def _stats_name(today: date) -> str:
    return f"stats:{today.isoformat()}"


def merchant_stats(*, merchant: Merchant, today: date | None = None) -> MerchantStats:
    """The merchant's statistics as of ``today`` (its today by default), always current: from the cache when
    nothing that moves money has happened since they were computed (no query at all), else computed now from
    the summary rows (``merchant_stats_compute``), which costs what changed, not the size of the book."""
    today = today or merchant_today(merchant)
    return merchant_cached(
        merchant.pk, _stats_name(today), lambda: merchant_stats_compute(merchant=merchant, today=today)
    )
