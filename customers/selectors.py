"""Reads of customers, always within one merchant."""

from __future__ import annotations

from django.contrib.postgres.lookups import Unaccent
from django.db.models import Q, QuerySet

from customers.models import Customer
from taqsit.models import Merchant


def name_search(queryset: QuerySet, path: str, term: str) -> tuple[QuerySet, Q]:
    """``queryset`` and the condition "``path`` (a name) contains ``term``", ignoring case and accents both ways:
    "jose" finds "José" and "José" finds "Jose" (PostgreSQL's unaccent, created by customers' migration 0003)."""
    return (
        queryset.alias(name_unaccented=Unaccent(path)),
        # Unaccent is bilateral: the term is unaccented too.
        Q(name_unaccented__icontains=term),
    )


def customer_list(*, merchant: Merchant, search: str = "") -> QuerySet[Customer]:
    """The merchant's customers, optionally matching ``search`` on name (accents ignored), phone or national id."""
    queryset = Customer.objects.for_merchant(merchant)
    term = (search or "").strip()
    if term:
        digits = "".join(ch for ch in term if ch.isdigit())
        queryset, by_name = name_search(queryset, "name", term)
        condition = by_name | Q(national_id__icontains=term)
        if digits:
            condition |= Q(phone__contains=digits)
        queryset = queryset.filter(condition)
    return queryset.order_by("name", "id")
