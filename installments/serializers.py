import base64
import binascii

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from installments.disclosure import plan_apr
from installments.models import ContractSignature, Guarantor, Installment, InstallmentPlan, PlanItem, Product
from installments.schedule import FinanceChargeMethod, Frequency
from taqsit.serializers import (
    MoneyField,
    StrictDecimalField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictSerializer,
)


class ProductSerializer(StrictModelSerializer):
    price = MoneyField()

    class Meta:
        model = Product
        fields = ["id", "name", "sku", "price", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []


class PlanItemSerializer(serializers.ModelSerializer):
    product = serializers.UUIDField(source="product_id", allow_null=True, required=False)
    unit_price = MoneyField()
    line_total = MoneyField(read_only=True)

    class Meta:
        model = PlanItem
        fields = ["product", "description", "quantity", "unit_price", "line_total", "serial_number"]


class PlanItemInputSerializer(StrictSerializer):
    product = serializers.UUIDField(allow_null=True, required=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    quantity = StrictIntegerField(min_value=1, max_value=100000, default=1)
    unit_price = MoneyField(required=False, allow_null=True)
    serial_number = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Serial number or IMEI; kept without spaces, upper case; unique among the merchant's open plans.",
    )


class GuarantorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Guarantor
        fields = ["id", "name", "phone", "national_id", "address", "relation", "created_at"]
        read_only_fields = fields


class GuarantorInputSerializer(StrictSerializer):
    """A guarantor as given; the phone is read in the merchant's country and kept in E.164."""

    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32)
    national_id = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    relation = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class InstallmentSerializer(serializers.ModelSerializer):
    amount_due = MoneyField()
    principal = MoneyField()
    interest = MoneyField()
    amount_paid = MoneyField()
    late_fee = MoneyField()
    late_fee_paid = MoneyField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = Installment
        fields = [
            "number",
            "due_date",
            "amount_due",
            "principal",
            "interest",
            "amount_paid",
            "late_fee",
            "late_fee_paid",
            "status",
            "paid_on",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Installment.Status.choices))
    def get_status(self, row: Installment) -> str:
        """The displayed status (``Installment.display_status_for``): overdue from dates, on plans being collected."""
        if hasattr(row, "display_status"):
            return row.display_status
        cutoff = self.context.get("overdue_cutoff")
        if cutoff is None:
            return row.status
        return row.display_status_for(cutoff=cutoff, plan_status=self.context.get("plan_status"))


class CollectionInstallmentSerializer(InstallmentSerializer):
    plan = serializers.UUIDField(source="plan_id", read_only=True)
    plan_reference = serializers.CharField(source="plan.reference", read_only=True)
    customer = serializers.UUIDField(source="plan.customer_id", read_only=True)
    customer_name = serializers.CharField(source="plan.customer.name", read_only=True)
    customer_phone = serializers.CharField(source="plan.customer.phone", read_only=True)

    class Meta(InstallmentSerializer.Meta):
        fields = [
            "id",
            "plan",
            "plan_reference",
            "customer",
            "customer_name",
            "customer_phone",
            *InstallmentSerializer.Meta.fields,
        ]
        read_only_fields = fields


APR_HELP = (
    "Annual percentage rate, percent a year to two places, by the actuarial method of the US Truth in Lending rules"
    " (Regulation Z, Appendix J) from the schedule signed: the rate at which the installments' present value equals"
    " the amount financed, times the periods in a year. Fixed at signing."
)


def apr_field(**kwargs) -> serializers.DecimalField:
    """The APR as a decimal string, "21.46"."""
    return serializers.DecimalField(max_digits=9, decimal_places=2, read_only=True, help_text=APR_HELP, **kwargs)


class PlanSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    items = PlanItemSerializer(many=True, read_only=True)
    guarantors = GuarantorSerializer(many=True, read_only=True)
    installments = serializers.SerializerMethodField()
    total_amount = MoneyField()
    down_payment = MoneyField()
    finance_charge = MoneyField()
    total_payable = MoneyField()
    installment_amount = MoneyField()
    amount_paid = MoneyField()
    late_fees = MoneyField()
    remaining_balance = MoneyField(read_only=True)
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
            "customer",
            "customer_name",
            "status",
            "origin",
            "sale_reference",
            "items",
            "guarantors",
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
            "first_due_date",
            "due_date",
            "amount_paid",
            "late_fees",
            "remaining_balance",
            "notes",
            "status_reason",
            "created_at",
            "updated_at",
            "installments",
        ]
        read_only_fields = fields

    @extend_schema_field(apr_field())
    def get_apr(self, plan: InstallmentPlan) -> str:
        return f"{plan_apr(plan):.2f}"

    @extend_schema_field(InstallmentSerializer(many=True))
    def get_installments(self, plan: InstallmentPlan) -> list[dict]:
        rows = [row for row in plan.installments.all() if row.superseded_at is None]
        context = {**self.context, "plan_status": plan.status}
        return InstallmentSerializer(rows, many=True, context=context).data


