"""The filters of the deliveries' list."""

from __future__ import annotations

from taqsit.filters import FilterSet
from webhooks.models import WebhookDelivery


class DeliveryFilter(FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status"]
