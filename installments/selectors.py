"""Reads of plans and installments, always within one merchant.

"Overdue" is computed here from dates (due date plus the merchant's grace days before the merchant's today),
so lists are right even before the daily job has marked the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.postgres.aggregates import StringAgg
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.selectors import customer_search
from installments.disclosure import plan_disclosure
from installments.invariants import SCHEDULE_GAPS_SQL
from installments.models import Guarantor, Installment, InstallmentPlan, PlanItem, serial_normalize
from installments.settlement import RebateRule, SettlementRow, period_starts, rebate_compute
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.filters import MAX_NUMBER, REFERENCE_PATTERN
from taqsit.models import Merchant
from taqsit.money import ZERO, as_decimal, decimal_places_message, is_exact, minor_unit, to_money
from taqsit.permissions import Action, user_can

# Days overdue: (label, first day, last day or None for open-ended), for the dashboard and the collections list.
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


def aging_bounds(key: str, *, today: date) -> tuple[date | None, date]:
    """The due dates of the aging bucket ``key`` of ``AGING_BUCKETS`` on ``today``, counted in days past the due
    date: from (inclusive; None for the last bucket) and before (exclusive)."""
    for bucket, first, last in AGING_BUCKETS:
        if bucket == key:
            return (today - timedelta(days=last) if last is not None else None, today - timedelta(days=first - 1))
    raise ValueError(f"No aging bucket {key!r}.")


def aging_condition(key: str, *, today: date) -> Q:
    """Rows in the aging bucket ``key`` on ``today`` (``aging_bounds``): the collections list's filter."""
    start, before = aging_bounds(key, today=today)
    condition = Q(due_date__lt=before)
    if start is not None:
        condition &= Q(due_date__gte=start)
    return condition


def overdue_cutoff(merchant: Merchant, *, today: date | None = None) -> date:
    """Installments due before this date are overdue (due date + grace days < today)."""
    today = today or merchant_today(merchant)
    return today - timedelta(days=merchant.grace_days)


# The unpaid predicate: a row of the schedule in force with something left to pay (``installment_is_unpaid`` is
# its twin for a row in hand), shared by the daily jobs and the per-row services.
UNPAID = Q(superseded_at__isnull=True, amount_paid__lt=F("amount_due"))


def installment_is_unpaid(installment: Installment) -> bool:
    """``UNPAID`` for a row in hand."""
    return installment.superseded_at is None and installment.amount_paid < installment.amount_due


def installments_overdue_of(*, plan, cutoff: date) -> QuerySet[Installment]:
    """The unpaid rows of ``plan`` (a plan, its id or an ``OuterRef``) due before ``cutoff``: "has overdue" is
    its ``exists()`` (a payment restoring a defaulted plan) or ``Exists()`` (the daily jobs, the overdue list)."""
    # ``status <> 'paid'`` follows from UNPAID; stated for the unpaid-by-due-date partial index (see unpaid_only).
    return Installment.objects.filter(UNPAID, plan=plan, due_date__lt=cutoff).exclude(status=Installment.Status.PAID)


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
    queryset: QuerySet[Installment], *, merchant: Merchant | None, today: date | None = None
) -> QuerySet[Installment]:
    """``queryset`` (rows of ``merchant``) with ``display_status``, the status every list, export, filter and page
    shows (``Installment.display_status_expression``; a row in hand uses ``display_status_for``). With ``merchant``
    None (the platform admin's lists, across merchants) each row is judged by its own merchant's today and grace."""
    if "display_status" in queryset.query.annotations:  # already there (a filter on it, then the export)
        return queryset
    cutoff = overdue_cutoff(merchant, today=today) if merchant is not None else _overdue_cutoff_per_row()
    return queryset.annotate(display_status=Installment.display_status_expression(cutoff=cutoff))


def _overdue_cutoff_per_row() -> Func:
    """``overdue_cutoff`` in SQL, for each row's merchant: the date now in its time zone, less its grace days."""
    local_now = Func(
        Value(timezone.now()), F("merchant__timezone"), arg_joiner=" AT TIME ZONE ", template="(%(expressions)s)"
    )
    return Func(
        Cast(local_now, DateField()),
        F("merchant__grace_days"),
        arg_joiner=" - ",
        template="(%(expressions)s)",
        output_field=DateField(),
    )


