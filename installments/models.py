"""Products, plans and their schedules.

A plan's money invariants are database constraints, not Python checks: every installment is
principal + interest and never over-paid, and a plan's ``amount_paid`` never exceeds what it owes.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from installments.schedule import MAX_INSTALLMENTS, FinanceChargeMethod, Frequency
from taqsit.money import ZERO, MoneyField
from taqsit.phone import E164_REGEX, e164_validator
from taqsit.private_files import PrivateFileStorage
from taqsit.tenancy import TenantModel, TenantQuerySet


class Product(TenantModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    price = MoneyField(_("price"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "sku"], condition=~Q(sku=""), name="product_sku_unique_per_merchant"
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_gt_0"),
            models.CheckConstraint(condition=~Q(name=""), name="product_name_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})" if self.sku else self.name


def serial_normalize(raw: object) -> str:
    """A serial number or IMEI as kept: no spaces anywhere, upper case (``" 35 2099 abc "`` -> ``"352099ABC"``)."""
    return "".join(str(raw or "").split()).upper()


# The body of the plan's trigger keeping ``PlanItem.is_open`` in step with the plan's status.
_HOLDING = "(NEW.status IN ('pending', 'active', 'defaulted'))"
ITEMS_HOLD_SERIALS_SQL = f"""
    UPDATE installments_planitem AS item SET is_open = {_HOLDING}
     WHERE item.plan_id = NEW.id
       AND item.is_open IS DISTINCT FROM {_HOLDING}
       AND NOT ({_HOLDING} AND item.serial_number <> '' AND EXISTS (
           SELECT 1 FROM installments_planitem AS other
            WHERE other.merchant_id = item.merchant_id AND other.serial_number = item.serial_number
              AND other.is_open AND other.plan_id <> NEW.id));
    RETURN NULL;
