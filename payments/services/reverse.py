"""Money back and corrections: refund or void a completed payment (reversal lines appended, nothing updated
away), edit a payment's notes and reference, withdraw one that never moved money."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from installments.models import Installment, InstallmentPlan
from installments.services import installment_status_for
from installments.summaries import plan_totals_tracked
from payments.models import PAYMENT_ACTION_STATUSES, Payment, PaymentAllocation
from payments.services._common import Kind, _payment_lock, _plan_after_money, collections_add, money_announce
from payments.services.allocation import ROW_PAID_FIELDS, row_paid_apply
from taqsit import audit
from taqsit.dates import merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.models import User
from taqsit.money import ZERO
from taqsit.permissions import Action, permission_require


def _carry_onto_schedule(plan: InstallmentPlan, rows: dict, *, principal: Decimal, interest: Decimal) -> None:
    """Money a reversal makes owed again on a row no longer in force (a superseded row, the down payment) is
    added to the schedule in force: the first unpaid installment, or the last one when all are paid, so whatever
    the plan owes stays collectable and the schedule still adds up to the total payable."""
    current = list(Installment.objects.select_for_update(of=("self",)).current().filter(plan=plan).order_by("number"))
    target = next((row for row in current if row.amount_paid < row.amount_due), current[-1])
    target = rows.setdefault(target.pk, target)
    target.principal += principal
    target.interest += interest
    target.amount_due = target.principal + target.interest


def _expected_down_payment_owed(plan: InstallmentPlan, payment: Payment) -> None:
    """An expected down payment that never came (failed, or voided while pending) is owed on the schedule in
    force, as a refunded one is: collectable with the installments, and the schedule still adds up."""
    rows: dict = {}
    _carry_onto_schedule(plan, rows, principal=payment.amount, interest=ZERO)
    today = merchant_today(plan.merchant)
    for row in rows.values():
        row.status = installment_status_for(row, today=today, grace_days=plan.merchant.grace_days)
        if row.status != Installment.Status.PAID:
            row.paid_on = None
        row.updated_at = timezone.now()
    Installment.objects.bulk_update(
        list(rows.values()), ["principal", "interest", "amount_due", "status", "paid_on", "updated_at"]
    )


def _reverse(payment: Payment, plan: InstallmentPlan, *, actor: User, reason: str, status: str) -> Payment:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason.")})
    was_completed = payment.status == Payment.Status.COMPLETED
    action = "refund" if status == Payment.Status.REFUNDED else "void"
    if payment.status not in PAYMENT_ACTION_STATUSES[action]:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Payment %(number)s is %(status)s.")
                    % {"number": payment.payment_number, "status": payment.get_status_display().lower()},
                    code=ErrorCode.INVALID_STATUS,
                )
            }
        )
    if was_completed:
        lines = list(payment.allocations.filter(reversal_of__isnull=True, amount__gt=0))
        rows = {
            row.pk: row
            for row in Installment.objects.select_for_update(of=("self",)).filter(
                pk__in=[line.installment_id for line in lines if line.installment_id]
            )
        }
        today = merchant_today(plan.merchant)
        carried = {Kind.PRINCIPAL: ZERO, Kind.INTEREST: ZERO}
        for line in lines:
            row = rows.get(line.installment_id)
            if row is None:
                carried[Kind.PRINCIPAL] += line.amount  # the down payment is owed again
                continue
            row_paid_apply(row, line.kind, -line.amount)
            if line.kind in (Kind.LATE_FEE, Kind.CHARITY_FEE):
                continue
            if row.superseded_at is not None and line.kind != Kind.REBATE:
                carried[line.kind] += line.amount
        if carried[Kind.PRINCIPAL] or carried[Kind.INTEREST]:
            _carry_onto_schedule(plan, rows, principal=carried[Kind.PRINCIPAL], interest=carried[Kind.INTEREST])
        for row in rows.values():
            row.amount_paid = row.principal_paid + row.interest_paid
            row.status = installment_status_for(row, today=today, grace_days=plan.merchant.grace_days)
            if row.status != Installment.Status.PAID:
                row.paid_on = None
        # What an allocation changes on a row, and the schedule's amounts a carried reversal moves.
        Installment.objects.bulk_update(list(rows.values()), [*ROW_PAID_FIELDS, "principal", "interest", "amount_due"])
        reversals = PaymentAllocation.objects.bulk_create(
            [
                PaymentAllocation(
                    merchant_id=plan.merchant_id,
                    payment=payment,
                    installment_id=line.installment_id,
                    kind=line.kind,
                    amount=-line.amount,
                    reversal_of=line,
                )
                for line in lines
            ]
        )
        collections_add(reversals)
    elif payment.is_down_payment:
        _expected_down_payment_owed(plan, payment)
    payment.status = status
    payment.reversed_by = actor
    payment.reversed_at = timezone.now()
    payment.reversal_reason = reason
    payment.save(update_fields=["status", "reversed_by", "reversed_at", "reversal_reason", "updated_at"])
    if was_completed:
        # A settlement's rebate lines are reversed with its money: the interest they forgave is owed again.
        rebate = sum((line.amount for line in lines if line.kind == Kind.REBATE), ZERO)
        _plan_after_money(plan, -payment.amount, rebate=-rebate)
    money_announce(payment, "payment.refunded" if status == Payment.Status.REFUNDED else "payment.voided")
    return payment


@audit.action("payment.refund")
@transaction.atomic
def payment_refund(*, actor: User, payment: Payment, reason: str) -> Payment:
    """Give a completed payment back: its allocations are reversed and the plan re-opened if it was completed."""
    permission_require(actor, Action.PAYMENT_REVERSE)
    payment, plan = _payment_lock(payment, actor)
    with plan_totals_tracked(plan=plan):
        return _reverse(payment, plan, actor=actor, reason=reason, status=Payment.Status.REFUNDED)


@audit.action("payment.void")
@transaction.atomic
def payment_void(*, actor: User, payment: Payment, reason: str) -> Payment:
    """Cancel a payment recorded in error (completed or pending): reversed like a refund, marked voided."""
    permission_require(actor, Action.PAYMENT_REVERSE)
    payment, plan = _payment_lock(payment, actor)
    with plan_totals_tracked(plan=plan):
        return _reverse(payment, plan, actor=actor, reason=reason, status=Payment.Status.VOIDED)


@audit.action("payment.update")
@transaction.atomic
def payment_update(*, actor: User, payment: Payment, notes: str | None = None, reference: str | None = None) -> Payment:
    """Only a payment's notes and reference change in place; its amount and date are history."""
    permission_require(actor, Action.PAYMENT_RECORD)
    payment, _plan = _payment_lock(payment, actor)
    if notes is not None:
        payment.notes = notes
    if reference is not None:
        payment.reference = reference.strip()
    payment.save(update_fields=["notes", "reference", "updated_at"])
    return payment


@audit.action("payment.delete")
@transaction.atomic
def payment_delete(*, actor: User, payment: Payment, reason: str = "Deleted") -> Payment:
    """Withdraw a payment that never moved money (pending or failed). The row stays, voided, so payment
    numbers remain gapless and the history complete; a completed payment is refunded or voided instead."""
    permission_require(actor, Action.PAYMENT_RECORD)
    payment, _plan = _payment_lock(payment, actor)
    if payment.status not in PAYMENT_ACTION_STATUSES["delete"]:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Payment %(number)s moved money: refund or void it instead.")
                    % {"number": payment.payment_number},
                    code=ErrorCode.HAS_MONEY,
                )
            }
        )
    payment.status = Payment.Status.VOIDED
    payment.reversed_by = actor
    payment.reversed_at = timezone.now()
    payment.reversal_reason = (reason or "").strip() or "Deleted"
    payment.save(update_fields=["status", "reversed_by", "reversed_at", "reversal_reason", "updated_at"])
    money_announce(payment, "payment.voided")
    return payment
