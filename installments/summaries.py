"""The statistics' summary rows of plans and installments (``PlanStatusTotal``, ``DueDayTotal``), kept in the
transaction of every change to a plan's status, totals or schedule.

A plan's part in them is a function of the plan and its rows (``plan_totals_of``): a service works out that part
before and after its change under the plan's lock and adds the difference (``plan_totals_tracked``), so every
service agrees with the rebuild (``payments/summaries.py``, ``stats_rebuild``) by construction. Services that
call each other on the same plan (a plan created active records its down payment) count once: only the
outermost tracks. The daily job, set-based, adds its own per chunk (installments/jobs.py).

What the rows hold:

- per status: the plans, their total payable, late fees charged, amount paid, late fees unpaid and settlement
  rebates, and of their late fees the charity fees charged and paid (murabaha terms: apart from income);
- per due date, of current rows: on book plans (active, defaulted, completed) the amount due and paid; on open
  plans (active, defaulted) the rows not fully paid and what is left to pay on them;
- per customer, as of a stored cutoff: what is overdue on open plans (installments/overdue.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce

from installments.models import DueDayTotal, Installment, InstallmentPlan, PlanStatusTotal
from installments.overdue import overdue_totals_add
from taqsit.money import ZERO
from taqsit.summaries import totals_add

PlanStatus = InstallmentPlan.Status
BOOK = (PlanStatus.ACTIVE, PlanStatus.DEFAULTED, PlanStatus.COMPLETED)
OPEN = InstallmentPlan.OPEN_STATUSES

# The rows a plan's part needs: those in force, those with a late fee unpaid (the rows a payment may go to) and
# those ever charged a charity fee (its charity fees charged and paid are summed from them: a few rows at most).
ROWS_NEEDED = Q(superseded_at__isnull=True) | Q(late_fee_paid__lt=F("late_fee")) | Q(charity_fee__gt=0)
ROW_FIELDS = (
    "due_date",
    "amount_due",
    "amount_paid",
    "late_fee",
    "late_fee_paid",
    "charity_fee",
    "charity_fee_paid",
    "superseded_at",
)


@dataclass
class PlanTotals:
    """One plan's part in the summary rows; ``status`` None for no plan (not yet created, or deleted)."""

    status: str | None = None
    customer: Any = None
    plan: dict[str, Any] = field(default_factory=dict)
    days: dict[date, dict[str, Any]] = field(default_factory=dict)


def plan_totals_of(
    *,
    status: str,
    customer_id: Any,
    total_payable: Decimal,
    late_fees: Decimal,
    amount_paid: Decimal,
    rebates: Decimal,
    rows: Iterable[Any],
) -> PlanTotals:
    """A plan's part, from its figures and ``rows`` (objects or dicts with ``ROW_FIELDS``): every row in force,
    every row with a late fee unpaid and every row charged a charity fee (more rows change nothing)."""
    fees_unpaid = charity_fees = charity_fees_paid = ZERO
    days: dict[date, dict[str, Any]] = {}
    in_book, is_open = status in BOOK, status in OPEN
    for row in rows:
        get = row.get if isinstance(row, dict) else row.__getattribute__
        fees_unpaid += get("late_fee") - get("late_fee_paid")
        charity_fees += get("charity_fee")
        charity_fees_paid += get("charity_fee_paid")
        if get("superseded_at") is not None or not in_book:
            continue
        day = days.setdefault(
            get("due_date"), {"book_due": ZERO, "book_paid": ZERO, "unpaid_count": 0, "unpaid_amount": ZERO}
        )
        due, paid = get("amount_due"), get("amount_paid")
        day["book_due"] += due
        day["book_paid"] += paid
        if is_open and paid < due:
            day["unpaid_count"] += 1
            day["unpaid_amount"] += due - paid
    return PlanTotals(
        status=status,
        customer=customer_id,
        plan={
            "plans": 1,
            "total_payable": total_payable,
            "late_fees": late_fees,
            "amount_paid": amount_paid,
            "late_fees_unpaid": fees_unpaid,
            "rebates": rebates,
            "charity_fees": charity_fees,
            "charity_fees_paid": charity_fees_paid,
        },
        days=days,
    )


def plan_totals_read(plan_id: Any) -> PlanTotals:
    """A plan's part as the database holds it now (two reads on the plan's rows; no plan: an empty part)."""
    plan = (
        InstallmentPlan.objects.filter(pk=plan_id)
        .values("status", "customer_id", "total_payable", "late_fees", "amount_paid", "rebates")
        .first()
    )
    if plan is None:
        return PlanTotals()
    rows = Installment.objects.filter(ROWS_NEEDED, plan_id=plan_id).values(*ROW_FIELDS)
    return plan_totals_of(**plan, rows=rows)


