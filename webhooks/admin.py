"""Webhooks in the platform admins' back office, read-only: endpoints (never their secret), deliveries and their
attempts. Owners manage their endpoints on the settings pages and the API."""

from __future__ import annotations

from django.contrib import admin

from taqsit.admin import LedgerModelAdmin, ReadOnlyTabularInline
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(LedgerModelAdmin):
    list_display = ["url", "merchant", "is_active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["is_active", "merchant"]
    list_select_related = ["merchant"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "merchant",
        "url",
        "description",
        "events",
        "is_active",
        "consecutive_failures",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
    ]
    fields = readonly_fields


class WebhookAttemptInline(ReadOnlyTabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "succeeded", "error", "response_excerpt"]
    readonly_fields = fields
    show_change_link = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LedgerModelAdmin):
    list_display = ["sequence", "event_type", "endpoint", "merchant", "status", "attempts", "last_status_code"]
    list_filter = ["status", "merchant"]
    list_select_related = ["merchant", "endpoint", "event"]
    readonly_fields = [
        "merchant",
        "endpoint",
        "event",
        "sequence",
        "status",
        "attempts",
        "next_attempt_at",
        "first_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "delivered_at",
        "payload",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]

    @admin.display(description="event")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="payload")
    def payload(self, delivery: WebhookDelivery) -> dict:
        return delivery.event.payload
