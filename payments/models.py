"""The payment ledger: payments and how each was allocated to late fees, interest and principal.

Append-only: a refund or void adds reversal allocations (negative, pointing at the line they undo); nothing
that moved money is updated away or deleted. The sum of a plan's allocations always equals the sum of its
completed payments.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.proofs import PROOF_TYPES, proof_storage, proof_upload_to
from taqsit.money import MoneyField
from taqsit.tenancy import TenantModel, TenantQuerySet


class Payment(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")
        VOIDED = "voided", _("Voided")

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CHEQUE = "cheque", _("Cheque")
        MOBILE_WALLET = "mobile_wallet", _("Mobile wallet")
        OTHER = "other", _("Other")

    class Origin(models.TextChoices):
        COUNTER = "counter", _("At the counter")
        PORTAL = "portal", _("Reported by the customer")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(
        "installments.InstallmentPlan", on_delete=models.PROTECT, related_name="payments", verbose_name=_("plan")
    )
    payment_number = models.PositiveIntegerField(_("payment number"))
    amount = MoneyField(_("amount"))
    payment_date = models.DateField(_("payment date"))
    payment_method = models.CharField(_("method"), max_length=20, choices=Method.choices, default=Method.CASH)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.COMPLETED)
    is_down_payment = models.BooleanField(_("down payment"), default=False)
    # Recorded by staff (at the counter, the API, the admin) or reported by the customer on the portal (a transfer
    # waiting for staff to confirm it, with its proof).
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.COUNTER)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, verbose_name=_("received by")
    )
    # NULL, not "", when absent: the partial unique index covers only the keys given.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reversed_at = models.DateTimeField(_("refunded or voided at"), null=True, blank=True)
    reversal_reason = models.TextField(_("reason"), blank=True)
    # Who confirmed a pending payment (a cheque cleared) or marked it failed (bounced), and when.
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("confirmed or failed by"),
    )
    settled_at = models.DateTimeField(_("confirmed or failed at"), null=True, blank=True)
    # Where the plan stood right after this payment was allocated (when recorded, for one never completed): a
    # receipt reprinted later shows these, not the plan's state of the day it is printed.
    paid_after = MoneyField(_("paid on the plan after it"), null=True, blank=True)
    balance_after = MoneyField(_("balance after it"), null=True, blank=True)
    installments_paid_after = models.PositiveIntegerField(_("installments paid after it"), null=True, blank=True)
    next_due_date_after = models.DateField(_("next due date after it"), null=True, blank=True)
    next_amount_due_after = MoneyField(_("next amount due after it"), null=True, blank=True)
    # An early settlement's quote as it was paid (date, rebate rule, principal, interest, fees, rebate, amount,
    # reason): the settlement receipt shows these. Null for any other payment.
    settlement = models.JSONField(_("early settlement quote"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-payment_date", "-payment_number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "payment_number"], name="payment_number_unique_per_plan"),
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="payment_idempotency_key_unique_per_merchant",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(condition=Q(payment_number__gte=1), name="payment_number_gte_1"),
            models.CheckConstraint(
                condition=Q(status__in=["refunded", "voided"], reversed_at__isnull=False)
                | (~Q(status__in=["refunded", "voided"]) & Q(reversed_at__isnull=True)),
                name="payment_reversal_recorded",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "payment_date"], name="payment_merchant_date"),
            models.Index(fields=["plan", "status"], name="payment_plan_status"),
            # The dashboard's "to confirm" list, oldest first: a few rows of a merchant's hundreds of thousands.
            models.Index(
                fields=["merchant", "payment_date", "created_at", "id"],
                name="payment_pending",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.payment_number} {self.amount}"

    @property
    def settlement_rule_label(self) -> str:
        """The rebate rule of an early settlement, as a person reads it (the active language)."""
        from taqsit.models import Merchant

        rule = (self.settlement or {}).get("rule", "")
        return str(Merchant.SettlementRebate(rule).label) if rule in Merchant.SettlementRebate.values else rule

    @property
    def proof_or_none(self) -> PaymentProof | None:
        """The proof a customer sent with this payment (joined by ``payment_list``), or None."""
        try:
            return self.proof
        except PaymentProof.DoesNotExist:
            return None

    @property
    def status_actions(self) -> frozenset[str]:
        """The actions this payment's status allows (the roles are the pages' and the services' part)."""
        return frozenset(action for action, statuses in PAYMENT_ACTION_STATUSES.items() if self.status in statuses)