def plan_totals_in_hand(plan: InstallmentPlan, rows: list[Installment]) -> PlanTotals:
    """A plan's part from the plan and its rows in hand (``ROWS_NEEDED`` at least, as a payment locks them):
    no read at all."""
    return plan_totals_of(
        status=plan.status,
        customer_id=plan.customer_id,
        total_payable=plan.total_payable,
        late_fees=plan.late_fees,
        amount_paid=plan.amount_paid,
        rebates=plan.rebates,
        rows=rows,
    )


def plan_totals_apply(*, merchant_id: Any, before: PlanTotals, after: PlanTotals) -> None:
    """Add ``after`` - ``before`` to the merchant's summary rows: one statement per table (the overdue rows'
    one: installments/overdue.py), none if nothing changed."""
    statuses: dict[tuple, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    days: dict[tuple, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for sign, totals in ((-1, before), (1, after)):
        if totals.status is not None:
            for name, value in totals.plan.items():
                statuses[(totals.status,)][name] += sign * value
        for day, values in totals.days.items():
            for name, value in values.items():
                days[(day,)][name] += sign * value
    totals_add(PlanStatusTotal, merchant_id=merchant_id, deltas=statuses)
    totals_add(DueDayTotal, merchant_id=merchant_id, deltas=days)
    overdue_totals_add(merchant_id=merchant_id, before=before, after=after)


_tracked: ContextVar[frozenset] = ContextVar("plan_totals_tracked", default=frozenset())


def plan_totals_changed(*, plan: InstallmentPlan, before: PlanTotals, after: PlanTotals) -> None:
    """Add a plan's change worked out by the caller (``plan_totals_in_hand`` before and after, a payment's hot
    path), unless an outer ``plan_totals_tracked`` block of the same plan counts it."""
    if plan.pk not in _tracked.get():
        plan_totals_apply(merchant_id=plan.merchant_id, before=before, after=after)


@contextmanager
def plan_totals_tracked(
    *, plan: InstallmentPlan, rows: list[Installment] | None = None, created: bool = False
) -> Iterator[None]:
    """Keep the summary rows in step with what the block changes on ``plan`` (locked by the caller): its part is
    worked out before and after, and the difference added, in the block's transaction.

    ``rows``: the plan's rows in hand (``ROWS_NEEDED`` at least), changed in place by the block, with ``plan``
    itself: no read at all (a payment). Otherwise both parts are read from the database. ``created``: the plan
    is new (no part before). Inside another tracked block of the same plan, nothing (the outer one counts)."""
    plan_id, merchant_id = plan.pk, plan.merchant_id
    if plan_id in _tracked.get():
        yield
        return
    if created:
        before = PlanTotals()
    else:
        before = plan_totals_in_hand(plan, rows) if rows is not None else plan_totals_read(plan_id)
    token = _tracked.set(_tracked.get() | {plan_id})
    try:
        yield
    finally:
        _tracked.reset(token)
    after = plan_totals_in_hand(plan, rows) if rows is not None else plan_totals_read(plan_id)
    plan_totals_apply(merchant_id=merchant_id, before=before, after=after)


def plans_status_move(*, merchant_id: Any, plan_ids: list, from_status: str, to_status: str) -> None:
    """Move the parts of ``plan_ids`` (locked, in ``from_status``, about to be in ``to_status``) between status
    rows, set-based (the daily job's defaults and restorations): two reads and one statement for the chunk.
    Both statuses must be open ones, so the due-day rows stay as they are."""
    if from_status not in OPEN or to_status not in OPEN:
        raise ValueError(f"{from_status} -> {to_status}: a move between open statuses only.")
    totals = InstallmentPlan.objects.filter(pk__in=plan_ids).aggregate(
        total_payable=_sum("total_payable"),
        late_fees=_sum("late_fees"),
        amount_paid=_sum("amount_paid"),
        rebates=_sum("rebates"),
    )
    # The rows ever charged a fee: a charity fee is a late fee (``charity_fee <= late_fee``).
    totals.update(
        Installment.objects.filter(plan_id__in=plan_ids, late_fee__gt=0).aggregate(
            late_fees_unpaid=_sum(F("late_fee") - F("late_fee_paid")),
            charity_fees=_sum("charity_fee"),
            charity_fees_paid=_sum("charity_fee_paid"),
        )
    )
    totals["plans"] = len(plan_ids)
    totals_add(
        PlanStatusTotal,
        merchant_id=merchant_id,
        deltas={
            (from_status,): {name: -value for name, value in totals.items()},
            (to_status,): totals,
        },
    )


def _sum(expression: Any) -> Coalesce:
    return Coalesce(Sum(expression), ZERO, output_field=DecimalField(max_digits=20, decimal_places=3))
