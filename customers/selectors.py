"""Reads of customers, always within one merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.lookups import Unaccent
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from customers.models import Customer, PortalLink
from taqsit.models import Merchant


def name_search(queryset: QuerySet, path: str, term: str) -> tuple[QuerySet, Q]:
    """``queryset`` and the condition "``path`` (a name) contains ``term``", ignoring case and accents both ways:
    "jose" finds "José" and "José" finds "Jose" (PostgreSQL's unaccent, created by customers' migration 0003)."""
    return (
        queryset.alias(name_unaccented=Unaccent(path)),
        # Unaccent is bilateral: the term is unaccented too.
        Q(name_unaccented__icontains=term),
    )


def customer_search(
    queryset: QuerySet, term: str, *, path: str = "", national_id: bool = False, also: Q | None = None
) -> QuerySet:
    """``queryset`` narrowed to rows whose customer (the row itself, or the one at ``path``, e.g.
    ``"plan__customer__"``) matches ``term``: the name ignoring case and accents, the phone by the term's digits,
    and with ``national_id`` the national id; or that match ``also`` (the plan list: a sale reference, a serial).
    The one customer search of the customer list, the picker, the plan list and the collections list."""
    term = (term or "").strip()
    if not term:
        return queryset
    digits = "".join(ch for ch in term if ch.isdigit())
    queryset, condition = name_search(queryset, f"{path}name", term)
    if national_id:
        condition |= Q(**{f"{path}national_id__icontains": term})
    if digits:
        condition |= Q(**{f"{path}phone__contains": digits})
    if also is not None:
        condition |= also
    return queryset.filter(condition)


def customer_list(*, merchant: Merchant, search: str = "") -> QuerySet[Customer]:
    """The merchant's customers, optionally matching ``search`` on name (accents ignored), phone or national id."""
    queryset = customer_search(Customer.objects.for_merchant(merchant), search, national_id=True)
    return queryset.order_by("name", "id")


@dataclass(frozen=True)
class PortalLinksLive:
    count: int
    last_used_at: datetime | None


def customer_portal_links_live(*, customer: Customer) -> PortalLinksLive:
    """The customer's portal links still open (not revoked, not expired) and when any of their links was last
    used to enter the portal: one query."""
    now = timezone.now()
    figures = PortalLink.objects.filter(merchant_id=customer.merchant_id, customer_id=customer.pk).aggregate(
        live=Count("pk", filter=Q(revoked_at__isnull=True, expires_at__gt=now)), last_used_at=Max("last_used_at")
    )
    return PortalLinksLive(count=figures["live"], last_used_at=figures["last_used_at"])
