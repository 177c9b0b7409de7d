"""Notifications to customers (SMS, WhatsApp, e-mail) and staff (in-app) and each merchant's notification policy. The
record of the daily runs is the daily run's own (dailyrun/models.py)."""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import PhoneChannel
from taqsit.models import Merchant
from taqsit.tenancy import TenantModel, TenantQuerySet


def default_overdue_alert_days() -> list[int]:
    return [1, 7, 30]


class NotificationSettings(models.Model):
    """A merchant's notification policy; a merchant without a row gets the defaults below."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="notification_settings", verbose_name=_("merchant")
    )
    sms_enabled = models.BooleanField(_("send SMS to customers"), default=True)
    email_enabled = models.BooleanField(_("send e-mail to customers"), default=True)
    whatsapp_enabled = models.BooleanField(
        _("send WhatsApp messages to customers"),
        default=False,
        help_text=_("A message that cannot reach a number on WhatsApp goes by SMS instead, when SMS is on."),
    )
    phone_channel = models.CharField(
        _("customers' phone messages by"),
        max_length=10,
        choices=PhoneChannel.choices,
        default=PhoneChannel.WHATSAPP,
        help_text=_("For customers who chose no channel, when both WhatsApp and SMS are on."),
    )
    staff_digest_enabled = models.BooleanField(_("daily in-app digest for staff"), default=True)
    receipts_enabled = models.BooleanField(
        _("send receipts to customers"),
        default=True,
        help_text=_("A message with the amount and what is still owed for every payment received."),
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours start"),
        null=True,
        blank=True,
        default=time(21, 0),
        help_text=_("In the merchant's time zone. No SMS or e-mail leaves between start and end."),
    )
    quiet_hours_end = models.TimeField(_("quiet hours end"), null=True, blank=True, default=time(8, 0))
    overdue_alert_days = ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(365)]),
        verbose_name=_("overdue alert days"),
        default=default_overdue_alert_days,
        blank=True,
        size=10,
        help_text=_("Days overdue on which the customer is alerted, e.g. 1,7,30."),
    )

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.CheckConstraint(
                condition=(Q(quiet_hours_start__isnull=True) & Q(quiet_hours_end__isnull=True))
                | (Q(quiet_hours_start__isnull=False) & Q(quiet_hours_end__isnull=False)),
                name="notification_settings_quiet_hours_both_or_none",
            ),
        ]

    def __str__(self) -> str:
        return str(self.merchant)


class Notification(TenantModel):
    """One message to one recipient on one channel: about one installment (reminders, alerts) for one day, a
    plan's decision, a payment (its receipt, or that it failed), a staff digest for one day, or an overdue
    installment told to one of the plan's guarantors (once).

    Unique on (installment, kind, channel, day), (plan, kind, channel) for decisions, (payment, kind, channel)
    for payment messages, and (user, kind, channel, day) for staff digests, so a job that runs twice, two beats,
    or a signal received twice never queues (and so never sends) the same message twice.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")
        IN_APP = "in_app", _("In-app")
        WHATSAPP = "whatsapp", _("WhatsApp")

    class Kind(models.TextChoices):
        REMINDER_UPCOMING = "reminder_upcoming", _("Upcoming due date")
        REMINDER_DUE_TODAY = "reminder_due_today", _("Due today")
        OVERDUE_ALERT = "overdue_alert", _("Overdue")
        STAFF_DIGEST = "staff_digest", _("Daily digest")
        PLAN_APPROVED = "plan_approved", _("Plan approved")
        PLAN_REJECTED = "plan_rejected", _("Application rejected")
        PAYMENT_RECEIPT = "payment_receipt", _("Payment receipt")
        PAYMENT_FAILED = "payment_failed", _("Payment not confirmed")
        GUARANTOR_OVERDUE = "guarantor_overdue", _("Overdue, to the guarantor")

    # The customer's messages about one event, sent once (not about an installment on a day).
    DECISION_KINDS = ("plan_approved", "plan_rejected")
    PAYMENT_KINDS = ("payment_receipt", "payment_failed")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Not sent on purpose: the customer opted out, or the message stopped being true (paid, or its day passed).
        SKIPPED = "skipped", _("Skipped")

    class DeliveryStatus(models.TextChoices):
        """What the provider's status webhook last said of a sent WhatsApp message."""

        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("customer"),
    )
    # A plan's guarantor, copied on an overdue installment (the merchant's ``guarantor_copy_after_days``).
    guarantor = models.ForeignKey(
        "installments.Guarantor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("guarantor"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("staff user"),
    )
    # CASCADE: a plan deleted as a mistake (nothing ever paid) takes its reminders with it.
    installment = models.ForeignKey(
        "installments.Installment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("installment"),
    )
    # A decision's plan (and a payment message's plan, for the customer's list per plan). CASCADE as above.
    plan = models.ForeignKey(
        "installments.InstallmentPlan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("plan"),
    )
    # A payment's receipt, or that it could not be confirmed. Payments are never deleted (withdrawn ones are voided).
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("payment"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    day = models.DateField(_("day"), help_text=_("The merchant's day the message is for."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"), blank=True)
    send_after = models.DateTimeField(_("not before"), help_text=_("Quiet hours hold a message until then."))
    dispatched_at = models.DateTimeField(_("handed to a worker at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    provider_id = models.CharField(_("provider's message id"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # WhatsApp: the template the message goes as and its body's parameters, in order (a reminder's are written
    # when it is sent, a decision's or a payment's when it is queued, as its body is).
    template = models.CharField(_("template"), max_length=100, blank=True)
    template_parameters = models.JSONField(_("template parameters"), default=list, blank=True)
    # The provider's status webhook: sent, delivered, read or failed, and when (the provider's time).
    delivery_status = models.CharField(_("delivery status"), max_length=10, choices=DeliveryStatus.choices, blank=True)
    delivery_status_at = models.DateTimeField(_("delivery status at"), null=True, blank=True)
    # An SMS sent instead of a WhatsApp message that could not be delivered (not a WhatsApp number, a permanent
    # failure at sending or reported later): at most one per WhatsApp message.
    fallback_for = models.OneToOneField(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="fallback",
        verbose_name=_("instead of"),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["installment", "kind", "channel", "day"],
                condition=Q(guarantor__isnull=True),
                name="notification_once_per_installment_day",
            ),
            # A guarantor hears of an overdue installment once, whatever the day.
            models.UniqueConstraint(
                fields=["installment", "guarantor", "kind", "channel"],
                condition=Q(guarantor__isnull=False),
                name="notification_guarantor_once_per_installment",
            ),
            models.UniqueConstraint(
                fields=["plan", "kind", "channel"],
                condition=Q(kind__in=["plan_approved", "plan_rejected"]),
                name="notification_once_per_plan_decision",
            ),
            models.UniqueConstraint(
                fields=["payment", "kind", "channel"],
                condition=Q(payment__isnull=False),
                name="notification_once_per_payment",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["plan_approved", "plan_rejected"]) | Q(plan__isnull=False),
                name="notification_decision_has_plan",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "channel", "day"],
                condition=Q(installment__isnull=True),
                name="notification_once_per_user_day",
            ),
            models.CheckConstraint(
                condition=(Q(customer__isnull=False) & Q(user__isnull=True) & Q(guarantor__isnull=True))
                | (Q(customer__isnull=True) & Q(user__isnull=False) & Q(guarantor__isnull=True))
                | (Q(customer__isnull=True) & Q(user__isnull=True) & Q(guarantor__isnull=False)),
                name="notification_one_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notification_sent_has_sent_at"
            ),
            models.CheckConstraint(
                condition=Q(fallback_for__isnull=True) | Q(channel="sms"), name="notification_fallback_is_sms"
            ),
        ]
        indexes = [
            # The dispatcher: queued messages whose quiet hours are over.
            models.Index(fields=["send_after"], condition=Q(status="queued"), name="notification_queued"),
            # A staff user's in-app inbox.
            models.Index(fields=["user", "channel", "-created_at"], name="notification_inbox"),
            # What a customer was sent (the portal's list of messages).
            models.Index(fields=["customer", "-created_at"], name="notification_customer_inbox"),
            # The status webhook finds a message by the provider's id (notification_provider_owner()).
            models.Index(
                fields=["provider_id"],
                condition=Q(channel="whatsapp") & ~Q(provider_id=""),
                name="notification_whatsapp_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_channel_display()}) {self.day}"
