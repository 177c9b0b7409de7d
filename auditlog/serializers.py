from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from auditlog.models import SOURCE_CHOICES, Entry


def _plain(value: Any) -> Any:
    """Money and other decimals as strings, as everywhere in the API (JSON numbers would be floats)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class EntrySerializer(serializers.ModelSerializer):
    """One write to the merchant's data: what (object, operation, the fields before and after), who (actor,
    role), from where (source, request id, IP address) and why (the business action)."""

    actor_name = serializers.SerializerMethodField()
    actor_customer = serializers.UUIDField(
        source="actor_customer_id",
        read_only=True,
        allow_null=True,
        help_text="The customer who acted, on the portal or the borrower API (source portal); null otherwise.",
    )
    ip = serializers.CharField(allow_null=True, read_only=True)
    source = serializers.ChoiceField(
        choices=SOURCE_CHOICES,
        allow_blank=True,
        read_only=True,
        help_text="Empty when the write came through no entry point (a database console, a data migration).",
    )
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    context = serializers.SerializerMethodField()

    class Meta:
        model = Entry
        fields = [
            "id",
            "created_at",
            "operation",
            "object_type",
            "object_id",
            "merchant",
            "plan_id",
            "customer_id",
            "actor",
            "actor_name",
            "actor_customer",
            "role",
            "source",
            "action",
            "request_id",
            "ip",
            "context_id",
            "context",
            "before",
            "after",
            "changes",
        ]
        read_only_fields = fields

    def get_actor_name(self, entry: Entry) -> str | None:
        return str(entry.actor) if entry.actor_id and entry.actor is not None else None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_before(self, entry: Entry) -> dict | None:
        return _plain(entry.before)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_after(self, entry: Entry) -> dict | None:
        return _plain(entry.after)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_context(self, entry: Entry) -> dict | None:
        return _plain(entry.context)

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, entry: Entry) -> list[dict]:
        """Each field the entry names, before and after (null on the side that has none)."""
        before, after = entry.before or {}, entry.after or {}
        return [
            {"field": column, "before": _plain(before.get(column)), "after": _plain(after.get(column))}
            for column in sorted(set(before) | set(after))
        ]
