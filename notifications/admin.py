"""Notifications in the platform admins' back office: what was sent, skipped or failed (read-only, with a
"send again" action for failed messages) and each merchant's notification policy. The daily runs have theirs
in dailyrun/admin.py.

Beat's schedule (django-celery-beat's periodic tasks) has its own admin pages, registered by that app.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import Notification, NotificationSettings
from notifications.services import notifications_requeue


class SuperuserOnlyMixin:
    """The admin is for platform admins (active superusers) only, as everywhere in Taqsit's admin."""

    def _is_platform_admin(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_authenticated and user.is_active and user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_platform_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_platform_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_platform_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_platform_admin(request)


class ReadOnlyMixin(SuperuserOnlyMixin):
    """History: viewable, never added, changed or deleted by hand."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "day",
        "merchant",
        "recipient",
        "kind",
        "channel",
        "status",
        "delivery_status",
        "fallback_note",
        "attempts",
        "error",
        "sent_at",
    ]
    list_filter = ["status", "channel", "delivery_status", "kind", "merchant"]
    search_fields = ["customer__name", "customer__phone", "customer__email", "user__username", "subject"]
    date_hierarchy = "day"
    list_select_related = ["merchant", "customer", "user", "guarantor", "fallback_for", "fallback"]
    actions = ["send_again"]
    readonly_fields = [
        "id",
        "merchant",
        "customer",
        "user",
        "guarantor",
        "installment",
        "plan",
        "payment",
        "channel",
        "kind",
        "day",
        "status",
        "subject",
        "body",
        "send_after",
        "dispatched_at",
        "attempts",
        "last_error",
        "provider_id",
        "sent_at",
        "read_at",
        "template",
        "template_parameters",
        "delivery_status",
        "delivery_status_at",
        "fallback_for",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    @admin.display(description=_("recipient"))
    def recipient(self, notification: Notification) -> str:
        return str(notification.customer or notification.user or notification.guarantor)

    @admin.display(description=_("fallback"))
    def fallback_note(self, notification: Notification) -> str:
        """An SMS sent instead of a WhatsApp message, or a WhatsApp message an SMS replaced."""
        if notification.fallback_for_id is not None:
            return _("SMS instead of WhatsApp")
        if getattr(notification, "fallback", None) is not None:
            return _("Replaced by SMS")
        return ""

    @admin.display(description=_("last error"))
    def error(self, notification: Notification) -> str:
        return notification.last_error[:80]

    @admin.action(description=_("Send the selected failed messages again"))
    def send_again(self, request: HttpRequest, queryset) -> None:
        count = notifications_requeue(notifications=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d failed message queued again; it goes out within minutes.",
                "%(count)d failed messages queued again; they go out within minutes.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    list_display = [
        "merchant",
        "sms_enabled",
        "whatsapp_enabled",
        "phone_channel",
        "email_enabled",
        "staff_digest_enabled",
        "receipts_enabled",
        "quiet_hours_start",
        "quiet_hours_end",
        "overdue_alert_days",
    ]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name"]
    raw_id_fields = ["merchant"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
