"""Reads of the ledger, always within one merchant."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch, QuerySet

from payments.models import Payment, PaymentAllocation
from taqsit.models import Merchant


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
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("installment").order_by("id"))
        )
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
    return queryset.order_by("-payment_date", "-created_at")


def payment_get(*, merchant: Merchant, pk) -> Payment:
    """One payment of the merchant; another merchant's is ``Payment.DoesNotExist``."""
    return payment_list(merchant=merchant).get(pk=pk)
