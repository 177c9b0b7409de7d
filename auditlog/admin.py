"""The audit trail in the platform admin: read only, filterable by merchant, actor, object, action and date."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from auditlog.models import Entry
from auditlog.selectors import entry_changes, object_label, object_type_choices
from taqsit import audit
from taqsit.admin import MerchantFilter, PlatformModelAdmin, is_platform_admin
from taqsit.models import User


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return object_type_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


class ActionFilter(admin.SimpleListFilter):
    """The business actions the services name (no scan of the table for its distinct values)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(name, name) for name in sorted(audit.ACTIONS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


class ActorFilter(admin.SimpleListFilter):
    """The platform admins, and the staff of the merchant chosen in the merchant filter (search finds the rest
    by username)."""

    title = _("actor")
    parameter_name = "actor"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        if not is_platform_admin(request.user):
            return []
        merchant_id = _uuid(request.GET.get(MerchantFilter.parameter_name))
        users = User.objects.filter(Q(is_superuser=True) | Q(merchant_id=merchant_id, merchant_id__isnull=False))
        return [(str(user.pk), str(user)) for user in users.order_by("username")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        actor_id = _uuid(self.value())
        return queryset.filter(actor_id=actor_id) if actor_id else queryset.none()


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@admin.register(Entry)
class EntryAdmin(PlatformModelAdmin):
    list_display = (
        "created_at",
        "merchant",
        "object_display",
        "object_id",
        "operation",
        "action",
        "actor",
        "actor_customer_id",
        "role",
        "source",
    )
    list_filter = (
        MerchantFilter,
        ActorFilter,
        ObjectTypeFilter,
        ActionFilter,
        "operation",
        "source",
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("merchant", "actor")
    search_fields = ("=object_id", "=request_id", "actor__username")
    # The table only grows: no second count of every row under each filtered page.
    show_full_result_count = False
    actions = None
    fields = (
        "created_at",
        "merchant",
        "object_display",
        "object_type",
        "object_id",
        "operation",
        "changes",
        "actor",
        "actor_customer_id",
        "role",
        "source",
        "action",
        "request_id",
        "ip",
        "context_id",
        "context_display",
        "restored_at",
    )
    readonly_fields = fields

    @admin.display(description=_("object"), ordering="object_type")
    def object_display(self, entry: Entry) -> str:
        return object_label(entry)

    @admin.display(description=_("changes"))
    def changes(self, entry: Entry) -> str:
        currency = entry.merchant.currency if entry.merchant_id and entry.merchant else None
        changes = entry_changes(entry, currency=currency)
        rows = [(change.label, _shown(change.before), _shown(change.after)) for change in changes]
        return format_html(
            '<table class="audit-changes"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("Field"),
            _("Before"),
            _("After"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("context"))
    def context_display(self, entry: Entry) -> str:
        return format_html("<pre>{}</pre>", json.dumps(entry.context, indent=2, sort_keys=True, default=str))

    # Written by the database only, and never changed or deleted.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _shown(value: Any) -> str:
    return "—" if value is None else str(value)