def customer_balance(*, plans: Iterable[InstallmentPlan]) -> Decimal:
    """What a customer still owes, from their ``plans``: the open plans' remaining balances, late fees included."""
    return sum((plan.remaining_balance for plan in plans if plan.is_open), ZERO)


def plan_actions_allowed(*, plan: InstallmentPlan, user) -> dict[str, bool]:
    """The buttons a plan's page shows ``user``: the plan's status allows the action (the constants the lifecycle
    services check, ``InstallmentPlan.ACTION_STATUSES``) and the user's role may take it."""
    allowed = plan.status_actions
    decide = user_can(user, Action.PLAN_DECIDE)
    return {
        "approve": decide and "approve" in allowed,
        "reject": decide and "reject" in allowed,
        "cancel": decide and "cancel" in allowed,
        "reschedule": decide and "reschedule" in allowed,
        "pay": user_can(user, Action.PAYMENT_RECORD) and "pay" in allowed,
        "reverse": user_can(user, Action.PAYMENT_REVERSE),
    }


def installments_unpaid(*, merchant: Merchant) -> QuerySet[Installment]:
    """Current schedule rows not fully paid, on plans still being collected."""
    return unpaid_only(Installment.objects.for_merchant(merchant).current(), merchant=merchant)


def installments_overdue(*, merchant: Merchant, today: date | None = None) -> QuerySet[Installment]:
    """The collections list: unpaid rows past due date plus grace, oldest first, largest first.

    The customers are read after the page (one query by id), not joined into it: under row-level security the
    planner takes the customers' policy for one more filter on the merchant (it cannot know a plan's customer is
    the plan's merchant's), under-estimates the merchant's overdue rows by that share, and would then sort all of
    them rather than walk the unpaid-by-due-date index in due-date order and stop after the page. Without the
    join the estimate is the same with and without the policy (taqsit/tests/test_rls.py holds the plan)."""
    today = today or merchant_today(merchant)
    cutoff = overdue_cutoff(merchant, today=today)
    return (
        installments_unpaid(merchant=merchant)
        .filter(due_date__lt=cutoff)
        .select_related("plan")
        .prefetch_related("plan__customer")
        .annotate(
            remaining=F("amount_due") - F("amount_paid"),
            # date - date is a whole number of days in PostgreSQL (Django's subtraction would make an interval).
            days_overdue=Func(
                Value(today), F("due_date"), arg_joiner=" - ", template="(%(expressions)s)", output_field=IntegerField()
            ),
        )
        .order_by("due_date", "-remaining", "plan__number", "number")
    )


def installments_overdue_filter(
    queryset: QuerySet[Installment],
    *,
    today: date,
    search: str = "",
    aging: str = "",
    min_amount: Decimal | None = None,
) -> QuerySet[Installment]:
    """The collections list's filters on ``installments_overdue``: the customer (name or phone digits), the aging
    bucket, and at least ``min_amount`` left to pay on the row."""
    queryset = customer_search(queryset, search, path="plan__customer__")
    if aging:
        queryset = queryset.filter(aging_condition(aging, today=today))
    if min_amount is not None:
        queryset = queryset.filter(remaining__gte=min_amount)
    return queryset


def days_overdue(*, due_date: date, today: date) -> int:
    """Days past the due date on ``today`` (the collections list, its export and the statistics count so)."""
    return (today - due_date).days


def plan_sale_condition(term: str) -> Q:
    """A plan whose sale reference contains ``term``, or with an item whose serial number contains it (spaces and
    case ignored, as serials are kept): an EXISTS, so a plan of two matching items is found once."""
    term = (term or "").strip()
    if not term:
        return Q(pk__in=[])
    condition = Q(sale_reference__icontains=term)
    serial = serial_normalize(term)
    if serial:
        condition |= Q(Exists(PlanItem.objects.filter(plan=OuterRef("pk"), serial_number__contains=serial)))
    return condition


def plan_serials() -> Subquery:
    """The plan's items' serial numbers, space-separated in item order (an annotation for lists and exports)."""
    serials = (
        PlanItem.objects.filter(plan=OuterRef("pk"))
        .exclude(serial_number="")
        .values("plan")
        .annotate(serials=StringAgg("serial_number", delimiter=" ", order_by="id"))
        .values("serials")
    )
    return Subquery(serials, output_field=CharField())


