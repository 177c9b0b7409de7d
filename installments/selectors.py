"""Reads of plans and installments, always within one merchant.

"Overdue" is computed here from dates (due date plus the merchant's grace days before the merchant's today),
so lists are right even before the daily job has marked the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from installments.invariants import SCHEDULE_GAPS_SQL
from installments.models import Installment, InstallmentPlan
from taqsit.dates import merchant_today
from taqsit.models import Merchant
from taqsit.money import to_money

# Days overdue: (label, first day, last day or None for open-ended), for the dashboard and the collections list.
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


def overdue_cutoff(merchant: Merchant, *, today: date | None = None) -> date:
    """Installments due before this date are overdue (due date + grace days < today)."""
    today = today or merchant_today(merchant)
    return today - timedelta(days=merchant.grace_days)


def unpaid_only(
    queryset: QuerySet[Installment], *, merchant: Merchant, plan_status=InstallmentPlan.OPEN_STATUSES
) -> QuerySet[Installment]:
    """Narrow ``queryset`` (rows of ``merchant``) to rows not fully paid on plans in ``plan_status`` (by default
    those still being collected).

    ``status <> 'paid'`` follows from ``amount_paid < amount_due`` (a CHECK constraint) and the plan's merchant is
    the row's, but both are stated: the first is the predicate of the unpaid-by-due-date partial index, which
    PostgreSQL uses only when the query says it (instead of reading every row the merchant ever had); the second
    lets it find the open plans by the merchant-and-status index instead of reading every merchant's plans."""
    return (
        queryset.filter(amount_paid__lt=F("amount_due"), plan__status__in=plan_status)
        .filter(plan__merchant=merchant)
        .exclude(status=Installment.Status.PAID)
    )


def installments_with_display_status(
    queryset: QuerySet[Installment], *, merchant: Merchant, today: date | None = None
) -> QuerySet[Installment]:
    """``queryset`` (rows of ``merchant``) with ``display_status``, the status every list, export, filter and page
    shows (``Installment.display_status_expression``; a row in hand uses ``display_status_for``)."""
    if "display_status" in queryset.query.annotations:  # already there (a filter on it, then the export)
        return queryset
    cutoff = overdue_cutoff(merchant, today=today)
    return queryset.annotate(display_status=Installment.display_status_expression(cutoff=cutoff))


def installments_unpaid(*, merchant: Merchant) -> QuerySet[Installment]:
    """Current schedule rows not fully paid, on plans still being collected."""
    return unpaid_only(Installment.objects.for_merchant(merchant).current(), merchant=merchant)


def installments_overdue(*, merchant: Merchant, today: date | None = None) -> QuerySet[Installment]:
    """The collections list: unpaid rows past due date plus grace, oldest first, largest first."""
    cutoff = overdue_cutoff(merchant, today=today)
    return (
        installments_unpaid(merchant=merchant)
        .filter(due_date__lt=cutoff)
        .select_related("plan", "plan__customer")
        .annotate(remaining=F("amount_due") - F("amount_paid"))
        .order_by("due_date", "-remaining", "plan__number", "number")
    )


def plan_list(*, merchant: Merchant, status: str | None = None, customer=None) -> QuerySet[InstallmentPlan]:
    """The merchant's plans, newest first, with their customer."""
    queryset = InstallmentPlan.objects.for_merchant(merchant).select_related("customer")
    if status:
        queryset = queryset.filter(status=status)
    if customer is not None:
        queryset = queryset.filter(customer=customer)
    return queryset.order_by("-created_at", "-number")


def plan_is_overdue(*, merchant: Merchant, today: date | None = None) -> Q:
    """A plan being collected with at least one unpaid row of its schedule past due date plus grace.

    An EXISTS on the merchant's rows in the unpaid-by-due-date index, not a join back to the plans (``pk IN``
    plans that EXISTS rows of plans...): PostgreSQL then plans it the same way whether or not the tables' statistics
    are fresh (a plan list over tables never analyzed took 30 s as nested semi joins; docs/performance.md)."""
    rows = Installment.objects.filter(
        merchant=merchant,
        plan=OuterRef("pk"),
        superseded_at__isnull=True,
        amount_paid__lt=F("amount_due"),
        due_date__lt=overdue_cutoff(merchant, today=today),
    ).exclude(status=Installment.Status.PAID)
    return Q(status__in=InstallmentPlan.OPEN_STATUSES) & Q(Exists(rows))


