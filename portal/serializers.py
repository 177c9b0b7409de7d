"""The borrower API's bodies."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import Customer
from installments.disclosure import plan_apr
from installments.models import Installment, InstallmentPlan, PlanItem, Product
from installments.schedule import Frequency
from installments.serializers import APR_HELP, apr_field
from notifications.models import Notification
from payments.models import Payment, PaymentAllocation
from payments.services.report import REPORTABLE_METHODS
from taqsit.models import Language
from taqsit.money import to_money
from taqsit.serializers import MoneyField, StrictIntegerField, StrictModelSerializer, StrictSerializer


class PortalTokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="A portal_access JWT: send it as Authorization: Bearer <access>.")
    refresh = serializers.CharField(help_text="A portal_refresh JWT, for /api/portal/auth/token/refresh/.")


class PortalLinkLoginSerializer(StrictSerializer):
    token = serializers.CharField(max_length=300, help_text="The token of a portal link (after /portal/l/).")


class PortalRefreshSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=1000)


class PortalMeSerializer(StrictModelSerializer):
    merchant_name = serializers.CharField(source="merchant.name", read_only=True)
    currency = serializers.CharField(source="merchant.currency", read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "phone", "email", "language", "merchant", "merchant_name", "currency"]
        read_only_fields = ["id", "name", "phone", "email", "merchant"]


def _money(value: Decimal, context: dict) -> str:
    """A computed amount as MoneyField writes one: a decimal string in the currency's minor unit."""
    currency = context.get("currency")
    return str(to_money(value, currency)) if currency else str(value)


# What a customer reads: their plans, schedules, payments and messages. Staff-only fields (notes, who received
# or settled a payment, idempotency keys, the proof's URL) are never shown; money is in the merchant's currency.


class PortalPlanItemSerializer(serializers.ModelSerializer):
    product = serializers.UUIDField(source="product_id", allow_null=True, read_only=True)
    unit_price = MoneyField(read_only=True)
    line_total = MoneyField(read_only=True)

    class Meta:
        model = PlanItem
        fields = ["product", "description", "quantity", "unit_price", "line_total"]
        read_only_fields = fields


class PortalInstallmentSerializer(serializers.ModelSerializer):
    """One row of the schedule in force, with what was paid on it (principal, interest and late fees)."""

    amount_due = MoneyField(read_only=True)
    principal = MoneyField(read_only=True)
    interest = MoneyField(read_only=True)
    late_fee = MoneyField(read_only=True, help_text="Late fees charged on this installment.")
    amount_paid = MoneyField(read_only=True, help_text="Paid on principal and interest.")
    principal_paid = MoneyField(read_only=True)
    interest_paid = MoneyField(read_only=True)
    late_fee_paid = MoneyField(read_only=True)
    amount_remaining = serializers.SerializerMethodField(
        help_text="Still to pay on it: amount due + late fees - what was paid on both."
    )
    status = serializers.SerializerMethodField()

    class Meta:
        model = Installment
        fields = [
            "number",
            "due_date",
            "amount_due",
            "principal",
            "interest",
            "late_fee",
            "amount_paid",
            "principal_paid",
            "interest_paid",
            "late_fee_paid",
            "amount_remaining",
            "status",
            "paid_on",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneyField())
    def get_amount_remaining(self, row: Installment) -> str:
        remaining = row.amount_due - row.amount_paid + row.late_fee - row.late_fee_paid
        return _money(remaining, self.context)

    @extend_schema_field(serializers.ChoiceField(choices=Installment.Status.choices))
    def get_status(self, row: Installment) -> str:
        """The status the row shows: paid, overdue (past its due date and the merchant's grace days on a plan
        being collected), partially paid or pending."""
        cutoff = self.context.get("overdue_cutoff")
        if cutoff is None:
            return row.status
        return row.display_status_for(cutoff=cutoff, plan_status=self.context.get("plan_status"))


