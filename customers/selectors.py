"""Reads of customers, always within one merchant."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from customers.models import Customer
from taqsit.models import Merchant


def customer_list(*, merchant: Merchant, search: str = "") -> QuerySet[Customer]:
    """The merchant's customers, optionally matching ``search`` on name, phone or national id."""
    queryset = Customer.objects.for_merchant(merchant)
    term = (search or "").strip()
    if term:
        digits = "".join(ch for ch in term if ch.isdigit())
        condition = Q(name__icontains=term) | Q(national_id__icontains=term)
        if digits:
            condition |= Q(phone__contains=digits)
        queryset = queryset.filter(condition)
    return queryset.order_by("name", "id")


def customer_get(*, merchant: Merchant, pk) -> Customer:
    """One customer of the merchant; another merchant's is ``Customer.DoesNotExist``."""
    return Customer.objects.for_merchant(merchant).get(pk=pk)
