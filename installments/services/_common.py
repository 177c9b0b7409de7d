"""What the installments services share: the actor's merchant, the tenancy check, money input, a plan's rows and
its activation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from installments.models import Installment, InstallmentPlan, PlanItem
from installments.schedule import ScheduleRow
from installments.signals import plan_activated
from taqsit.events import event_emit
from taqsit.models import Merchant, User
from taqsit.money import as_decimal, decimal_places_message, is_exact
from taqsit.money_format import money_figure

Status = InstallmentPlan.Status


def _merchant_for(actor: User, merchant: Merchant | None) -> Merchant:
    if actor.is_superuser and merchant is not None:
        return merchant
    if actor.merchant is None:
        raise ValidationError({"merchant": _("Choose the merchant.")})
    return actor.merchant


def _same_merchant(actor: User, obj: Any) -> None:
    """Another merchant's object does not exist for this actor."""
    if not actor.is_superuser and obj.merchant_id != actor.merchant_id:
        raise type(obj).DoesNotExist(f"No {type(obj).__name__} matches the given query.")


def _money_check(errors: dict, field: str, value: Any, currency: str, *, allow_zero: bool = False) -> Decimal | None:
    """Parse a money input; a problem is added to ``errors`` under ``field``."""
    if value is None or value == "":
        errors[field] = [_("This field is required.")]
        return None
    try:
        amount = as_decimal(value)
    except (ValidationError, TypeError):
        errors[field] = [_("%(value)s is not an amount.") % {"value": repr(value)}]
        return None
    if amount < 0 or (amount == 0 and not allow_zero):
        errors[field] = [_("%(amount)s must be greater than zero.") % {"amount": money_figure(amount, currency)}]
    elif not is_exact(amount, currency):
        errors[field] = [decimal_places_message(amount, currency)]
    return amount


def _items_build(plan: InstallmentPlan, items) -> list[PlanItem]:
    """The plan's lines, as the terms priced them (``PlanTerms.items``), unsaved."""
    return [
        PlanItem(
            plan=plan,
            merchant_id=plan.merchant_id,
            product=item.product,
            description=item.description,
            quantity=item.quantity,
            unit_price=item.unit_price,
            line_total=item.line_total,
            serial_number=item.serial_number,
            is_open=plan.status in InstallmentPlan.SERIAL_HOLDING_STATUSES,
        )
        for item in items
    ]


def _items_create(plan: InstallmentPlan, items) -> None:
    PlanItem.objects.bulk_create(_items_build(plan, items))


def _installments_build(plan: InstallmentPlan, rows: tuple[ScheduleRow, ...] | list[ScheduleRow]) -> list[Installment]:
    """The schedule's rows as the plan's installments, unsaved."""
    return [
        Installment(
            merchant_id=plan.merchant_id,
            plan=plan,
            number=row.number,
            due_date=row.due_date,
            amount_due=row.amount,
            principal=row.principal,
            interest=row.interest,
        )
        for row in rows
    ]


def _installments_create(plan: InstallmentPlan, rows: tuple[ScheduleRow, ...] | list[ScheduleRow]) -> None:
    Installment.objects.bulk_create(_installments_build(plan, rows))


def _plan_activate(
    plan: InstallmentPlan, actor: User | None, *, event_type: str, down_payment_received: bool = True
) -> None:
    """Make the plan active and record its down payment (the payments app listens) under the plan's lock: as
    received, or, when the customer is not at the counter (``down_payment_received=False``), as expected.
    ``event_type`` (plan.created, plan.approved) is announced before the down payment's own event, so
    integrators hear of the plan first."""
    plan.status = Status.ACTIVE
    plan.status_changed_at = timezone.now()
    plan.save(update_fields=["status", "status_changed_at", "updated_at"])
    event_emit(event_type=event_type, obj=plan)
    plan_activated.send(sender=InstallmentPlan, plan=plan, actor=actor, down_payment_received=down_payment_received)