class PlanTermsSerializer(StrictSerializer):
    """The terms of a plan, as POST and preview take them (DESIGN.md, "The REST API")."""

    items = PlanItemInputSerializer(many=True, required=False)
    total_amount = MoneyField(required=False, allow_null=True)
    down_payment = MoneyField(required=False, default="0")
    number_of_installments = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=600)
    installment_amount = MoneyField(required=False, allow_null=True)
    installment_frequency = serializers.ChoiceField(choices=Frequency.choices)
    start_date = serializers.DateField()
    first_due_date = serializers.DateField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    finance_charge_method = serializers.ChoiceField(choices=FinanceChargeMethod.choices, default="none")
    interest_rate = StrictDecimalField(max_digits=8, decimal_places=4, required=False, allow_null=True)


class PlanCreateSerializer(PlanTermsSerializer):
    customer = serializers.UUIDField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    sale_reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="The shop's own sale (POS) number."
    )
    guarantors = GuarantorInputSerializer(many=True, required=False, default=list)


class PlanUpdateSerializer(StrictSerializer):
    """A plan's notes; its terms change only through reschedule."""

    read_only_names = tuple(name for name in PlanSerializer.Meta.fields if name != "notes")
    notes = serializers.CharField(allow_blank=True)


class RescheduleSerializer(StrictSerializer):
    number_of_installments = StrictIntegerField(min_value=1, max_value=600)
    installment_frequency = serializers.ChoiceField(choices=Frequency.choices)
    start_date = serializers.DateField()
    first_due_date = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    # Accepted only to be refused with a clear message: a reschedule adds no finance charge (never under murabaha).
    interest_rate = StrictDecimalField(max_digits=8, decimal_places=4, required=False, allow_null=True)
    finance_charge_method = serializers.ChoiceField(choices=FinanceChargeMethod.choices, required=False)


class ScheduleRowSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    amount_due = MoneyField(source="amount")
    principal = MoneyField()
    interest = MoneyField()


class SchedulePreviewSerializer(serializers.Serializer):
    """A preview (``PlanTerms``): the schedule and its cost of credit."""

    currency = serializers.CharField(source="schedule.currency")
    total_amount = MoneyField(source="schedule.total_amount")
    down_payment = MoneyField(source="schedule.down_payment")
    financed = MoneyField(source="schedule.financed")
    finance_charge = MoneyField(source="schedule.finance_charge")
    total_payable = MoneyField(source="schedule.total_payable")
    cash_price = MoneyField(source="disclosure.cash_price")
    amount_financed = MoneyField(source="disclosure.amount_financed")
    total_of_payments = MoneyField(source="disclosure.total_of_payments")
    credit_price = MoneyField(source="disclosure.credit_price")
    apr = apr_field(source="disclosure.apr")
    apr_label = serializers.CharField(
        source="disclosure.apr_label", help_text="The rate's name as the merchant's country names it (APR, TAE...)."
    )
    installment_amount = MoneyField(source="schedule.installment_amount")
    number_of_installments = serializers.IntegerField(source="schedule.number_of_installments")
    due_date = serializers.DateField(source="schedule.last_due_date")
    installments = ScheduleRowSerializer(source="schedule.rows", many=True)


def schedule_preview_data(preview, *, currency: str) -> dict:
    """A preview (``plan_preview``'s ``PlanTerms``) as the API answers it."""
    return SchedulePreviewSerializer(preview, context={"currency": currency}).data


class PlanSummarySerializer(serializers.Serializer):
    plan_id = serializers.UUIDField()
    reference = serializers.CharField()
    currency = serializers.CharField()
    total_amount = MoneyField()
    down_payment = MoneyField()
    finance_charge = MoneyField()
    total_payable = MoneyField()
    amount_paid = MoneyField()
    late_fees = MoneyField()
    remaining_balance = MoneyField()
    installments_paid = serializers.IntegerField()
    total_installments = serializers.IntegerField()
    next_payment_due = serializers.DateField(allow_null=True)
    next_amount_due = MoneyField()
    overdue_amount = MoneyField()
    status = serializers.CharField()
    cash_price = MoneyField()
    amount_financed = MoneyField()
    total_of_payments = MoneyField()
    credit_price = MoneyField()
    apr = apr_field()
    apr_label = serializers.CharField(help_text="The rate's name as the merchant's country names it (APR, TAE...).")


class PayoffQuerySerializer(serializers.Serializer):
    """The payoff quote's query: the day the customer would pay (default: the merchant's today)."""

    date = serializers.DateField(
        required=False, help_text="The day the plan would be paid off, YYYY-MM-DD; default the merchant's today."
    )
    rebate = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Under a discretionary rebate rule (murabaha): the rebate a manager would grant, at most rebate_max.",
    )


