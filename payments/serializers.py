from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payments.models import CharityDisbursement, Payment, PaymentAllocation
from taqsit.serializers import (
    DeclaredFieldsOnceMixin,
    ModelFieldsOnceMixin,
    MoneyField,
    StrictIntegerField,
    StrictSerializer,
)


class AllocationSerializer(ModelFieldsOnceMixin, serializers.ModelSerializer):
    installment_number = serializers.IntegerField(source="installment.number", read_only=True, allow_null=True)
    amount = MoneyField()
    is_reversal = serializers.SerializerMethodField()

    class Meta:
        model = PaymentAllocation
        fields = ["installment_number", "kind", "amount", "is_reversal"]
        read_only_fields = fields

    def get_is_reversal(self, line: PaymentAllocation) -> bool:
        return line.reversal_of_id is not None


class PaymentSerializer(ModelFieldsOnceMixin, serializers.ModelSerializer):
    plan_reference = serializers.CharField(source="plan.reference", read_only=True)
    amount = MoneyField()
    allocations = AllocationSerializer(many=True, read_only=True)
    received_by = serializers.CharField(source="received_by.username", read_only=True, allow_null=True)
    settled_by = serializers.CharField(
        source="settled_by.username",
        read_only=True,
        allow_null=True,
        help_text="Who completed or failed the payment when it was pending.",
    )

    proof = serializers.SerializerMethodField(
        help_text="The URL of the proof the customer sent with a transfer report (GET it with your token), or null."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "plan",
            "plan_reference",
            "payment_number",
            "amount",
            "payment_date",
            "payment_method",
            "reference",
            "notes",
            "status",
            "is_down_payment",
            "origin",
            "proof",
            "received_by",
            "reversed_at",
            "reversal_reason",
            "settled_by",
            "settled_at",
            "created_at",
            "allocations",
            "settlement",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_proof(self, payment: Payment) -> str | None:
        # Only a customer's report has a proof: a payment staff recorded is not looked up (no query after a POST).
        if payment.origin != Payment.Origin.PORTAL or payment.proof_or_none is None:
            return None
        url = reverse("api:payment-proof", kwargs={"pk": payment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class PaymentCreateSerializer(DeclaredFieldsOnceMixin, StrictSerializer):
    plan = serializers.UUIDField()
    amount = MoneyField()
    payment_date = serializers.DateField(required=False)
    payment_method = serializers.ChoiceField(choices=Payment.Method.choices, default=Payment.Method.CASH)
    payment_number = StrictIntegerField(required=False, allow_null=True, min_value=1)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[Payment.Status.COMPLETED, Payment.Status.PENDING], default=Payment.Status.COMPLETED
    )


class PaymentUpdateSerializer(StrictSerializer):
    """A payment's notes and reference; its amount and date are history."""

    read_only_names = tuple(name for name in PaymentSerializer.Meta.fields if name not in ("notes", "reference"))
    notes = serializers.CharField(required=False, allow_blank=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


# Statistics (GET /api/stats/): read-only views of payments.stats.MerchantStats -----------------------------


class StatsFigureSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Installments.")
    amount = MoneyField(help_text="What is left to pay on them.")


class StatsOverdueSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="overdue.count", help_text="Overdue installments.")
    amount = MoneyField(source="overdue.amount", help_text="What is left to pay on them.")
    plans = serializers.IntegerField(source="overdue_plans", help_text="Plans with an overdue installment.")


class StatsPlansSerializer(serializers.Serializer):
    active = serializers.IntegerField(source="plans_active")
    defaulted = serializers.IntegerField(source="plans_defaulted")
    completed = serializers.IntegerField(source="plans_completed")
    pending = serializers.IntegerField(source="pending_applications", help_text="Applications waiting for approval.")


class StatsAgingSerializer(serializers.Serializer):
    days = serializers.CharField(source="key", help_text="Days past the due date: 1-30, 31-60, 61-90 or 90+.")
    count = serializers.IntegerField()
    amount = MoneyField()


class StatsWeekExpectedSerializer(serializers.Serializer):
    week_start = serializers.DateField(source="start", help_text="The Monday of the week.")
    count = serializers.IntegerField()
    amount = MoneyField()


class StatsMonthExpectedSerializer(serializers.Serializer):
    month = serializers.DateField(source="start", help_text="The first day of the month.")
    count = serializers.IntegerField()
    amount = MoneyField()


class StatsWeekCollectedSerializer(serializers.Serializer):
    week_start = serializers.DateField(help_text="The Monday of the week.")
    amount = MoneyField()


class StatsCustomerSerializer(serializers.Serializer):
    customer = serializers.UUIDField(source="customer_id")
    name = serializers.CharField()
    phone = serializers.CharField()
    plans = serializers.IntegerField(help_text="Plans with an overdue installment.")
    installments = serializers.IntegerField(help_text="Overdue installments.")
    amount = MoneyField(help_text="What is left to pay on them.")
    oldest_due_date = serializers.DateField()
    days_overdue = serializers.IntegerField(help_text="Days past the oldest due date.")


class StatsCharityFeesSerializer(serializers.Serializer):
    collected = MoneyField(help_text="Charity fees received, net of refunds and voids: never income.")
    given = MoneyField(help_text="Charity fees recorded as given to charity.")
    to_give = MoneyField(help_text="collected - given.")


class StatsSerializer(serializers.Serializer):
    """Where the merchant's money stands; the definitions are in payments/stats.py and docs/api.md."""

    today = serializers.DateField(help_text="The merchant's today, in its time zone.")
    currency = serializers.CharField(help_text="ISO 4217; every amount is a decimal string in its minor unit.")
    computed_at = serializers.DateTimeField(
        help_text="When these figures were computed; nothing that changes them has been committed since."
    )
    total_payable = MoneyField(help_text="Active, defaulted and completed plans: cash price + finance charge.")
    late_fees_charged = MoneyField(help_text="Late fees charged on those plans (charity fees apart).")
    collected = MoneyField(
        help_text="Received on those plans, net of refunds and voids (down payments included, charity fees apart)."
    )
    outstanding = MoneyField(help_text="Still owed on active and defaulted plans, late fees included.")
    plans = StatsPlansSerializer(source="*")
    overdue = StatsOverdueSerializer(source="*")
    late_fees_due = MoneyField(help_text="Late fees charged on open plans and not yet paid (charity fees apart).")
    aging = StatsAgingSerializer(many=True)
    collection_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text="fallen_due_paid ÷ fallen_due in percent, rounded half-up; null when nothing has fallen due.",
    )
    fallen_due = MoneyField(help_text="Installments in force due on or before today.")
    fallen_due_paid = MoneyField(help_text="What is paid on them.")
    due_today = StatsFigureSerializer()
    due_next_7_days = StatsFigureSerializer(source="due_this_week")
    expected_by_week = StatsWeekExpectedSerializer(many=True, help_text="This week and the 7 after.")
    expected_by_month = StatsMonthExpectedSerializer(many=True, help_text="This month and the 5 after.")
    top_overdue_customers = StatsCustomerSerializer(many=True, help_text="Up to 10, most overdue first.")
    collected_this_month = MoneyField(help_text="Completed payments dated this month.")
    collections_by_week = StatsWeekCollectedSerializer(many=True, help_text="Completed payments, last 12 weeks.")
    charity_fees = StatsCharityFeesSerializer(
        help_text="Late fees collected for charity (murabaha terms): left out of late_fees_* and collected."
    )


class PlanSettleSerializer(StrictSerializer):
    """``POST /api/installments/plans/{id}/settle/``: pay the plan off at its payoff quote."""

    date = serializers.DateField(required=False, help_text="The day paid, YYYY-MM-DD; default the merchant's today.")
    payment_method = serializers.ChoiceField(choices=Payment.Method.choices, default=Payment.Method.CASH)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    rebate = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Discretionary rule (murabaha) only, managers only: the rebate granted, at most the markup unpaid.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Why the rebate is granted.")


class CharityDisbursementSerializer(serializers.ModelSerializer):
    """Charity fees given to a charity; ``amount`` at most what is still to give (``/api/stats/`` charity_fees)."""

    amount = MoneyField()
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True, allow_null=True)

    class Meta:
        model = CharityDisbursement
        fields = ["id", "amount", "given_on", "recipient", "note", "recorded_by", "created_at"]
        read_only_fields = ["id", "recorded_by", "created_at"]
        extra_kwargs = {"given_on": {"required": False}}


class CharityDisbursementCreateSerializer(StrictSerializer):
    amount = serializers.CharField()
    given_on = serializers.DateField(required=False)
    recipient = serializers.CharField(max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="")
