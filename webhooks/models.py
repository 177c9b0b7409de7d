"""Webhooks for integrators: a merchant's endpoints, the events written to the outbox in the transaction that
caused them, one delivery per endpoint wanting the event, and every attempt to deliver it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Func, Q, Value
from django.utils.translation import gettext_lazy as _

from taqsit.events import EVENT_TYPES
from taqsit.tenancy import TenantModel

EVENT_CHOICES = [(name, name) for name in EVENT_TYPES]


class WebhookEndpoint(TenantModel):
    """An address of the merchant's that is sent the events it wants, signed with its secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40, choices=EVENT_CHOICES), verbose_name=_("events"), size=32)
    secret = models.CharField(_("secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    # Failures since the last delivered attempt; the endpoint is disabled past the limits (services.py).
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at"]
        indexes = [
            # The emit's one lookup per transaction: the merchant's active endpoints.
            models.Index(fields=["merchant", "is_active"], name="webhook_endpoint_active"),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(TenantModel):
    """One event, its payload serialized when it happened (the body every endpoint is sent)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EVENT_CHOICES)
    # The plan the event is about (the object itself for a customer): deliveries keep this order per endpoint.
    ordering_key = models.UUIDField(_("ordering key"))
    object_id = models.UUIDField(_("object"))
    payload = models.JSONField(_("payload"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.object_id}"


DELIVERY_SEQUENCE = "webhooks_delivery_sequence"


class WebhookDelivery(TenantModel):
    """An event to send to one endpoint: the outbox row. ``sequence`` is the order of writing (a database
    sequence, taken under the plan's lock): a delivery waits while an earlier one of the same endpoint and
    ordering key is still pending."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Given up")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sequence = models.BigIntegerField(
        _("sequence"),
        db_default=Func(Value(DELIVERY_SEQUENCE), function="nextval", output_field=models.BigIntegerField()),
        editable=False,
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    ordering_key = models.UUIDField(_("ordering key"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer code"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-sequence"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
            models.Index(
                fields=["endpoint", "ordering_key", "sequence"],
                condition=Q(status="pending"),
                name="webhook_delivery_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} -> {self.endpoint.url}"


class WebhookAttempt(TenantModel):
    """One try to deliver: when, the answer's code, how long it took, the error and the answer's first bytes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("answer code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("answer"), max_length=500, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.attempted_at}"