def plan_list(
    *,
    merchant: Merchant,
    status: str | None = None,
    customer=None,
    origin: str | None = None,
    search: str = "",
) -> QuerySet[InstallmentPlan]:
    """The merchant's plans, newest first, with their customer; ``origin`` "portal" keeps customers' applications;
    ``search`` finds the customer (name, phone, national id), the plan's number, sale reference or an item's
    serial number."""
    queryset = InstallmentPlan.objects.for_merchant(merchant).select_related("customer")
    if search.strip():
        also = plan_sale_condition(search)
        match = REFERENCE_PATTERN.match(search.strip())
        if match and int(match[1]) <= MAX_NUMBER:
            also |= Q(number=int(match[1]))
        queryset = customer_search(queryset, search, path="customer__", national_id=True, also=also)
    if status:
        queryset = queryset.filter(status=status)
    if origin:
        queryset = queryset.filter(origin=origin)
    if customer is not None:
        queryset = queryset.filter(customer=customer)
    return queryset.order_by("-created_at", "-number")


@dataclass(frozen=True)
class CustomerPlans:
    plans: list[InstallmentPlan]
    balance: Decimal


def customer_plans_owed(*, merchant: Merchant, customer) -> CustomerPlans:
    """The customer's plans, newest first, and what the customer still owes: the open plans' remaining balances
    (late fees included)."""
    plans = list(plan_list(merchant=merchant, customer=customer))
    return CustomerPlans(plans=plans, balance=customer_balance(plans=plans))


def plan_is_overdue(*, merchant: Merchant, today: date | None = None) -> Q:
    """A plan being collected with at least one unpaid row of its schedule past due date plus grace.

    An EXISTS on the merchant's rows in the unpaid-by-due-date index, not a join back to the plans (``pk IN``
    plans that EXISTS rows of plans...): PostgreSQL then plans it the same way whether or not the tables' statistics
    are fresh (a plan list over tables never analyzed took 30 s as nested semi joins; docs/performance.md)."""
    rows = installments_overdue_of(plan=OuterRef("pk"), cutoff=overdue_cutoff(merchant, today=today)).filter(
        merchant=merchant
    )
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
    # The cost of credit (``plan_disclosure``).
    cash_price: Decimal
    amount_financed: Decimal
    total_of_payments: Decimal
    credit_price: Decimal
    apr: Decimal
    apr_label: str

    @property
    def due_now(self) -> Decimal:
        """What is due now (the amount the payment page offers): everything overdue, fees included, else the next
        installment; never more than is owed."""
        return min(self.overdue_amount or self.next_amount_due, self.remaining_balance)


def plan_summary(
    *, plan: InstallmentPlan, today: date | None = None, rows: list[Installment] | None = None
) -> PlanSummary:
    """Where a plan stands: what was owed, paid and is left, and what falls due next.

    ``remaining_balance`` = total payable + late fees charged - amount paid (the down payment included).
    ``rows``: all the plan's installments, superseded ones included, when the caller has them already (a list of
    plans reads every plan's rows in one query).
    """
    currency = plan.merchant.currency
    if rows is None:
        all_rows = None
        rows = list(Installment.objects.current().filter(plan=plan).order_by("number"))
    else:
        all_rows = rows
        rows = sorted((row for row in rows if row.superseded_at is None), key=lambda row: row.number)
    cutoff = overdue_cutoff(plan.merchant, today=today)
    unpaid = [row for row in rows if row.amount_paid < row.amount_due]
    next_row = unpaid[0] if unpaid and plan.is_open else None
    # Only a plan being collected has anything overdue (as in ``installments_overdue``).
    overdue = sum(
        (row.amount_due - row.amount_paid for row in unpaid if row.due_date < cutoff and plan.is_open), Decimal("0")
    )
    if all_rows is None:
        all_rows = Installment.objects.filter(plan=plan, late_fee__gt=F("late_fee_paid"))
    fees_open = sum((row.late_fee - row.late_fee_paid for row in all_rows), Decimal("0"))
    cost = plan_disclosure(plan)

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
        cash_price=money(cost.cash_price),
        amount_financed=money(cost.amount_financed),
        total_of_payments=money(cost.total_of_payments),
        credit_price=money(cost.credit_price),
        apr=cost.apr,
        apr_label=cost.apr_label,
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
    reversed_ = ("refunded", "voided", "failed")  # a failed down payment was an expected one, owed again
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


