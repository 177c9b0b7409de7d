"""Tenancy: the Merchant (tenant) with its collection policy, and staff Users with one role each."""

from __future__ import annotations

import uuid
import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from taqsit.error_codes import ErrorCode
from taqsit.money import MoneyField, currency_validate


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    ARABIC = "ar", _("Arabic")
    SPANISH = "es", _("Spanish")


def timezone_validate(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value}, code=ErrorCode.INVALID)


class Merchant(TimeStampedModel):
    """A shop or lender: the tenant every other row belongs to, with its currency and collection policy."""

    class LateFeeMethod(models.TextChoices):
        NONE = "none", _("No late fee")
        FIXED = "fixed", _("Fixed amount")
        PERCENT = "percent", _("Percent of the overdue amount")

    class SaleTerms(models.TextChoices):
        CONVENTIONAL = "conventional", _("Conventional installment sale")
        MURABAHA = "murabaha", _("Islamic installment sale (murabaha)")

    class LateFeeBooking(models.TextChoices):
        INCOME = "income", _("Booked as income")
        CHARITY = "charity", _("Collected for charity, booked apart from income")

    class SettlementRebate(models.TextChoices):
        NONE = "none", _("No rebate")
        ACTUARIAL = "actuarial", _("Unearned interest, actuarial method")
        RULE_OF_78 = "rule_of_78", _("Unearned interest, rule of 78")
        DISCRETIONARY = "discretionary", _("Discretionary rebate (ibra') granted by a manager")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="USD", validators=[currency_validate])
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[timezone_validate])
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)
    country = models.CharField(
        _("country"),
        max_length=2,
        default="US",
        help_text=_("ISO 3166 country code, used to read local phone numbers."),
    )
    # Collection policy.
    reminder_days_before = models.PositiveSmallIntegerField(
        _("reminder days before due"), default=3, validators=[MaxValueValidator(60)]
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0, validators=[MaxValueValidator(90)])
    late_fee_method = models.CharField(
        _("late fee rule"), max_length=10, choices=LateFeeMethod.choices, default=LateFeeMethod.NONE
    )
    late_fee_amount = MoneyField(_("fixed late fee"), default=Decimal("0"))
    late_fee_percent = models.DecimalField(
        _("late fee percent"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    late_fee_cap = MoneyField(_("late fee cap"), null=True, blank=True)
    default_after_days = models.PositiveSmallIntegerField(
        _("days overdue before a plan is defaulted"), default=90, validators=[MinValueValidator(1)]
    )
    requires_approval = models.BooleanField(_("new plans need a manager's approval"), default=False)
    # The sale contract (issue 15): terms, guarantors, early settlement, the merchant's own clauses.
    sale_terms = models.CharField(
        _("sale terms"), max_length=12, choices=SaleTerms.choices, default=SaleTerms.CONVENTIONAL
    )
    late_fee_booking = models.CharField(
        _("late fees are"), max_length=10, choices=LateFeeBooking.choices, default=LateFeeBooking.INCOME
    )
    early_settlement_rebate = models.CharField(
        _("early settlement rebate"), max_length=13, choices=SettlementRebate.choices, default=SettlementRebate.NONE
    )
    guarantor_required_above = MoneyField(
        _("a guarantor is required above"),
        null=True,
        blank=True,
        help_text=_("Plans financing more than this amount need at least one guarantor. Empty: never required."),
    )
    guarantor_copy_after_days = models.PositiveSmallIntegerField(
        _("copy guarantors on reminders after days overdue"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(365)],
        help_text=_("Empty: guarantors are never copied."),
    )
    contract_clauses = models.JSONField(
        _("contract clauses"),
        default=dict,
        blank=True,
        help_text=_("The merchant's own clauses printed on every contract, one text per language code."),
    )
    # The customer portal (/portal/ and the borrower API /api/portal/).
    portal_enabled = models.BooleanField(
        _("customer portal"),
        default=False,
        help_text=_("Customers open their plans, schedule and receipts with a personal link or a one-time code."),
    )
    portal_self_registration = models.BooleanField(
        _("customers may register themselves on the portal"),
        default=False,
        help_text=_("A new customer signs up on the portal, verified by a code sent to their phone."),
    )
    portal_transfer_reports = models.BooleanField(
        _("customers may report transfers on the portal"),
        default=True,
        help_text=_("A bank transfer or wallet payment reported by a customer waits for staff to confirm it."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Counter behind the human plan number (P-000042); incremented under the merchant row's lock.
    last_plan_number = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(late_fee_amount__gte=0), name="merchant_late_fee_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(guarantor_required_above__isnull=True) | Q(guarantor_required_above__gte=0),
                name="merchant_guarantor_threshold_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(late_fee_cap__isnull=True) | Q(late_fee_cap__gt=0), name="merchant_late_fee_cap_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(late_fee_percent__gte=0) & Q(late_fee_percent__lte=100),
                name="merchant_late_fee_percent_range",
            ),
            models.CheckConstraint(
                condition=~Q(late_fee_method="fixed") | Q(late_fee_amount__gt=0),
                name="merchant_fixed_late_fee_positive",
            ),
            models.CheckConstraint(
                condition=~Q(late_fee_method="percent") | Q(late_fee_percent__gt=0),
                name="merchant_percent_late_fee_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    CLERK = "clerk", _("Clerk")
    VIEWER = "viewer", _("Viewer")


class StaffUserManager(UserManager):
    """Log-in finds a user whatever the capitals typed: ``OwnerB`` and ``ownerb`` are one username."""

    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A member of a merchant's staff with one role; platform admins are superusers with no merchant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("merchant"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CLERK)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)

    objects = StaffUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_superuser=True) | Q(merchant__isnull=False),
                name="user_staff_belongs_to_merchant",
            ),
            # Two usernames that differ only in capitals would log in as each other (log-in ignores capitals).
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_unique_ignoring_case",
                violation_error_message=_("A user with that username already exists."),
            ),
            # A password-reset mail goes to every account of the address: within a merchant it names one person.
            models.UniqueConstraint(
                "merchant",
                Lower("email"),
                condition=~Q(email=""),
                name="user_email_unique_per_merchant",
                violation_error_message=_("Another member of staff of this merchant has this e-mail address."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class IdempotencyRecord(models.Model):
    """The first successful answer to an API request made with an ``Idempotency-Key``, replayed for repeats.

    The unique key makes a concurrent twin wait on the first request's transaction, then replay its answer.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=50)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    user = models.ForeignKey("taqsit.User", on_delete=models.SET_NULL, null=True, related_name="+")
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "scope", "key"], name="idempotency_key_unique_per_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
