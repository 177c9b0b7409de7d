from rest_framework import serializers

from payments.models import Payment, PaymentAllocation
from taqsit.serializers import MoneyField


class AllocationSerializer(serializers.ModelSerializer):
    installment_number = serializers.IntegerField(source="installment.number", read_only=True, allow_null=True)
    amount = MoneyField()
    is_reversal = serializers.SerializerMethodField()

    class Meta:
        model = PaymentAllocation
        fields = ["installment_number", "kind", "amount", "is_reversal"]
        read_only_fields = fields

    def get_is_reversal(self, line: PaymentAllocation) -> bool:
        return line.reversal_of_id is not None


class PaymentSerializer(serializers.ModelSerializer):
    plan_reference = serializers.CharField(source="plan.reference", read_only=True)
    amount = MoneyField()
    allocations = AllocationSerializer(many=True, read_only=True)
    received_by = serializers.CharField(source="received_by.username", read_only=True, allow_null=True)

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
            "received_by",
            "reversed_at",
            "reversal_reason",
            "created_at",
            "allocations",
        ]
        read_only_fields = fields


class PaymentCreateSerializer(serializers.Serializer):
    plan = serializers.UUIDField()
    amount = MoneyField()
    payment_date = serializers.DateField(required=False)
    payment_method = serializers.ChoiceField(choices=Payment.Method.choices, default=Payment.Method.CASH)
    payment_number = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[Payment.Status.COMPLETED, Payment.Status.PENDING], default=Payment.Status.COMPLETED
    )


class PaymentUpdateSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