def late_fee_amount_sql(merchant: Merchant) -> tuple[str, dict]:
    """The fee of one row ``i``, in SQL: the fixed amount, or the percent of what is left unpaid on the row,
    rounded half-up to the currency's unit (PostgreSQL's ROUND on numeric) and capped; zero when none is charged.
    The daily job charges it set-based, ``late_fee_amount`` for one row."""
    if merchant.late_fee_method == Merchant.LateFeeMethod.NONE:
        return "0::numeric", {}
    if merchant.late_fee_method == Merchant.LateFeeMethod.FIXED:
        return "%(fixed)s::numeric", {"fixed": merchant.late_fee_amount}
    return (
        "LEAST(ROUND((i.amount_due - i.amount_paid) * %(percent)s::numeric / 100, %(places)s::integer),"
        " %(cap)s::numeric)",
        {
            "percent": merchant.late_fee_percent,
            "places": minor_unit(merchant.currency),
            "cap": merchant.late_fee_cap,  # NULL: no cap (LEAST ignores NULLs)
        },
    )


def late_fee_amount(*, installment: Installment, merchant: Merchant) -> Decimal:
    """The fee the merchant's rule charges on ``installment`` as the database has it now, by the daily job's
    own expression (``late_fee_amount_sql``)."""
    amount_sql, params = late_fee_amount_sql(merchant)
    table = connection.ops.quote_name(Installment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {amount_sql} FROM {table} i WHERE i.id = %(installment)s",  # noqa: S608 - the rule's SQL; values are parameters
            {**params, "installment": installment.pk},
        )
        return to_money(cursor.fetchone()[0], merchant.currency)


@dataclass(frozen=True)
class PayoffQuote:
    """What closes a plan when paid on ``date``, in the merchant's currency, each figure in its minor unit."""

    date: date
    principal: Decimal
    interest: Decimal
    fees: Decimal
    rebate: Decimal
    amount: Decimal
    currency: str
    # The part of ``interest`` on rows falling due after ``date``: shown apart so a clerk can say what closing
    # early costs in interest.
    interest_not_yet_due: Decimal
    # The merchant's rebate rule (``Merchant.SettlementRebate``) the rebate was figured by.
    rule: str = "none"
    # Under a discretionary rule: the most a manager may grant (the markup still unpaid); zero otherwise.
    rebate_max: Decimal = ZERO
    reason: str = ""

    @property
    def rule_label(self) -> str:
        """The rebate rule as a person reads it, in the active language."""
        if self.rule in Merchant.SettlementRebate.values:
            return str(Merchant.SettlementRebate(self.rule).label)
        return self.rule

    def as_record(self) -> dict[str, str]:
        """The quote as kept on the settlement payment (``Payment.settlement``) for its receipt."""
        return {
            "date": self.date.isoformat(),
            "rule": self.rule,
            "principal": str(self.principal),
            "interest": str(self.interest),
            "interest_not_yet_due": str(self.interest_not_yet_due),
            "fees": str(self.fees),
            "rebate": str(self.rebate),
            "amount": str(self.amount),
            "reason": self.reason,
        }


def settlement_rows(*, plan: InstallmentPlan, rows: list[Installment]) -> tuple[list[SettlementRow], list[date]]:
    """The schedule in force as ``installments.settlement`` reads it, oldest first, and each row's period start."""
    in_force = sorted((row for row in rows if row.superseded_at is None), key=lambda row: (row.due_date, row.number))
    settlement = [
        SettlementRow(
            key=row.pk,
            due_date=row.due_date,
            amount_due=row.amount_due,
            principal=row.principal,
            interest=row.interest,
            interest_paid=row.interest_paid,
        )
        for row in in_force
    ]
    first_is_start = bool(in_force) and in_force[0].number == 1
    starts = period_starts(
        settlement, start_date=plan.start_date, frequency=plan.installment_frequency, first_is_start=first_is_start
    )
    return settlement, starts


