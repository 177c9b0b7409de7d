"""Customers: the people who buy on installment, with their language, channel opt-outs and preferred channel."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from taqsit.models import Language
from taqsit.phone import E164_REGEX, e164_validator
from taqsit.tenancy import TenantModel


class PhoneChannel(models.TextChoices):
    """The channels a message to a phone goes on (notifications/services.py chooses one per customer)."""

    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")


class Customer(TenantModel):
    class Origin(models.TextChoices):
        STAFF = "staff", _("Staff")
        PORTAL = "portal", _("Self-registered")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=16, validators=[e164_validator], help_text=_("E.164"))
    email = models.EmailField(_("e-mail"), blank=True)
    national_id = models.CharField(_("national id"), max_length=50, blank=True)
    address = models.TextField(_("address"), blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)
    notes = models.TextField(_("notes"), blank=True)
    sms_opt_out = models.BooleanField(_("no SMS"), default=False)
    email_opt_out = models.BooleanField(_("no e-mail"), default=False)
    # Empty: the merchant's choice (its notification settings' ``phone_channel``).
    preferred_channel = models.CharField(
        _("phone messages by"),
        max_length=10,
        choices=[("", _("The shop's choice")), *PhoneChannel.choices],
        blank=True,
        default="",
        help_text=_("WhatsApp or SMS, when the shop uses both."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    origin = models.CharField(
        _("origin"), max_length=10, choices=Origin.choices, default=Origin.STAFF, editable=False, db_index=True
    )
    # Raised when staff revoke the customer's portal links: every portal session and token carrying an older
    # epoch stops working at once (customers/portal_links.py, portal/auth.py, portal/authentication.py).
    portal_epoch = models.PositiveIntegerField(_("portal epoch"), default=0, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "phone"], name="customer_phone_unique_per_merchant"),
            models.UniqueConstraint(
                "merchant",
                Upper("national_id"),
                condition=~Q(national_id=""),
                name="customer_national_id_unique_per_merchant",
            ),
            models.CheckConstraint(condition=Q(phone__regex=E164_REGEX), name="customer_phone_e164"),
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_blank"),
        ]
        indexes = [models.Index(fields=["merchant", "name"], name="customer_merchant_name")]

    def __str__(self) -> str:
        return self.name


class PortalLink(TenantModel):
    """A customer's personal link into the portal: only the SHA-256 of its token is stored (the token itself is
    shown once, to staff, and sent in messages), so a copy of the database opens no portal."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="portal_links", verbose_name=_("customer")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal link")
        verbose_name_plural = _("portal links")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="portallink_customer_recent")]

    def __str__(self) -> str:
        return f"{self.customer} ({self.expires_at:%Y-%m-%d})"
