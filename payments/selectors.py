"""Reads of the ledger, always within one merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, OuterRef, Prefetch, QuerySet, Subquery, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone

from installments.models import Installment, InstallmentPlan, LateFee, PlanStatusTotal
from payments.models import CharityDisbursement, Payment, PaymentAllocation
from taqsit.models import Merchant
from taqsit.money import MoneyField, as_decimal, sum_of, to_money


def _allocations() -> Prefetch:
    return Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("installment").order_by("id"))


def allocations_known(payment: Payment, lines: list[PaymentAllocation]) -> None:
    """Keep ``lines`` (all the allocations ``payment`` has, just written, in the order of their ids) as its
    prefetched allocations, as ``_allocations()`` would read them: answering with them reads nothing."""
    queryset = payment.allocations.all()
    queryset._result_cache = sorted(lines, key=lambda line: line.pk)
    queryset._prefetch_done = True
    payment._prefetched_objects_cache = {**getattr(payment, "_prefetched_objects_cache", {}), "allocations": queryset}


def payment_with_allocations(payment: Payment) -> Payment:
    """``payment`` as the services return it (its plan and receiver already loaded), its allocations fetched in
    one query unless the service kept them (``allocations_known``): what the API answers after recording it,
    without reading the payment again."""
    prefetch_related_objects([payment], _allocations())
    return payment


def payment_list(
    *,
    merchant: Merchant,
    plan=None,
    customer=None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Payment]:
    """The merchant's payments, newest first, with their allocations prefetched and their proof (a customer's
    transfer report) joined."""
    queryset = (
        Payment.objects.for_merchant(merchant)
        .select_related("plan", "plan__customer", "received_by", "settled_by", "proof")
        .prefetch_related(_allocations())
    )
    if plan is not None:
        queryset = queryset.filter(plan=plan)
    if customer is not None:
        queryset = queryset.filter(plan__customer=customer)
    if status:
        queryset = queryset.filter(status=status)
    if date_from:
        queryset = queryset.filter(payment_date__gte=date_from)
    if date_to:
        queryset = queryset.filter(payment_date__lte=date_to)
    return queryset.order_by("-payment_date", "-created_at", "-id")


def payment_standing_after(*, payment: Payment) -> tuple[Decimal, Decimal]:
    """What the plan had received and still owed right after ``payment`` (for its receipt, whenever printed).

    Ledger lines are numbered in the order they were written, one plan at a time under its lock, so "after" is
    every line up to this payment's last one; late fees count when charged before the payment was recorded.
    """
    plan = payment.plan
    own = payment.allocations.filter(reversal_of__isnull=True).aggregate(last=Max("pk"))["last"]
    lines = PaymentAllocation.objects.filter(payment__plan_id=plan.pk)
    lines = lines.filter(pk__lte=own) if own is not None else lines.filter(created_at__lte=payment.created_at)
    paid = lines.aggregate(total=sum_of("amount"))["total"]
    fees = LateFee.objects.filter(plan_id=plan.pk, created_at__lte=payment.created_at).aggregate(
        total=sum_of("amount")
    )["total"]
    currency = plan.merchant.currency
    return to_money(paid, currency), to_money(plan.total_payable + fees - paid, currency)


@dataclass(frozen=True)
class PaymentsToConfirm:
    count: int
    amount: Decimal
    payments: list[Payment]


def payments_to_confirm(*, merchant: Merchant, limit: int = 20) -> PaymentsToConfirm:
    """The merchant's pending payments (cheques, transfers not yet cleared, transfers customers reported), oldest
    first: how many, their total, and the first ``limit`` with their plan, customer and proof, for the dashboard's
    "to confirm" list."""
    pending = Payment.objects.for_merchant(merchant).filter(status=Payment.Status.PENDING)
    totals = pending.aggregate(count=Count("pk"), amount=sum_of("amount"))
    rows = list(
        pending.select_related("plan", "plan__customer", "proof").order_by("payment_date", "created_at", "id")[:limit]
    )
    return PaymentsToConfirm(count=totals["count"], amount=to_money(totals["amount"], merchant.currency), payments=rows)


# How long after a payment the same amount on the same plan looks like the counter's form sent twice.
REPEAT_WINDOW = timedelta(minutes=10)


def payment_for_key(*, merchant_id, key: str) -> Payment | None:
    """The payment an idempotency key (a counter form's token) already recorded, if any."""
    return Payment.objects.filter(merchant_id=merchant_id, idempotency_key=key).first()


def payment_repeat_get(*, plan: InstallmentPlan, amount: Any, seen_number: int | None) -> Payment | None:
    """The payment that makes a counter form with a fresh token look sent twice (Back, then submit again): one of
    the same amount on the plan within ``REPEAT_WINDOW``, else any recorded since the form was shown
    (``seen_number``, the plan's last payment number then)."""
    # The down payment is recorded with the plan, not at the counter: a first installment of the same amount is no
    # repeat of it.
    live = Payment.objects.filter(
        plan=plan, status__in=[Payment.Status.COMPLETED, Payment.Status.PENDING], is_down_payment=False
    )
    try:
        value = as_decimal(amount)
    except (ValidationError, TypeError, ArithmeticError):
        value = None  # not an amount: payment_post names the problem
    if value is not None:
        twin = live.filter(amount=value, created_at__gte=timezone.now() - REPEAT_WINDOW).order_by("-created_at")
        if (found := twin.select_related("received_by").first()) is not None:
            return found
    if seen_number is not None and plan.last_payment_number > seen_number:
        return (
            Payment.objects.filter(plan=plan, payment_number__gt=seen_number)
            .select_related("received_by")
            .order_by("-payment_number")
            .first()
        )
    return None


@dataclass(frozen=True)
class CharityFeesTotals:
    collected: Decimal
    given: Decimal
    to_give: Decimal


def _charity_fees_totals(merchant: Merchant, collected: QuerySet, field: str) -> CharityFeesTotals:
    """Charity fees collected (``field`` summed over ``collected``), given and to give, in one query: both sums
    as subqueries of the merchant's row."""

    def total(queryset: QuerySet, name: str) -> Coalesce:
        sums = queryset.filter(merchant=OuterRef("pk")).order_by().values("merchant").annotate(total=Sum(name))
        return Coalesce(Subquery(sums.values("total")), Decimal("0"), output_field=MoneyField())

    collected, given = (
        Merchant.objects.filter(pk=merchant.pk)
        .annotate(collected=total(collected, field), given=total(CharityDisbursement.objects.all(), "amount"))
        .values_list("collected", "given")
        .get()
    )
    currency = merchant.currency
    return CharityFeesTotals(
        collected=to_money(collected, currency),
        given=to_money(given, currency),
        to_give=to_money(collected - given, currency),
    )


def charity_fees_totals(*, merchant: Merchant) -> CharityFeesTotals:
    """Charity fees (late fees charged under a charity booking) collected, net of refunds and voids, on any plan,
    what was given to charity (``CharityDisbursement``) and what is still to give = collected - given. Never
    income. Collected is read from the statistics' status rows, kept with every movement (a few rows, whatever
    the size of the book); ``charity_fees_totals_from_ledger`` sums the installments, and equals it."""
    return _charity_fees_totals(merchant, PlanStatusTotal.objects.all(), "charity_fees_paid")


def charity_fees_totals_from_ledger(*, merchant: Merchant) -> CharityFeesTotals:
    """``charity_fees_totals`` from the installments themselves (what each says it received as charity fees):
    the reference the summary rows are held to, at a cost that grows with the book."""
    return _charity_fees_totals(merchant, Installment.objects.filter(charity_fee_paid__gt=0), "charity_fee_paid")


def charity_disbursement_list(*, merchant: Merchant) -> QuerySet[CharityDisbursement]:
    """The merchant's charity disbursements, newest first, with who recorded them."""
    return CharityDisbursement.objects.for_merchant(merchant).select_related("recorded_by")