# The statuses each action starts from: the services refuse any other, and the pages offer the action only there.
PAYMENT_ACTION_STATUSES = {
    "complete": (Payment.Status.PENDING,),
    "fail": (Payment.Status.PENDING,),
    "refund": (Payment.Status.COMPLETED,),
    "void": (Payment.Status.COMPLETED, Payment.Status.PENDING),
    "delete": (Payment.Status.PENDING, Payment.Status.FAILED),
}


class PaymentProof(TenantModel):
    """The photo or PDF of a transfer a customer reported: one per reported payment, private (payments/proofs.py).

    Its type was recognised from its content, not its name; ``sha256`` identifies the bytes stored."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="proof", verbose_name=_("payment"))
    file = models.FileField(_("file"), upload_to=proof_upload_to, storage=proof_storage, max_length=200)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("name sent"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("payment proof")
        verbose_name_plural = _("payment proofs")
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="payment_proof_size_gt_0"),
            models.CheckConstraint(
                condition=Q(content_type__in=list(PROOF_TYPES)),
                name="payment_proof_type_allowed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.content_type} {self.size}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class PaymentAllocation(TenantModel):
    """How much of a payment went to which installment and to what: a late fee, interest or principal."""

    class Kind(models.TextChoices):
        DOWN_PAYMENT = "down_payment", _("Down payment")
        LATE_FEE = "late_fee", _("Late fee")
        INTEREST = "interest", _("Interest")
        PRINCIPAL = "principal", _("Principal")
        # A late fee collected under murabaha terms for charity: booked apart from income (issue 15).
        CHARITY_FEE = "charity_fee", _("Charity fee")
        # Unearned finance charge forgiven at early settlement: no money moved, never an edit of history.
        REBATE = "rebate", _("Settlement rebate")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    installment = models.ForeignKey(
        "installments.Installment", on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    amount = MoneyField(_("amount"))
    reversal_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(reversal_of__isnull=True) & Q(amount__gt=0))
                | (Q(reversal_of__isnull=False) & Q(amount__lt=0)),
                name="allocation_sign_matches_reversal",
            ),
            models.CheckConstraint(
                condition=(Q(kind="down_payment") & Q(installment__isnull=True))
                | (~Q(kind="down_payment") & Q(installment__isnull=False)),
                name="allocation_installment_unless_down_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class CollectionDayTotal(models.Model):
    """What the merchant's payments brought in on one payment date, by method and allocation kind, net of
    refunds and voids (a reversal's lines count at the payment's date): summary rows kept by the ledger services
    in the payment's transaction (installments/summaries.py), read by the statistics."""

    merchant = models.ForeignKey("taqsit.Merchant", on_delete=models.PROTECT, related_name="+")
    payment_date = models.DateField(_("payment date"))
    payment_method = models.CharField(_("method"), max_length=20, choices=Payment.Method.choices)
    kind = models.CharField(_("kind"), max_length=15, choices=PaymentAllocation.Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=3, default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection day total")
        verbose_name_plural = _("collection day totals")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "payment_date", "payment_method", "kind"], name="collection_day_total_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_date} {self.payment_method} {self.kind}: {self.amount}"


class CharityDisbursement(TenantModel):
    """Charity fees handed over to a charity: what was collected as charity fees less these is still to give."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    amount = MoneyField(_("amount"))
    given_on = models.DateField(_("date given"))
    recipient = models.CharField(_("recipient"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("charity disbursement")
        verbose_name_plural = _("charity disbursements")
        ordering = ["-given_on", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charity_disbursement_amount_gt_0"),
            models.CheckConstraint(condition=~Q(recipient=""), name="charity_disbursement_recipient_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} to {self.recipient}"