def plan_payoff_quote(
    *,
    plan: InstallmentPlan,
    on: date,
    rows: list[Installment] | None = None,
    rebate: Any = None,
    reason: str | None = "",
) -> PayoffQuote:
    """What closes ``plan`` if paid on ``on``: unpaid principal and interest of the rows in force plus the late fees
    charged and unpaid, less the rebate of the merchant's rule (``Merchant.early_settlement_rebate``; the rules,
    exactly, in ``installments.settlement``). Posted on ``on`` by ``plan_settle`` (and nothing else paid or charged
    meanwhile), ``amount`` plus ``rebate`` is the remaining balance, to the unit, and completes the plan.

    ``rebate``: under the discretionary rule (murabaha), the amount a manager grants, at most ``rebate_max`` (the
    markup still unpaid), with a ``reason`` (None: a preview, no reason asked); ignored under the other rules,
    whose rebate is computed. Open plans only (a 409 otherwise); ``on`` within the date bounds and not before a
    payment could be dated (the plan's start, or the day it was agreed if it starts later). Raises ValidationError
    naming ``status``, ``date``, ``rebate`` or ``reason``. ``rows``: all the plan's installments, superseded ones
    included, when the caller has them already (the plan page)."""
    if not plan.is_open:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Plan %(plan)s is %(status)s: it has no payoff quote.")
                    % {"plan": plan.reference, "status": plan.get_status_display().lower()},
                    code=ErrorCode.INVALID_STATUS,
                )
            }
        )
    merchant = plan.merchant
    errors: dict[str, list[str]] = {}
    dates_bound_check(errors, merchant_today(merchant), date=on)
    earliest = min(plan.start_date, timezone.localtime(plan.created_at, merchant.tzinfo).date())
    if not errors and on < earliest:
        errors["date"] = [
            _("The date %(date)s is before plan %(plan)s started (%(start)s).")
            % {"date": on, "plan": plan.reference, "start": earliest}
        ]
    if errors:
        raise ValidationError(errors)
    if rows is None:
        rows = list(Installment.objects.filter(plan=plan))
    in_force = [row for row in rows if row.superseded_at is None]
    currency = merchant.currency
    principal = to_money(sum((row.principal - row.principal_paid for row in in_force), ZERO), currency)
    interest_due = sum((row.interest - row.interest_paid for row in in_force if row.due_date <= on), ZERO)
    interest_later = to_money(
        sum((row.interest - row.interest_paid for row in in_force if row.due_date > on), ZERO), currency
    )
    interest = to_money(interest_due, currency) + interest_later
    # A superseded row keeps its open late fee: the allocation takes it first, like any other.
    fees = to_money(sum((row.late_fee - row.late_fee_paid for row in rows), ZERO), currency)
    rule = merchant.early_settlement_rebate
    rebate_max = ZERO
    if rule == RebateRule.DISCRETIONARY:
        rebate_max = interest
        rebate = rebate_check(rebate, reason=reason, most=interest, currency=currency)
    else:
        schedule, starts = settlement_rows(plan=plan, rows=rows)
        rebate = rebate_compute(
            rule=rule, rows=schedule, starts=starts, on=on, method=plan.finance_charge_method, currency=currency
        )
        reason = ""
    return PayoffQuote(
        date=on,
        principal=principal,
        interest=interest,
        fees=fees,
        rebate=to_money(rebate, currency),
        amount=to_money(principal + interest + fees - rebate, currency),
        currency=currency,
        interest_not_yet_due=interest_later,
        rule=rule,
        rebate_max=to_money(rebate_max, currency),
        reason=(reason or "").strip(),
    )


def rebate_check(rebate: Any, *, reason: str | None, most: Decimal, currency: str) -> Decimal:
    """A discretionary rebate as a manager gives it: an amount in the currency's unit, from zero to ``most`` (the
    markup still unpaid), with a reason when it is not zero (``reason`` None: a preview, not asked)."""
    if rebate in (None, ""):
        return ZERO
    try:
        value = as_decimal(rebate)
    except (ValidationError, TypeError) as exc:
        raise ValidationError({"rebate": _("%(value)s is not an amount.") % {"value": repr(rebate)}}) from exc
    if value < 0:
        raise ValidationError({"rebate": _("The rebate cannot be negative.")})
    if not is_exact(value, currency):
        raise ValidationError({"rebate": decimal_places_message(value, currency)})
    if value > most:
        raise ValidationError(
            {
                "rebate": _("The rebate %(rebate)s exceeds the markup still unpaid, %(most)s.")
                % {"rebate": to_money(value, currency), "most": to_money(most, currency)}
            }
        )
    if value > 0 and reason is not None and not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the rebate.")})
    return to_money(value, currency)


# Exposure: what a customer, or a would-be guarantor, already owes or answers for at this merchant ----------------


