"""The collector's worklist: who follows up which overdue plan, each contact made, and the customers' promises
to pay, each found kept or broken from the plan's payments (collectors/services.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from taqsit.money import MoneyField
from taqsit.tenancy import TenantModel


class Assignment(TenantModel):
    """The member of staff following up a plan (one at a time; the audit trail keeps who had it before)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.OneToOneField(
        "installments.InstallmentPlan",
        on_delete=models.PROTECT,
        related_name="collector_assignment",
        verbose_name=_("plan"),
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("collector")
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned by")
    )

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "collector"], name="collector_assignment_collector")]

    def __str__(self) -> str:
        return f"{self.plan_id} -> {self.collector_id}"


class Contact(TenantModel):
    """A call, visit or message to a customer about an overdue plan, and how it went."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        MESSAGE = "message", _("Message")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        PROMISED = "promised", _("Promised to pay")
        REFUSED = "refused", _("Refused to pay")
        CALL_BACK = "call_back", _("Asked to be called back")
        NOT_HOME = "not_home", _("Not at home")
        PAID = "paid", _("Says already paid")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(
        "installments.InstallmentPlan",
        on_delete=models.PROTECT,
        related_name="collector_contacts",
        verbose_name=_("plan"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    contacted_at = models.DateTimeField(_("contacted at"))
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("made by")
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-contacted_at"]
        indexes = [
            models.Index(fields=["plan", "contacted_at"], name="collector_contact_plan"),
            models.Index(fields=["merchant", "made_by", "contacted_at"], name="collector_contact_made_by"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome}"


class Promise(TenantModel):
    """A customer's promise to pay ``amount`` on the plan by ``promised_on``.

    Kept when the plan's completed payments recorded from its making (``made_at``, on or after ``made_on``) up to
    its date (``payment_date`` on or before ``promised_on``) add up to the amount, and before the plan's next
    promise was made (``closed_at``); broken when the day after its date comes without that. A refund or a void
    is counted again: a kept promise can be broken after all. ``replaced``: a newer promise took its place while
    it was open."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        REPLACED = "replaced", _("Replaced")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(
        "installments.InstallmentPlan",
        on_delete=models.PROTECT,
        related_name="collector_promises",
        verbose_name=_("plan"),
    )
    contact = models.OneToOneField(
        Contact, on_delete=models.PROTECT, related_name="promise", null=True, blank=True, verbose_name=_("contact")
    )
    amount = MoneyField(_("amount"))
    promised_on = models.DateField(_("promised for"))
    made_at = models.DateTimeField(_("made at"))
    made_on = models.DateField(_("made on"))  # made_at's date in the merchant's time zone
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    # The plan's collector when it was made (else whoever recorded it): whose figures it counts in.
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("collector")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    amount_counted = MoneyField(_("paid toward it"), default=0)
    # When the plan's next promise was made: payments recorded from then count toward that one.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("found kept or broken at"), null=True, blank=True)

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-made_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="collector_promise_amount_gt_0"),
            models.CheckConstraint(condition=Q(amount_counted__gte=0), name="collector_promise_counted_gte_0"),
            models.CheckConstraint(condition=Q(promised_on__gte=models.F("made_on")), name="collector_promise_date"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(closed_at__isnull=True), name="collector_promise_one_current_per_plan"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "collector", "promised_on"], name="collector_promise_collector"),
            models.Index(fields=["merchant", "promised_on"], name="collector_promise_date_idx"),
            models.Index(fields=["plan", "made_at"], name="collector_promise_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} by {self.promised_on}"
