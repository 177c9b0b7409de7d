"""Reads of the webhooks pages and API."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from taqsit.models import Merchant
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list(*, merchant: Merchant | None) -> QuerySet[WebhookEndpoint]:
    """The merchant's endpoints, oldest first."""
    return WebhookEndpoint.objects.for_merchant(merchant).order_by("created_at", "pk")


def delivery_list(*, merchant: Merchant | None, endpoint=None, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """The merchant's deliveries, newest first, with their event and their attempts (newest first) read at once."""
    queryset = (
        WebhookDelivery.objects.for_merchant(merchant)
        .select_related("event", "endpoint")
        .prefetch_related(Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-attempted_at")))
        .order_by("-sequence")
    )
    if endpoint is not None:
        queryset = queryset.filter(endpoint=endpoint)
    if status:
        queryset = queryset.filter(status=status)
    return queryset