@dataclass(frozen=True)
class PlanSummary:
    plan_id: object
    reference: str
    currency: str
    total_amount: Decimal
    down_payment: Decimal
    finance_charge: Decimal
    total_payable: Decimal
    amount_paid: Decimal
    late_fees: Decimal
    remaining_balance: Decimal
    installments_paid: int
    total_installments: int
    next_payment_due: date | None
    next_amount_due: Decimal
    overdue_amount: Decimal
    status: str


def plan_summary(*, plan: InstallmentPlan, today: date | None = None) -> PlanSummary:
    """Where a plan stands: what was owed, paid and is left, and what falls due next.

    ``remaining_balance`` = total payable + late fees charged - amount paid (the down payment included).
    """
    currency = plan.merchant.currency
    rows = list(Installment.objects.current().filter(plan=plan).order_by("number"))
    cutoff = overdue_cutoff(plan.merchant, today=today)
    unpaid = [row for row in rows if row.amount_paid < row.amount_due]
    next_row = unpaid[0] if unpaid and plan.is_open else None
    # Only a plan being collected has anything overdue (as in ``installments_overdue``).
    overdue = sum(
        (row.amount_due - row.amount_paid for row in unpaid if row.due_date < cutoff and plan.is_open), Decimal("0")
    )
    fees_open = sum(
        (
            row.late_fee - row.late_fee_paid
            for row in Installment.objects.filter(plan=plan, late_fee__gt=F("late_fee_paid"))
        ),
        Decimal("0"),
    )

    def money(value: Decimal) -> Decimal:
        return to_money(value, currency)

    return PlanSummary(
        plan_id=plan.pk,
        reference=plan.reference,
        currency=currency,
        total_amount=money(plan.total_amount),
        down_payment=money(plan.down_payment),
        finance_charge=money(plan.finance_charge),
        total_payable=money(plan.total_payable),
        amount_paid=money(plan.amount_paid),
        late_fees=money(plan.late_fees),
        remaining_balance=money(plan.remaining_balance),
        installments_paid=sum(1 for row in rows if row.amount_paid >= row.amount_due),
        total_installments=len(rows),
        next_payment_due=next_row.due_date if next_row else None,
        next_amount_due=money(next_row.amount_due - next_row.amount_paid + fees_open) if next_row else money(fees_open),
        overdue_amount=money(overdue + fees_open),
        status=plan.status,
    )


@dataclass(frozen=True)
class ScheduleTotals:
    down_payment: Decimal  # the down payment held (a refunded one is owed again on the rows)
    rows: Decimal  # the rows in force, plus what was paid on rows a reschedule superseded
    total: Decimal  # down payment + rows = the total payable
    late_fees: Decimal  # charged on the rows, on top of the total payable


def plan_schedule_totals(
    *, plan: InstallmentPlan, rows: list[Installment] | None = None, payments: list | None = None
) -> ScheduleTotals:
    """The schedule's foot, which accounts for every unit as ``plans_schedule_gaps`` checks it; ``rows`` (all the
    plan's installments) and ``payments`` (all its payments) when the caller has them already."""
    if rows is None:
        rows = list(Installment.objects.filter(plan=plan))
    in_force = sum((row.amount_due if row.superseded_at is None else row.amount_paid for row in rows), Decimal("0"))
    fees = sum((row.late_fee for row in rows), Decimal("0"))
    reversed_ = ("refunded", "voided")
    if payments is not None:
        carried = sum((pay.amount for pay in payments if pay.is_down_payment and pay.status in reversed_), Decimal("0"))
    else:
        # Reverse relation, so installments need not import payments.
        carried = plan.payments.filter(is_down_payment=True, status__in=reversed_).aggregate(
            total=Coalesce(Sum("amount"), Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=3))
        )["total"]
    down = plan.down_payment - carried
    return ScheduleTotals(down_payment=down, rows=in_force, total=down + in_force, late_fees=fees)


def plans_schedule_gaps(*, plan_ids: list | None = None) -> dict:
    """Plans whose schedule does not account for every unit, as ``{plan id: (owed, shown)}`` (empty when sound):
    rows in force plus what was paid on superseded rows plus the down payment held = total payable + late fees."""
    query = f"SELECT * FROM ({SCHEDULE_GAPS_SQL}) gaps"  # noqa: S608 - a constant; the ids are parameters
    params: list = []
    if plan_ids is not None:
        query += " WHERE gaps.id = ANY(%s)"
        params.append([str(pk) for pk in plan_ids])
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return {pk: (owed, shown) for pk, owed, shown in cursor.fetchall()}
