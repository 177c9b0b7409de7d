"""The collector's worklist over the API: assignments, contacts, promises to pay and the figures."""

from __future__ import annotations

from rest_framework import serializers

from collectors.models import Assignment, Contact, Promise
from taqsit.serializers import ModelFieldsOnceMixin, MoneyField, StrictIntegerField, StrictSerializer


class AssignmentSerializer(ModelFieldsOnceMixin, serializers.ModelSerializer):
    collector_name = serializers.CharField(source="collector.__str__", read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "plan", "collector", "collector_name", "assigned_by", "created_at", "updated_at"]
        read_only_fields = fields


class AssignSerializer(StrictSerializer):
    plans = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=500, help_text="Ids of open plans (1 to 500)."
    )
    collector = serializers.UUIDField(
        allow_null=True, help_text="A member of staff (owner, manager or clerk); null takes the plans from anyone."
    )


class ContactSerializer(ModelFieldsOnceMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "plan", "kind", "outcome", "note", "contacted_at", "made_by", "created_at"]
        read_only_fields = fields


class ContactCreateSerializer(StrictSerializer):
    plan = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Contact.Kind.choices)
    outcome = serializers.ChoiceField(choices=Contact.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    contacted_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Default: now. Up to 30 days back."
    )


class PromiseSerializer(ModelFieldsOnceMixin, serializers.ModelSerializer):
    amount = MoneyField(read_only=True)
    amount_counted = MoneyField(read_only=True, help_text="The plan's payments counted toward the promise.")
    status = serializers.ChoiceField(
        source="shown",
        choices=Promise.Status.choices,
        read_only=True,
        help_text="An open promise whose date has passed is broken.",
    )

    class Meta:
        model = Promise
        fields = [
            "id",
            "plan",
            "contact",
            "amount",
            "promised_on",
            "status",
            "amount_counted",
            "made_at",
            "made_on",
            "made_by",
            "collector",
            "closed_at",
            "resolved_at",
        ]
        read_only_fields = fields


class PromiseCreateSerializer(StrictSerializer):
    plan = serializers.UUIDField()
    amount = MoneyField(help_text="In the merchant's currency, at most the plan's remaining balance.")
    promised_on = serializers.DateField(help_text="Today up to 60 days on.")
    kind = serializers.ChoiceField(
        choices=Contact.Kind.choices, default=Contact.Kind.CALL, help_text="How the customer was reached."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FiguresQuerySerializer(StrictSerializer):
    week = serializers.RegexField(
        r"^\d{4}-W\d{2}$", required=False, help_text="The last ISO week shown, as 2026-W10 (default: this week)."
    )
    weeks = StrictIntegerField(min_value=1, max_value=52, default=8, help_text="How many weeks, up to 52.")
    collector = serializers.UUIDField(required=False, help_text="One collector's figures.")


class FigureRowSerializer(serializers.Serializer):
    collector = serializers.UUIDField(source="collector_id", allow_null=True)
    collector_name = serializers.CharField()
    week = serializers.CharField(help_text="The ISO week, as 2026-W10.")
    week_start = serializers.DateField(help_text="Its Monday.")
    promises_made = serializers.IntegerField(help_text="Promises made that week.")
    promises_kept = serializers.IntegerField(help_text="Promises due that week, kept.")
    promises_broken = serializers.IntegerField(help_text="Promises due that week, broken.")
    amount_promised = MoneyField(help_text="What the promises made that week came to.")
    amount_recovered = MoneyField(help_text="The payments counted toward the promises kept.")
    contacts_made = serializers.IntegerField()


class FiguresSerializer(serializers.Serializer):
    first_week = serializers.DateField(help_text="The Monday of the first week.")
    last_week = serializers.DateField(help_text="The Monday of the last week.")
    results = FigureRowSerializer(many=True, source="rows")
    totals = FigureRowSerializer()
