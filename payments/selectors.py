"""Reads of the ledger, always within one merchant."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Max, Prefetch, QuerySet, prefetch_related_objects

from installments.models import LateFee
from payments.models import Payment, PaymentAllocation
from taqsit.models import Merchant
from taqsit.money import sum_of, to_money


def _allocations() -> Prefetch:
    return Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("installment").order_by("id"))


def payment_with_allocations(payment: Payment) -> Payment:
    """``payment`` as the services return it (its plan and receiver already loaded), its allocations fetched in
    one query: what the API answers after recording it, without reading the payment again."""
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
    """The merchant's payments, newest first, with their allocations prefetched."""
    queryset = (
        Payment.objects.for_merchant(merchant)
        .select_related("plan", "plan__customer", "received_by")
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


def payment_get(*, merchant: Merchant, pk) -> Payment:
    """One payment of the merchant; another merchant's is ``Payment.DoesNotExist``."""
    return payment_list(merchant=merchant).get(pk=pk)


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