"""  # noqa: S608 - a trigger's body from constants


class InstallmentPlan(TenantModel):
    """One sale on credit (or one loan) and its schedule; totals kept in step by the services under a row lock."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        DEFAULTED = "defaulted", _("Defaulted")

    class Origin(models.TextChoices):
        COUNTER = "counter", _("At the counter")
        PORTAL = "portal", _("Customer application")

    OPEN_STATUSES = (Status.ACTIVE, Status.DEFAULTED)
    # A plan in these statuses holds the serial numbers of its items: the same phone cannot be sold twice on credit
    # (``PlanItem.is_open``, kept in step with the status by a database trigger, migration 0005).
    SERIAL_HOLDING_STATUSES = (Status.PENDING, Status.ACTIVE, Status.DEFAULTED)
    # Why a plan was defaulted or made active again, by the daily job, a manager or a payment alike.
    DEFAULTED_REASON = "Overdue past the merchant's limit."
    RESTORED_REASON = "Brought up to date."
    # The statuses each action starts from: the lifecycle services refuse any other, and the pages, the lists and
    # the admin offer the action only there (``status_actions``, ``plan_actions_allowed``).
    ACTION_STATUSES = {
        "approve": (Status.PENDING,),
        "reject": (Status.PENDING,),
        "cancel": (Status.PENDING, Status.ACTIVE, Status.DEFAULTED),
        "reschedule": OPEN_STATUSES,
        "mark_defaulted": (Status.ACTIVE,),
        "pay": OPEN_STATUSES,
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.PositiveIntegerField(_("plan number"), editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="plans", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Where the plan came from: signed up by the staff, or applied for by the customer on the portal.
    origin = models.CharField(
        _("origin"), max_length=10, choices=Origin.choices, default=Origin.COUNTER, editable=False
    )
    total_amount = MoneyField(_("total amount"))
    down_payment = MoneyField(_("down payment"), default=ZERO)
    finance_charge_method = models.CharField(
        _("finance charge"), max_length=20, choices=FinanceChargeMethod.choices, default=FinanceChargeMethod.NONE
    )
    interest_rate = models.DecimalField(
        _("annual interest rate (%)"), max_digits=8, decimal_places=4, default=Decimal("0")
    )
    finance_charge = MoneyField(_("finance charge amount"), default=ZERO)
    # The annual percentage rate of the schedule signed (installments/disclosure.py), fixed at signing like the
    # finance charge: a reschedule adds no charge and changes no figure the customer signed. NULL only on plans
    # from before it was kept that the backfill could not read; plan_apr() then reads the rows in force.
    apr = models.DecimalField(_("APR (%)"), max_digits=9, decimal_places=2, null=True, blank=True, editable=False)
    total_payable = MoneyField(_("total payable"))
    installment_amount = MoneyField(_("installment amount"))
    number_of_installments = models.PositiveSmallIntegerField(_("number of installments"))
    installment_frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    start_date = models.DateField(_("start date"))
    first_due_date = models.DateField(_("first due date"), null=True, blank=True)
    due_date = models.DateField(_("last due date"))
    notes = models.TextField(_("notes"), blank=True)
    # The shop's own number for the sale (its point-of-sale receipt), to find the plan by.
    sale_reference = models.CharField(_("sale reference"), max_length=64, blank=True)
    # Running totals, changed only by the ledger services while they hold this row's lock.
    amount_paid = MoneyField(_("amount paid"), default=ZERO, editable=False)
    late_fees = MoneyField(_("late fees charged"), default=ZERO, editable=False)
    # Interest forgiven at an early settlement (rebate allocation lines; no money moved): what was owed is
    # settled by ``amount_paid`` (money received) plus ``rebates``.
    rebates = MoneyField(_("settlement rebates"), default=ZERO, editable=False)
    last_payment_number = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )
    decided_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True, editable=False)
    status_reason = models.TextField(_("reason for the last status change"), blank=True, editable=False)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    rescheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # NULL, not "", when absent: the partial unique index covers only the keys given.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("installment plan")
        verbose_name_plural = _("installment plans")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "number"], name="plan_number_unique_per_merchant"),
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="plan_idempotency_key_unique_per_merchant",
            ),
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="plan_total_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(down_payment__gte=0) & Q(down_payment__lt=F("total_amount")),
                name="plan_down_payment_range",
            ),
            models.CheckConstraint(condition=Q(finance_charge__gte=0), name="plan_finance_charge_gte_0"),
            models.CheckConstraint(
                condition=Q(total_payable=F("total_amount") + F("finance_charge")), name="plan_total_payable_sum"
            ),
            models.CheckConstraint(condition=Q(installment_amount__gt=0), name="plan_installment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(number_of_installments__gte=1) & Q(number_of_installments__lte=MAX_INSTALLMENTS),
                name="plan_number_of_installments_range",
            ),
            models.CheckConstraint(condition=Q(interest_rate__gte=0), name="plan_interest_rate_gte_0"),
            models.CheckConstraint(condition=Q(apr__gte=0), name="plan_apr_gte_0"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0)
                & Q(amount_paid__lte=F("total_payable") + F("late_fees") - F("rebates")),
                name="plan_amount_paid_within_owed",
            ),
            models.CheckConstraint(condition=Q(late_fees__gte=0), name="plan_late_fees_gte_0"),
            models.CheckConstraint(condition=Q(rebates__gte=0), name="plan_rebates_gte_0"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(amount_paid=F("total_payable") + F("late_fees") - F("rebates")),
                name="plan_completed_means_paid",
            ),
            models.CheckConstraint(condition=Q(due_date__gt=F("start_date")), name="plan_due_after_start"),
        ]
        triggers = [
            # Whatever changes a plan's status (a service, the daily job's set-based UPDATE, a refund re-opening a
            # completed plan), its items' ``is_open`` follows, so the serial's unique index always sees the truth.
            # A plan re-opened after another open plan took one of its serials leaves that item closed: the
            # later sale keeps the serial, and the refund that re-opened the plan is not refused for it.
            pgtrigger.Trigger(
                name="items_hold_serials",
                when=pgtrigger.After,
                operation=pgtrigger.UpdateOf("status"),
                condition=pgtrigger.Condition("OLD.status IS DISTINCT FROM NEW.status"),
                func=ITEMS_HOLD_SERIALS_SQL,
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status"], name="plan_merchant_status"),
            models.Index(fields=["customer", "status"], name="plan_customer_status"),
            models.Index(
                fields=["merchant", "sale_reference"], condition=~Q(sale_reference=""), name="plan_sale_reference"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"P-{self.number:06d}"

    @property
    def remaining_balance(self) -> Decimal:
        """What is still owed: the total payable and the late fees less the money received and the rebates."""
        return self.total_payable + self.late_fees - self.amount_paid - self.rebates

    # The cost of credit (installments/disclosure.py): the down payment is paid in cash, not financed.

    @property
    def cash_price(self) -> Decimal:
        return self.total_amount

    @property
    def amount_financed(self) -> Decimal:
        return self.total_amount - self.down_payment

    @property
    def total_of_payments(self) -> Decimal:
        """What the installments add up to: the amount financed plus the finance charge."""
        return self.amount_financed + self.finance_charge

    @property
    def credit_price(self) -> Decimal:
        """The cash price plus the finance charge (the total payable, the down payment included)."""
        return self.total_amount + self.finance_charge

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def status_actions(self) -> frozenset[str]:
        """The actions this plan's status allows (who may take them is ``plan_actions_allowed``'s part)."""
        return frozenset(action for action, statuses in self.ACTION_STATUSES.items() if self.status in statuses)


class PlanItem(models.Model):
    """A line of the sale: a product or free text, quantity and unit price, and the serial number (or IMEI) of the
    very thing sold.

    A serial is held by one open plan of the merchant at a time (``SERIAL_HOLDING_STATUSES``): the partial unique
    index covers only rows with ``is_open``, a copy of the plan's status that a trigger on the plan's table keeps in
    step (migration 0005), whichever service, job or set-based update changes the status. Two clerks selling the
    same phone at the same moment: the index makes the second wait for the first and then refuses it.
    """

    plan = models.ForeignKey(InstallmentPlan, on_delete=models.CASCADE, related_name="items")
    # The plan's merchant, copied: the serial's unique index is per merchant (and the row gets row-level security).
    merchant = models.ForeignKey("taqsit.Merchant", on_delete=models.PROTECT, related_name="+", editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = MoneyField(_("unit price"))
    line_total = MoneyField(_("line total"))
    # Upper case, no spaces (``serial_normalize``); empty when the item has none.
    serial_number = models.CharField(_("serial number or IMEI"), max_length=64, blank=True)
    is_open = models.BooleanField(_("held by an open plan"), default=True, editable=False)

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="plan_item_quantity_gte_1"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="plan_item_unit_price_gt_0"),
            models.CheckConstraint(condition=~Q(description=""), name="plan_item_description_not_blank"),
            models.UniqueConstraint(
                fields=["merchant", "serial_number"],
                condition=Q(is_open=True) & ~Q(serial_number=""),
                name="plan_item_serial_unique_open",
            ),
            models.CheckConstraint(condition=~Q(serial_number__contains=" "), name="plan_item_serial_number_no_spaces"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"


class Guarantor(TenantModel):
    """A person who answers for the plan if the customer does not pay: named on the contract, shown the plan's
    exposure before it is created, and copied on the overdue reminders when the merchant's policy says so."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(InstallmentPlan, on_delete=models.CASCADE, related_name="guarantors")
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=16, validators=[e164_validator], help_text=_("E.164"))
    national_id = models.CharField(_("national id"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    relation = models.CharField(_("relation to the customer"), max_length=100, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("guarantor")
        verbose_name_plural = _("guarantors")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="guarantor_name_not_blank"),
            models.CheckConstraint(condition=Q(phone__regex=E164_REGEX), name="guarantor_phone_e164"),
        ]
        indexes = [
            # The exposure of a person: matched by national id, else by phone.
            models.Index(Upper("national_id"), "merchant", name="guarantor_national_id"),
            models.Index(fields=["merchant", "phone"], name="guarantor_phone"),
        ]

    def __str__(self) -> str:
        return self.name


class InstallmentQuerySet(TenantQuerySet):
    def current(self) -> InstallmentQuerySet:
        """Rows of the plan's schedule in force (a reschedule supersedes the unpaid ones, kept for history)."""
        return self.filter(superseded_at__isnull=True)


class Installment(TenantModel):
    """One row of a schedule. ``amount_due`` = principal + interest; late fees are charged on top of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(InstallmentPlan, on_delete=models.CASCADE, related_name="installments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount_due = MoneyField(_("amount due"))
    principal = MoneyField(_("principal"))
    interest = MoneyField(_("interest"), default=ZERO)
    amount_paid = MoneyField(_("amount paid"), default=ZERO)
    principal_paid = MoneyField(default=ZERO)
    interest_paid = MoneyField(default=ZERO)
    late_fee = MoneyField(_("late fees charged"), default=ZERO)
    late_fee_paid = MoneyField(_("late fees paid"), default=ZERO)
    # The part of ``late_fee`` (and of ``late_fee_paid``) charged as a charity fee under murabaha terms
    # (``LateFee.is_charity``): collected apart from income.
    charity_fee = MoneyField(_("charity fees charged"), default=ZERO)
    charity_fee_paid = MoneyField(_("charity fees paid"), default=ZERO)
    # The part of ``interest_paid`` forgiven by a settlement rebate (no money moved).
    interest_rebated = MoneyField(_("interest rebated"), default=ZERO)
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.PENDING)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded by a reschedule at"), null=True, blank=True)

    objects = InstallmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["plan", "number", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                condition=Q(superseded_at__isnull=True),
                name="installment_number_unique_per_plan",
            ),
            models.CheckConstraint(condition=Q(amount_due__gt=0), name="installment_amount_due_gt_0"),
            models.CheckConstraint(
                condition=Q(amount_due=F("principal") + F("interest")), name="installment_due_is_principal_interest"
            ),
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(interest__gte=0), name="installment_parts_gte_0"),
            models.CheckConstraint(
                condition=Q(principal_paid__gte=0) & Q(principal_paid__lte=F("principal")),
                name="installment_principal_paid_range",
            ),
            models.CheckConstraint(
                condition=Q(interest_paid__gte=0) & Q(interest_paid__lte=F("interest")),
                name="installment_interest_paid_range",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid=F("principal_paid") + F("interest_paid")),
                name="installment_paid_is_parts",
            ),
            models.CheckConstraint(
                condition=Q(late_fee__gte=0) & Q(late_fee_paid__gte=0) & Q(late_fee_paid__lte=F("late_fee")),
                name="installment_late_fee_paid_range",
            ),
            models.CheckConstraint(
                condition=Q(charity_fee__gte=0)
                & Q(charity_fee__lte=F("late_fee"))
                & Q(charity_fee_paid__gte=0)
                & Q(charity_fee_paid__lte=F("charity_fee"))
                & Q(charity_fee_paid__lte=F("late_fee_paid")),
                name="installment_charity_fee_range",
            ),
            models.CheckConstraint(
                condition=Q(interest_rebated__gte=0) & Q(interest_rebated__lte=F("interest_paid")),
                name="installment_interest_rebated_range",
            ),
            models.CheckConstraint(
                condition=(Q(status="paid") & Q(amount_paid=F("amount_due")))
                | (~Q(status="paid") & Q(amount_paid__lt=F("amount_due"))),
                name="installment_paid_status_matches",
            ),
        ]
        indexes = [
            # The collections list, the statistics and the daily jobs: unpaid current rows by due date. The
            # included columns let the overdue count and the jobs' candidate plans be read from the index alone.
            models.Index(
                fields=["merchant", "due_date"],
                include=["plan", "amount_due", "amount_paid"],
                condition=Q(superseded_at__isnull=True) & ~Q(status="paid"),
                name="installment_unpaid_by_due",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.due_date}"

    # The displayed status: one rule, as a query expression and as a method, side by side (a test holds them
    # together). Overdue only on a plan still being collected and in force; the stored status (the daily job's
    # mark) is not read, so a row of a cancelled, rejected or pending plan is never shown overdue.

    @staticmethod
    def display_status_expression(*, cutoff: date | models.Expression) -> Case:
        """Paid; overdue (in force, on an active or defaulted plan, due before ``cutoff``: due date + grace <
        today, a date or an expression per row); partially paid; pending."""
        return Case(
            When(amount_paid__gte=F("amount_due"), then=Value(Installment.Status.PAID)),
            When(
                Q(superseded_at__isnull=True, plan__status__in=InstallmentPlan.OPEN_STATUSES, due_date__lt=cutoff),
                then=Value(Installment.Status.OVERDUE),
            ),
            When(amount_paid__gt=0, then=Value(Installment.Status.PARTIALLY_PAID)),
            default=Value(Installment.Status.PENDING),
            output_field=models.CharField(max_length=15),
        )

    def display_status_for(self, *, cutoff: date, plan_status: str | None = None) -> str:
        """The twin of ``display_status_expression`` for a row in hand (``plan_status`` saves reading the plan)."""
        if self.amount_paid >= self.amount_due:
            return Installment.Status.PAID
        plan_status = plan_status if plan_status is not None else self.plan.status
        if self.superseded_at is None and plan_status in InstallmentPlan.OPEN_STATUSES and self.due_date < cutoff:
            return Installment.Status.OVERDUE
        if self.amount_paid > 0:
            return Installment.Status.PARTIALLY_PAID
        return Installment.Status.PENDING

    @property
    def display_status_label(self) -> str:
        """The displayed status as a person reads it, once a list or page has set ``display_status`` (until then,
        the stored status)."""
        return Installment.Status(getattr(self, "display_status", self.status)).label

    @property
    def amount_remaining(self) -> Decimal:
        return self.amount_due - self.amount_paid

    @property
    def late_fee_remaining(self) -> Decimal:
        return self.late_fee - self.late_fee_paid

    @property
    def charity_fee_remaining(self) -> Decimal:
        return self.charity_fee - self.charity_fee_paid


class LateFee(TenantModel):
    """A late fee charged on an installment for one period; the unique key makes a fee impossible to charge twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(InstallmentPlan, on_delete=models.PROTECT, related_name="late_fee_charges")
    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="late_fee_charges")
    period = models.DateField(_("period"), help_text=_("The day the fee is charged for."))
    amount = MoneyField(_("amount"))
    # Charged while the merchant booked late fees for charity: fixed at charge time, so a later change of the
    # policy does not rewrite history.
    is_charity = models.BooleanField(_("charity fee"), default=False)
    charged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("late fee")
        verbose_name_plural = _("late fees")
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(fields=["installment", "period"], name="late_fee_once_per_period"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="late_fee_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.period}"


# The statistics' summary rows (installments/summaries.py): what only movements change, kept by the services and
# the daily job in the same transaction as the movement, so the statistics read a few rows instead of the book.

SUM_DIGITS = 20  # a merchant's totals outgrow one amount's DECIMAL(14, 3)


def _sum_field(verbose_name: str) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=SUM_DIGITS, decimal_places=3, default=ZERO)


class PlanStatusTotal(models.Model):
    """The merchant's plans in one status, summed: how many, their total payable, late fees charged, amount paid
    and late fees still unpaid (on any of their rows, superseded ones included), settlement rebates, and of the
    late fees the charity fees charged and paid (murabaha terms: never income)."""

    merchant = models.ForeignKey("taqsit.Merchant", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=InstallmentPlan.Status.choices)
    plans = models.BigIntegerField(_("plans"), default=0)
    total_payable = _sum_field(_("total payable"))
    late_fees = _sum_field(_("late fees charged"))
    amount_paid = _sum_field(_("amount paid"))
    late_fees_unpaid = _sum_field(_("late fees unpaid"))
    rebates = _sum_field(_("settlement rebates"))
    charity_fees = _sum_field(_("charity fees charged"))
    charity_fees_paid = _sum_field(_("charity fees paid"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan status total")
        verbose_name_plural = _("plan status totals")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "status"], name="plan_status_total_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.status}: {self.plans}"


class DueDayTotal(models.Model):
    """The merchant's current installments due on one day, summed: of the book's plans (active, defaulted,
    completed) what is due and paid; of open plans (active, defaulted) the rows not fully paid and what is left to
    pay on them. Whatever depends on "today" is a sum over a range of these days."""

    merchant = models.ForeignKey("taqsit.Merchant", on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("due date"))
    book_due = _sum_field(_("amount due"))
    book_paid = _sum_field(_("amount paid"))
    unpaid_count = models.BigIntegerField(_("installments unpaid"), default=0)
    unpaid_amount = _sum_field(_("amount unpaid"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("due day total")
        verbose_name_plural = _("due day totals")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "due_date"], name="due_day_total_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.due_date}: {self.unpaid_count}"


class MerchantOverdueTotal(models.Model):
    """What is overdue as of ``cutoff`` (rows due before it), kept like the other summary rows, with
    ``CustomerOverdueTotal``: the plans with a row overdue. Which rows are overdue depends on the day, so the
    cutoff is stored with them: the daily run moves it on, adding the rows it passed (installments/overdue.py), and
    the statistics use these rows only when it is today's cutoff."""

    merchant = models.OneToOneField("taqsit.Merchant", on_delete=models.PROTECT, related_name="+")
    cutoff = models.DateField(_("overdue cutoff"))
    plans = models.BigIntegerField(_("plans overdue"), default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("overdue total")
        verbose_name_plural = _("overdue totals")

    def __str__(self) -> str:
        return f"{self.cutoff}: {self.plans}"


class CustomerOverdueTotal(models.Model):
    """One customer's overdue as of the merchant's stored cutoff (``MerchantOverdueTotal``), on open plans: what
    is left to pay on their rows due before it, how many rows and on how many plans. The statistics' top
    customers are the first rows of ``customer_overdue_by_amount``."""

    merchant = models.ForeignKey("taqsit.Merchant", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    amount = _sum_field(_("amount overdue"))
    installments = models.BigIntegerField(_("installments overdue"), default=0)
    plans = models.BigIntegerField(_("plans overdue"), default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer overdue total")
        verbose_name_plural = _("customer overdue totals")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "customer"], name="customer_overdue_total_unique"),
        ]
        indexes = [
            models.Index("merchant", F("amount").desc(), name="customer_overdue_by_amount", condition=Q(amount__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.amount}"


_signature_storage = PrivateFileStorage()


def signature_storage() -> PrivateFileStorage:
    """The signatures' storage (a callable, so the migration names this function, not a path)."""
    return _signature_storage


def signature_upload_to(instance: ContractSignature, filename: str) -> str:
    """``contract-signatures/<merchant id>/<uuid4>.png``: nothing guessable, nothing of the signer's name."""
    return f"contract-signatures/{instance.merchant_id}/{uuid.uuid4()}.png"


class ContractSignature(TenantModel):
    """A signature drawn on screen at the counter on a plan's contract: the image (a private PNG), who signed and
    when, and the SHA-256 of the contract's canonical text as it was shown. Kept forever, never edited: when the
    contract's text changes (a reschedule), ``text_sha256`` no longer matches and the contract says so."""

    class Signer(models.TextChoices):
        CUSTOMER = "customer", pgettext_lazy("contract", "Buyer")
        GUARANTOR = "guarantor", pgettext_lazy("contract", "Guarantor")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(
        InstallmentPlan, on_delete=models.PROTECT, related_name="contract_signatures", verbose_name=_("plan")
    )
    signer = models.CharField(_("signed as"), max_length=10, choices=Signer.choices)
    # The guarantor's id when a guarantor signed (kept as a value: the signature outlives any edit of the row).
    guarantor_key = models.CharField(_("guarantor who signed"), max_length=64, blank=True)
    signer_name = models.CharField(_("signer"), max_length=200)
    language = models.CharField(_("language of the contract"), max_length=5)
    text_sha256 = models.CharField(_("SHA-256 of the contract text"), max_length=64)
    image = models.FileField(_("signature"), upload_to=signature_upload_to, storage=signature_storage, max_length=200)
    image_sha256 = models.CharField(_("SHA-256 of the signature image"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"))
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )

    class Meta:
        verbose_name = _("contract signature")
        verbose_name_plural = _("contract signatures")
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(text_sha256__regex=r"^[0-9a-f]{64}$"), name="signature_text_sha256"),
            models.CheckConstraint(condition=~Q(signer_name=""), name="signature_signer_name_not_blank"),
            models.CheckConstraint(
                condition=Q(signer="customer", guarantor_key="") | (Q(signer="guarantor") & ~Q(guarantor_key="")),
                name="signature_guarantor_named",
            ),
        ]
        indexes = [models.Index(fields=["plan", "signed_at"], name="signature_plan_signed_at")]

    def __str__(self) -> str:
        return f"{self.signer_name} {self.signed_at:%Y-%m-%d %H:%M}"