@dataclass(frozen=True)
class Party:
    """A person to weigh before a plan: the customer (``customer``) or a guarantor as typed (``national_id``,
    ``phone``). Other plans find them by national id when there is one, else by phone."""

    name: str = ""
    customer: object | None = None
    national_id: str = ""
    phone: str = ""


@dataclass(frozen=True)
class RoleExposure:
    """Open plans (active or defaulted) in one role, what is left to pay on them, and how many are late."""

    open_plans: int
    balance: Decimal
    overdue_plans: int
    defaulted_plans: int

    @property
    def is_overdue(self) -> bool:
        return self.overdue_plans > 0

    @property
    def is_defaulted(self) -> bool:
        return self.defaulted_plans > 0


@dataclass(frozen=True)
class PartyExposure:
    party: Party
    as_customer: RoleExposure
    as_guarantor: RoleExposure

    @property
    def roles(self) -> list[tuple[str, RoleExposure]]:
        """Both roles with their names, for a table."""
        return [(_("customer"), self.as_customer), (_("guarantor"), self.as_guarantor)]

    @property
    def is_late(self) -> bool:
        """Anything overdue or defaulted, as customer or as guarantor: what the clerk must not miss."""
        return any(role.is_overdue or role.is_defaulted for role in (self.as_customer, self.as_guarantor))


NO_EXPOSURE = RoleExposure(open_plans=0, balance=ZERO, overdue_plans=0, defaulted_plans=0)


def _party_matches(party: Party) -> tuple[Q | None, Q | None]:
    """The conditions on a plan for ``party`` as its customer and as one of its guarantors (None: no way to tell)."""
    national_id = (party.national_id or "").strip()
    phone = (party.phone or "").strip()
    if party.customer is not None:
        national_id, phone = party.customer.national_id.strip(), party.customer.phone
        as_customer = Q(customer_id=party.customer.pk)
    elif national_id:
        as_customer = Q(customer__national_id__iexact=national_id)
    elif phone:
        as_customer = Q(customer__phone=phone)
    else:
        return None, None
    if national_id:
        guarantors = Guarantor.objects.filter(plan=OuterRef("pk"), national_id__iexact=national_id)
    else:
        guarantors = Guarantor.objects.filter(plan=OuterRef("pk"), phone=phone)
    return as_customer, Q(Exists(guarantors))


def exposure_list(*, merchant: Merchant, parties: list[Party], today: date | None = None) -> list[PartyExposure]:
    """For each party, their open plans at ``merchant`` as customer and as guarantor: how many, the balance left
    (late fees included), how many are overdue and how many defaulted. One query for every party and role."""
    overdue = plan_is_overdue(merchant=merchant, today=today)
    defaulted = Q(status=InstallmentPlan.Status.DEFAULTED)
    owed = F("total_payable") + F("late_fees") - F("amount_paid")
    aggregates: dict = {}
    any_match = Q(pk__in=[])
    matches = [_party_matches(party) for party in parties]
    for index, roles in enumerate(matches):
        for role, condition in zip(("customer", "guarantor"), roles, strict=True):
            if condition is None:
                continue
            any_match |= condition
            key = f"p{index}_{role}"
            aggregates[f"{key}_plans"] = Count("pk", filter=condition)
            aggregates[f"{key}_balance"] = Coalesce(
                Sum(owed, filter=condition), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=3)
            )
            aggregates[f"{key}_overdue"] = Count("pk", filter=condition & overdue)
            aggregates[f"{key}_defaulted"] = Count("pk", filter=condition & defaulted)
    figures = {}
    if aggregates:
        plans = InstallmentPlan.objects.for_merchant(merchant).filter(status__in=InstallmentPlan.OPEN_STATUSES)
        figures = plans.filter(any_match).aggregate(**aggregates)

    def role(index: int, name: str) -> RoleExposure:
        key = f"p{index}_{name}"
        if f"{key}_plans" not in figures:
            return NO_EXPOSURE
        return RoleExposure(
            open_plans=figures[f"{key}_plans"],
            balance=to_money(figures[f"{key}_balance"], merchant.currency),
            overdue_plans=figures[f"{key}_overdue"],
            defaulted_plans=figures[f"{key}_defaulted"],
        )

    return [
        PartyExposure(party=party, as_customer=role(index, "customer"), as_guarantor=role(index, "guarantor"))
        for index, party in enumerate(parties)
    ]