class PortalAllocationSerializer(serializers.ModelSerializer):
    installment_number = serializers.IntegerField(source="installment.number", read_only=True, allow_null=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = PaymentAllocation
        fields = ["installment_number", "kind", "amount"]
        read_only_fields = fields


class PortalPaymentSerializer(serializers.ModelSerializer):
    """A payment of the customer's: counted at the shop, or a transfer they reported (``origin`` portal), pending
    until the shop confirms it; ``failure_reason`` is the shop's reason when it could not confirm it."""

    plan_reference = serializers.CharField(source="plan.reference", read_only=True)
    amount = MoneyField(read_only=True)
    has_proof = serializers.SerializerMethodField(help_text="Whether the customer sent a proof with the report.")
    failure_reason = serializers.SerializerMethodField(
        help_text="Why the shop could not confirm a reported payment (status failed); empty otherwise."
    )
    balance_after = MoneyField(
        read_only=True, allow_null=True, help_text="What the plan still owed after it; null unless completed."
    )
    next_due_date_after = serializers.DateField(read_only=True, allow_null=True)
    next_amount_due_after = MoneyField(read_only=True, allow_null=True)
    allocations = serializers.SerializerMethodField(
        help_text="What the payment paid: late fees, interest and principal, per installment."
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
            "status",
            "is_down_payment",
            "origin",
            "has_proof",
            "failure_reason",
            "balance_after",
            "next_due_date_after",
            "next_amount_due_after",
            "created_at",
            "allocations",
        ]
        read_only_fields = fields

    def to_representation(self, payment: Payment) -> dict:
        data = super().to_representation(payment)
        if payment.status != Payment.Status.COMPLETED:
            # Where the plan stood after it: true of a payment received, not of one waiting, failed or reversed.
            data.update(balance_after=None, next_due_date_after=None, next_amount_due_after=None)
        return data

    def get_has_proof(self, payment: Payment) -> bool:
        return payment.origin == Payment.Origin.PORTAL and payment.proof_or_none is not None

    def get_failure_reason(self, payment: Payment) -> str:
        return payment.reversal_reason if payment.status == Payment.Status.FAILED else ""

    @extend_schema_field(PortalAllocationSerializer(many=True))
    def get_allocations(self, payment: Payment) -> list[dict]:
        # Reversed lines cancel out their originals: a customer sees what the payment still pays.
        lines = [line for line in payment.allocations.all() if line.reversal_of_id is None]
        if payment.status != Payment.Status.COMPLETED:
            lines = []
        return PortalAllocationSerializer(lines, many=True, context=self.context).data


class PortalPlanSerializer(serializers.ModelSerializer):
    """A plan of the customer's at this shop, with where it stands and what falls due next."""

    reference = serializers.CharField(read_only=True)
    items = PortalPlanItemSerializer(many=True, read_only=True)
    total_amount = MoneyField(read_only=True, help_text="The cash price.")
    down_payment = MoneyField(read_only=True)
    finance_charge = MoneyField(read_only=True)
    total_payable = MoneyField(read_only=True)
    installment_amount = MoneyField(read_only=True)
    amount_paid = MoneyField(read_only=True, help_text="Paid so far, the down payment included.")
    late_fees = MoneyField(read_only=True, help_text="Late fees charged.")
    remaining_balance = MoneyField(read_only=True, help_text="total_payable + late_fees - amount_paid.")
    installments_paid = serializers.SerializerMethodField()
    next_due_date = serializers.SerializerMethodField(help_text="The first installment not fully paid, if any.")
    next_amount_due = serializers.SerializerMethodField(help_text="What is left to pay on that installment.")
    status_reason = serializers.CharField(read_only=True, help_text="The shop's reason when it rejected the plan.")
    cash_price = MoneyField(read_only=True, help_text="The price paid in cash: the total amount.")
    amount_financed = MoneyField(read_only=True, help_text="The cash price less the down payment.")
    total_of_payments = MoneyField(read_only=True, help_text="The amount financed plus the finance charge.")
    credit_price = MoneyField(read_only=True, help_text="The cash price plus the finance charge.")
    apr = serializers.SerializerMethodField(help_text=APR_HELP)

    class Meta:
        model = InstallmentPlan
        fields = [
            "id",
            "reference",
            "status",
            "origin",
            "items",
            "total_amount",
            "down_payment",
            "finance_charge_method",
            "interest_rate",
            "finance_charge",
            "total_payable",
            "cash_price",
            "amount_financed",
            "total_of_payments",
            "credit_price",
            "apr",
            "installment_amount",
            "number_of_installments",
            "installment_frequency",
            "start_date",
            "due_date",
            "amount_paid",
            "late_fees",
            "remaining_balance",
            "installments_paid",
            "next_due_date",
            "next_amount_due",
            "status_reason",
            "created_at",
        ]
        read_only_fields = fields

    def _rows(self, plan: InstallmentPlan) -> list[Installment]:
        """The schedule in force, from the prefetched rows (ordered by number)."""
        return [row for row in plan.installments.all() if row.superseded_at is None]

    def _next_row(self, plan: InstallmentPlan) -> Installment | None:
        if not plan.is_open:
            return None
        return next((row for row in self._rows(plan) if row.amount_paid < row.amount_due), None)

    @extend_schema_field(apr_field())
    def get_apr(self, plan: InstallmentPlan) -> str:
        return f"{plan_apr(plan):.2f}"

    def get_installments_paid(self, plan: InstallmentPlan) -> int:
        return sum(1 for row in self._rows(plan) if row.amount_paid >= row.amount_due)

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_next_due_date(self, plan: InstallmentPlan):
        row = self._next_row(plan)
        return row.due_date if row is not None else None

    @extend_schema_field(MoneyField(allow_null=True))
    def get_next_amount_due(self, plan: InstallmentPlan) -> str | None:
        row = self._next_row(plan)
        if row is None:
            return None
        return _money(row.amount_due - row.amount_paid, self.context)


class PortalPlanDetailSerializer(PortalPlanSerializer):
    """A plan with its whole schedule (what was paid on each row) and its payments."""

    installments = serializers.SerializerMethodField()
    payments = serializers.SerializerMethodField()

    class Meta(PortalPlanSerializer.Meta):
        fields = [*PortalPlanSerializer.Meta.fields, "installments", "payments"]
        read_only_fields = fields

    @extend_schema_field(PortalInstallmentSerializer(many=True))
    def get_installments(self, plan: InstallmentPlan) -> list[dict]:
        context = {**self.context, "plan_status": plan.status}
        return PortalInstallmentSerializer(self._rows(plan), many=True, context=context).data

    @extend_schema_field(PortalPaymentSerializer(many=True))
    def get_payments(self, plan: InstallmentPlan) -> list[dict]:
        # Prefetched by the view, newest first, with their allocations and proofs.
        return PortalPaymentSerializer(plan.payments.all(), many=True, context=self.context).data


class PortalNotificationSerializer(serializers.ModelSerializer):
    """A message the shop sent the customer (a reminder, an overdue alert, a decision, a receipt), by SMS or
    e-mail, with its read state on the portal."""

    is_read = serializers.SerializerMethodField()
    plan = serializers.SerializerMethodField(help_text="The plan it is about (a reminder's, a decision's).")
    payment = serializers.UUIDField(
        source="payment_id", read_only=True, allow_null=True, help_text="The payment it is about (a receipt)."
    )

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "channel",
            "subject",
            "body",
            "plan",
            "payment",
            "sent_at",
            "is_read",
            "read_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_plan(self, notification: Notification):
        if notification.plan_id is not None:
            return str(notification.plan_id)
        if notification.installment_id is not None:
            return str(notification.installment.plan_id)
        if notification.payment_id is not None:
            return str(notification.payment.plan_id)
        return None


class PortalProductSerializer(serializers.ModelSerializer):
    price = MoneyField(read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "sku", "price"]
        read_only_fields = fields


class PortalApplyItemSerializer(StrictSerializer):
    """A product of the shop's and how many: its price is the shop's."""

    product = serializers.UUIDField()
    quantity = StrictIntegerField(min_value=1, max_value=1000, default=1)


class PortalApplySerializer(StrictSerializer):
    """An application for a plan: products (``items``) or a ``description`` with its ``total_amount``; the
    schedule follows the shop's rules, without a finance charge."""

    items = PortalApplyItemSerializer(many=True, required=False)
    total_amount = MoneyField(required=False, allow_null=True, help_text="The price, when no items are given.")
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000, help_text="What it is for, without items."
    )
    down_payment = MoneyField(required=False, default="0")
    number_of_installments = StrictIntegerField(min_value=1, max_value=600)
    installment_frequency = serializers.ChoiceField(choices=Frequency.choices)
    start_date = serializers.DateField(required=False, allow_null=True, help_text="Default: the shop's today.")