class PayoffQuoteSerializer(serializers.Serializer):
    """What closes a plan if paid on ``date``: ``amount`` = principal + interest + fees - rebate."""

    date = serializers.DateField()
    principal = MoneyField(help_text="Unpaid principal of every installment in force, whatever its due date.")
    interest = MoneyField(
        help_text="Unpaid interest, including interest not yet due on the date: without a rebate rule the plan"
        " closes only when all of it is paid."
    )
    fees = MoneyField(help_text="Late fees charged and not yet paid.")
    rebate = MoneyField(help_text="Unearned interest given back for paying early, by the merchant's rebate rule.")
    amount = MoneyField(help_text="The sum to pay on the date to complete the plan.")
    rule = serializers.CharField(
        help_text="The merchant's rebate rule: none, actuarial, rule_of_78 or discretionary (murabaha)."
    )
    rebate_max = MoneyField(help_text="Under the discretionary rule: the most a manager may grant (the markup unpaid).")
    interest_not_yet_due = MoneyField(help_text="The part of interest on installments falling due after the date.")


class ExposureQuerySerializer(StrictSerializer):
    """Who to weigh before a plan: the customer (an id), and a would-be guarantor (national id and/or phone)."""

    customer = serializers.UUIDField(required=False, help_text="The plan's customer.")
    national_id = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A guarantor's national id (matched first)."
    )
    phone = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A guarantor's phone (matched when no national id is given), local or international.",
    )
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate(self, attrs: dict) -> dict:
        # A form-encoded query drops an empty optional field before its own validation: "customer=" must still
        # be refused like any other value that is not a customer's id.
        if "customer" in self.initial_data and not self.initial_data.get("customer"):
            raise serializers.ValidationError({"customer": ["Must be a valid UUID."]})
        return attrs


class RoleExposureSerializer(serializers.Serializer):
    open_plans = serializers.IntegerField(help_text="Active or defaulted plans.")
    balance = MoneyField(help_text="Left to pay on those plans, late fees included.")
    overdue_plans = serializers.IntegerField()
    defaulted_plans = serializers.IntegerField()
    is_overdue = serializers.BooleanField()
    is_defaulted = serializers.BooleanField()


class PartyExposureSerializer(serializers.Serializer):
    name = serializers.CharField(source="party.name")
    national_id = serializers.CharField(source="party.national_id")
    phone = serializers.CharField(source="party.phone")
    as_customer = RoleExposureSerializer()
    as_guarantor = RoleExposureSerializer()
    is_late = serializers.BooleanField(help_text="Anything overdue or defaulted, as customer or as guarantor.")


class ExposureSerializer(serializers.Serializer):
    currency = serializers.CharField()
    customer = PartyExposureSerializer(allow_null=True)
    guarantor = PartyExposureSerializer(allow_null=True)


class ContractSignatureSerializer(serializers.ModelSerializer):
    """A signature kept on a plan's contract; ``matches`` says whether it covers the contract's text today."""

    matches = serializers.SerializerMethodField()

    class Meta:
        model = ContractSignature
        fields = ["id", "signer", "guarantor_key", "signer_name", "language", "text_sha256", "signed_at", "matches"]
        read_only_fields = fields

    def get_matches(self, signature: ContractSignature) -> bool:
        return signature.text_sha256 == self.context.get("text_sha256")


class ContractSerializer(serializers.Serializer):
    """The contract as it reads today: its language, the SHA-256 of its canonical text (what a signer signs),
    whether every line carries a signature of this text, and every signature ever kept on it."""

    language = serializers.CharField()
    text_sha256 = serializers.CharField()
    is_signed = serializers.BooleanField()
    signatures = serializers.SerializerMethodField()

    @extend_schema_field(ContractSignatureSerializer(many=True))
    def get_signatures(self, contract) -> list:
        signatures = ContractSignature.objects.filter(plan=contract.plan).order_by("signed_at", "created_at")
        return ContractSignatureSerializer(signatures, many=True, context={"text_sha256": contract.text_sha256}).data


class ContractSignInputSerializer(StrictSerializer):
    """A signature drawn on a touch screen: the PNG in base64, who signed, and the SHA-256 of the text shown."""

    signer = serializers.ChoiceField(choices=ContractSignature.Signer.choices)
    guarantor = serializers.UUIDField(required=False, help_text="The guarantor's id when a guarantor signs.")
    image = serializers.CharField(help_text="The signature as a PNG, base64 (a data:image/png;base64, URL too).")
    text_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="The contract's text_sha256 the signer read.")

    def validate_image(self, value: str) -> bytes:
        try:
            return base64.b64decode(value.removeprefix("data:image/png;base64,"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError("Not base64.") from exc

    def signature(self) -> dict:
        data = self.validated_data
        guarantor = data.get("guarantor")
        return {
            "signer": data["signer"],
            "guarantor_key": str(guarantor) if guarantor else "",
            "image": data["image"],
            "text_sha256": data["text_sha256"],
        }