class PortalPaymentReportSerializer(StrictSerializer):
    """A payment the customer made by bank transfer or mobile wallet, with a photo or PDF of its proof."""

    plan = serializers.UUIDField()
    amount = MoneyField()
    payment_date = serializers.DateField()
    payment_method = serializers.ChoiceField(choices=[(method.value, method.label) for method in REPORTABLE_METHODS])
    reference = serializers.CharField(max_length=100, help_text="The transfer's or the wallet's reference.")
    proof = serializers.FileField(
        help_text="A PDF, JPEG, PNG or WebP file (recognised from its content), at most PAYMENT_PROOF_MAX_BYTES."
    )


class PortalPayoffQuerySerializer(serializers.Serializer):
    """The payoff quote's query (a query string, read as the staff endpoint reads it)."""

    date = serializers.DateField(
        required=False, help_text="The day the plan would be paid off, YYYY-MM-DD; default: the shop's today."
    )


class PortalDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class _DestinationMixin:
    """A ``phone`` or an ``email`` (one of them): read as ``destination``."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        phone, email = attrs.pop("phone", ""), attrs.pop("email", "")
        if bool(phone) == bool(email):
            raise serializers.ValidationError({"phone": [_("Give a phone number or an e-mail address (one of them).")]})
        attrs["destination"] = phone or email
        return attrs


class PortalCodeRequestSerializer(_DestinationMixin, StrictSerializer):
    merchant = serializers.UUIDField(help_text="The shop's id (its portal's address is /portal/m/<merchant>/).")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class PortalCodeTokenSerializer(_DestinationMixin, StrictSerializer):
    merchant = serializers.UUIDField()
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    code = serializers.CharField(max_length=6, min_length=6)
    register = serializers.BooleanField(
        default=False, help_text="True to finish a self-registration (auth/register/) with its code."
    )


class PortalRegisterSerializer(StrictSerializer):
    merchant = serializers.UUIDField()
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    national_id = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        help_text="The language of the code and the portal; the shop's if left out.",
    )
