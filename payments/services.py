"""The ledger: post, complete, fail, refund and void payments, each in one transaction under the plan's lock.

Allocation order for a completed payment (``payments.allocation``, a pure function): late fees first (oldest
installment first), then the oldest unpaid installment, interest before principal, then the next. A refund or
void appends reversal lines; nothing that moved money is updated away or deleted.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from installments.locks import plan_lock
from installments.models import Installment, InstallmentPlan
from installments.selectors import installments_overdue_of, overdue_cutoff
from installments.services import installment_status_for
from payments.allocation import AllocationRow, allocation_split
from payments.models import PAYMENT_ACTION_STATUSES, Payment, PaymentAllocation
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.metrics import payment_posted
from taqsit.models import User
from taqsit.money import ZERO, as_decimal, decimal_places_message, is_exact, to_money
from taqsit.money_format import money_figure
from taqsit.permissions import Action, permission_require

PlanStatus = InstallmentPlan.Status
Kind = PaymentAllocation.Kind


def _actor_sees(actor: User, merchant_id) -> None:
    if not actor.is_superuser and actor.merchant_id != merchant_id:
        raise InstallmentPlan.DoesNotExist("No InstallmentPlan matches the given query.")


def _amount_parse(amount: Any, currency: str) -> Decimal:
    try:
        value = as_decimal(amount)
    except (ValidationError, TypeError) as exc:
        raise ValidationError({"amount": _("%(value)s is not an amount.") % {"value": repr(amount)}}) from exc
    if value <= 0:
        raise ValidationError(
            {
                "amount": _("The amount must be greater than zero, not %(amount)s.")
                % {"amount": money_figure(value, currency)}
            }
        )
    if not is_exact(value, currency):
        raise ValidationError({"amount": decimal_places_message(value, currency)})
    return to_money(value, currency)


def _rows_for_allocation(plan: InstallmentPlan, *, lock: bool = True) -> list[Installment]:
    """The rows in force and every row with a late fee open, oldest first: what a payment can go to, and all a
    receipt's figures need (rows already paid are locked too: cheap, and the plan's lock is held anyway)."""
    rows = Installment.objects.select_for_update(of=("self",)) if lock else Installment.objects.all()
    return list(
        rows.filter(plan=plan)
        .filter(Q(late_fee_paid__lt=F("late_fee")) | Q(superseded_at__isnull=True))
        .order_by("due_date", "number", "created_at")
    )


def _receipt_figures(plan: InstallmentPlan, rows: list[Installment], *, amount_paid: Decimal) -> dict[str, Any]:
    """What a receipt shows of the plan once ``amount_paid`` has been received, from ``rows`` as they stand
    (``_rows_for_allocation``'s, allocated in memory): the same definitions as ``plan_summary``."""
    currency = plan.merchant.currency
    current = sorted((row for row in rows if row.superseded_at is None), key=lambda row: (row.number, row.created_at))
    unpaid = [row for row in current if row.amount_paid < row.amount_due]
    fees_open = sum((row.late_fee - row.late_fee_paid for row in rows), ZERO)
    balance = plan.total_payable + plan.late_fees - amount_paid
    next_row = unpaid[0] if unpaid and balance > 0 else None
    next_amount = (next_row.amount_due - next_row.amount_paid if next_row else ZERO) + fees_open
    return {
        "paid_after": to_money(amount_paid, currency),
        "balance_after": to_money(balance, currency),
        "installments_paid_after": len(current) - len(unpaid),
        "next_due_date_after": next_row.due_date if next_row else None,
        "next_amount_due_after": to_money(next_amount, currency),
    }


RECEIPT_FIELDS = (
    "paid_after",
    "balance_after",
    "installments_paid_after",
    "next_due_date_after",
    "next_amount_due_after",
)


_PAID_FIELD = {Kind.LATE_FEE: "late_fee_paid", Kind.INTEREST: "interest_paid", Kind.PRINCIPAL: "principal_paid"}


def _allocate(
    payment: Payment, plan: InstallmentPlan, rows: list[Installment]
) -> tuple[list[PaymentAllocation], list[Installment]]:
    """Spread a completed payment over fees, interest and principal of ``rows`` (``_rows_for_allocation``) by
    ``allocation_split``, in memory; the caller has checked it fits the balance, sets the receipt's figures, then
    ``_allocation_save``."""
    today = merchant_today(plan.merchant)
    grace = plan.merchant.grace_days
    split = allocation_split(
        rows=[
            AllocationRow(
                installment_id=row.pk,
                number=row.number,
                late_fee=row.late_fee - row.late_fee_paid,
                interest=row.interest - row.interest_paid,
                principal=row.principal - row.principal_paid,
                in_force=row.superseded_at is None,
            )
            for row in rows
        ],
        amount=payment.amount,
    )
    remaining = payment.amount - sum((line.amount for line in split), ZERO)
    if remaining != 0:
        # The balance check happens under the same lock, so this means the totals drifted: refuse loudly.
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("%(amount)s of the payment could not be allocated.") % {"amount": remaining},
                    code=ErrorCode.UNALLOCATED,
                )
            }
        )
    by_id = {row.pk: row for row in rows}
    touched: dict[Any, Installment] = {}
    lines: list[PaymentAllocation] = []
    for line in split:
        row = touched.setdefault(line.installment_id, by_id[line.installment_id])
        field = _PAID_FIELD[line.kind]
        setattr(row, field, getattr(row, field) + line.amount)
        lines.append(
            PaymentAllocation(
                merchant_id=plan.merchant_id, payment=payment, installment=row, kind=line.kind, amount=line.amount
            )
        )
    for row in touched.values():
        row.amount_paid = row.principal_paid + row.interest_paid
        row.status = installment_status_for(row, today=today, grace_days=grace)
        if row.status == Installment.Status.PAID and row.paid_on is None:
            row.paid_on = payment.payment_date
    return lines, list(touched.values())


def _allocation_save(lines: list[PaymentAllocation], touched: list[Installment]) -> None:
    """Write what ``_allocate`` worked out, once the payment row exists."""
    # One UPDATE per row (a payment touches one or two as a rule): cheaper to build than bulk_update's CASE.
    for row in touched:
        row.save(
            update_fields=[
                "late_fee_paid",
                "interest_paid",
                "principal_paid",
                "amount_paid",
                "status",
                "paid_on",
                "updated_at",
            ]
        )
    PaymentAllocation.objects.bulk_create(lines)


def _plan_after_money(plan: InstallmentPlan, delta: Decimal) -> None:
    """Apply ``delta`` to the plan's amount paid and move it between active, defaulted and completed; every
    movement of money (post, complete, refund, void, down payment) passes here, so the statistics are dropped.
    Saves the plan in one UPDATE, with the payment number ``_payment_number`` took (under the plan's lock)."""
    merchant_stats_invalidate(plan.merchant_id)
    plan.amount_paid += delta
    if plan.is_open and plan.remaining_balance == 0:
        plan.status = PlanStatus.COMPLETED
        plan.status_changed_at = timezone.now()
        plan.status_reason = ""
    elif plan.status == PlanStatus.COMPLETED and plan.remaining_balance > 0:
        plan.status = PlanStatus.ACTIVE
        plan.status_changed_at = timezone.now()
        plan.status_reason = "Re-opened by a refund."
    elif (
        plan.status == PlanStatus.DEFAULTED
        and not installments_overdue_of(plan=plan, cutoff=overdue_cutoff(plan.merchant)).exists()
    ):
        plan.status = PlanStatus.ACTIVE
        plan.status_changed_at = timezone.now()
        plan.status_reason = InstallmentPlan.RESTORED_REASON
    plan.save(
        update_fields=[
            "amount_paid",
            "status",
            "status_changed_at",
            "status_reason",
            "last_payment_number",
            "updated_at",
        ]
    )


def _payment_number(plan: InstallmentPlan, requested: int | None) -> int:
    """The plan's next payment number, taken on the locked plan; the caller saves the plan (``_plan_after_money``
    or, for a payment that moves no money yet, ``_plan_number_save``)."""
    expected = plan.last_payment_number + 1
    if requested not in (None, ""):
        try:
            requested = int(requested)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                {"payment_number": _("%(value)s is not a whole number.") % {"value": repr(requested)}}
            ) from exc
        if requested != expected:
            raise ValidationError(
                {
                    "payment_number": _("Payment number %(number)s is not the next one; the next is %(next)s.")
                    % {"number": requested, "next": expected}
                }
            )
    plan.last_payment_number = expected
    return expected


def _plan_number_save(plan: InstallmentPlan) -> None:
    plan.save(update_fields=["last_payment_number", "updated_at"])


def _replay(merchant_id, key: str, *, plan_id, amount: Decimal) -> Payment | None:
    """The payment an idempotency key already recorded; the same key for another payment is refused."""
    existing = Payment.objects.filter(merchant_id=merchant_id, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.plan_id != plan_id or existing.amount != amount:
        raise ValidationError(
            {
                "idempotency_key": ValidationError(
                    _("This idempotency key was already used for a different payment."),
                    code=ErrorCode.IDEMPOTENCY_MISMATCH,
                )
            }
        )
    return existing


def _closed_plan_message(plan: InstallmentPlan) -> str:
    return _("Plan %(plan)s is %(status)s: it takes no payments.") % {
        "plan": plan.reference,
        "status": plan.get_status_display().lower(),
    }


def _not_pending_message(payment: Payment) -> str:
    return _("Payment %(number)s is %(status)s, not pending.") % {
        "number": payment.payment_number,
        "status": payment.get_status_display().lower(),
    }


def _balance_check(plan: InstallmentPlan, amount: Decimal) -> None:
    if amount > plan.remaining_balance:
        # A pending payment's amount comes back from the database with three places: show both in the unit.
        currency = plan.merchant.currency
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("%(amount)s exceeds the remaining balance %(remaining)s of plan %(plan)s.")
                    % {
                        "amount": to_money(amount, currency),
                        "remaining": to_money(plan.remaining_balance, currency),
                        "plan": plan.reference,
                    },
                    code=ErrorCode.OVERPAYMENT,
                )
            }
        )


@audit.action("payment.post")
@transaction.atomic
def payment_post(
    *,
    actor: User,
    plan: InstallmentPlan,
    amount: Any,
    payment_date: date | None = None,
    payment_method: str = Payment.Method.CASH,
    reference: str = "",
    notes: str = "",
    status: str = Payment.Status.COMPLETED,
    payment_number: int | None = None,
    idempotency_key: str | None = None,
    replay: bool = True,
) -> Payment:
    """Record a payment on an active or defaulted plan and, when completed, allocate it oldest-first.

    The balance can never go below zero; the same ``idempotency_key`` returns the first payment and records
    nothing new (``replay=False``: the caller's own record answers repeats, the key is only kept on the row).
    """
    permission_require(actor, Action.PAYMENT_RECORD)
    _actor_sees(actor, plan.merchant_id)
    currency = plan.merchant.currency
    value = _amount_parse(amount, currency)
    key = (idempotency_key or "").strip() or None
    errors: dict[str, list[str]] = {}
    if payment_method not in Payment.Method.values:
        errors["payment_method"] = [_("%(value)s is not a payment method.") % {"value": repr(payment_method)}]
    if status not in (Payment.Status.COMPLETED, Payment.Status.PENDING):
        errors["status"] = [
            _("A payment is recorded as completed or pending, not %(value)s.") % {"value": repr(status)}
        ]
    today = merchant_today(plan.merchant)
    payment_date = payment_date or today
    if payment_date > today:
        errors["payment_date"] = [_("The payment date %(date)s is in the future.") % {"date": payment_date}]
    else:
        dates_bound_check(errors, today, payment_date=payment_date)
    if errors:
        raise ValidationError(errors)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    if key and replay:
        # Checked under the plan's lock: a twin request that committed while we waited for it is seen.
        existing = _replay(plan.merchant_id, key, plan_id=plan.pk, amount=value)
        if existing is not None:
            return existing
    if not plan.is_open:
        raise ValidationError({"plan": ValidationError(_closed_plan_message(plan), code=ErrorCode.INVALID_STATUS)})
    # A plan starting later is paid from the day it was agreed (its down payment is recorded that day).
    agreed_on = timezone.localtime(plan.created_at, plan.merchant.tzinfo).date()
    if payment_date < min(plan.start_date, agreed_on):
        if plan.start_date <= agreed_on:
            message = _("The payment date %(date)s is before the plan started (%(start)s).")
        else:
            message = _("The payment date %(date)s is before plan %(plan)s was agreed (%(start)s).")
        raise ValidationError(
            {
                "payment_date": message
                % {"date": payment_date, "start": min(plan.start_date, agreed_on), "plan": plan.reference}
            }
        )
    if status == Payment.Status.COMPLETED:
        _balance_check(plan, value)
    number = _payment_number(plan, payment_number)
    payment = Payment(
        merchant_id=plan.merchant_id,
        plan=plan,
        payment_number=number,
        amount=value,
        payment_date=payment_date,
        payment_method=payment_method,
        reference=(reference or "").strip(),
        notes=notes or "",
        status=status,
        received_by=actor,
        idempotency_key=key,
    )
    completed = status == Payment.Status.COMPLETED
    rows = _rows_for_allocation(plan, lock=completed)
    lines, touched = _allocate(payment, plan, rows) if completed else ([], [])
    # The receipt's figures go in with the payment's row: allocated in memory first, written after the INSERT.
    figures = _receipt_figures(plan, rows, amount_paid=plan.amount_paid + (value if completed else ZERO))
    for name, figure in figures.items():
        setattr(payment, name, figure)
    payment.save(force_insert=True)
    if completed:
        _allocation_save(lines, touched)
        _plan_after_money(plan, value)
    else:
        _plan_number_save(plan)
    # Counted once the payment is committed (taqsit_payments_posted_total); a replay returned above is not.
    transaction.on_commit(lambda: payment_posted(method=payment_method, status=status))
    return payment


def down_payment_record(*, plan: InstallmentPlan, actor: User | None) -> Payment | None:
    """Record the down payment as payment number 1 when a plan becomes active (inside its transaction)."""
    if plan.down_payment <= 0:
        return None
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    number = _payment_number(plan, None)
    rows = _rows_for_allocation(plan, lock=False)
    payment = Payment.objects.create(
        **_receipt_figures(plan, rows, amount_paid=plan.amount_paid + plan.down_payment),
        merchant_id=plan.merchant_id,
        plan=plan,
        payment_number=number,
        amount=plan.down_payment,
        # Received the day the plan becomes active, or on its start date when the agreement is back-dated.
        payment_date=min(merchant_today(plan.merchant), plan.start_date),
        payment_method=Payment.Method.CASH,
        status=Payment.Status.COMPLETED,
        is_down_payment=True,
        received_by=actor,
        notes="Down payment",
    )
    PaymentAllocation.objects.create(
        merchant_id=plan.merchant_id,
        payment=payment,
        installment=None,
        kind=Kind.DOWN_PAYMENT,
        amount=plan.down_payment,
    )
    _plan_after_money(plan, plan.down_payment)
    return payment


def _payment_lock(payment: Payment, actor: User) -> tuple[Payment, InstallmentPlan]:
    _actor_sees(actor, payment.merchant_id)
    plan = plan_lock(plan_id=payment.plan_id, no_key=True)
    payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
    return payment, plan


@audit.action("payment.complete")
@transaction.atomic
def payment_complete(*, actor: User, payment: Payment) -> Payment:
    """A pending payment (a cheque, a transfer) cleared: allocate it now, exactly as if it had been posted
    completed, under the plan's lock and its balance check. Completing it twice is refused, never allocated twice."""
    permission_require(actor, Action.PAYMENT_RECORD)
    payment, plan = _payment_lock(payment, actor)
    if payment.status not in PAYMENT_ACTION_STATUSES["complete"]:
        raise ValidationError({"status": ValidationError(_not_pending_message(payment), code=ErrorCode.INVALID_STATUS)})
    if not plan.is_open:
        raise ValidationError({"plan": ValidationError(_closed_plan_message(plan), code=ErrorCode.INVALID_STATUS)})
    _balance_check(plan, payment.amount)
    rows = _rows_for_allocation(plan)
    lines, touched = _allocate(payment, plan, rows)
    payment.status = Payment.Status.COMPLETED
    payment.settled_by = actor
    payment.settled_at = timezone.now()
    for name, figure in _receipt_figures(plan, rows, amount_paid=plan.amount_paid + payment.amount).items():
        setattr(payment, name, figure)
    payment.save(update_fields=["status", "settled_by", "settled_at", *RECEIPT_FIELDS, "updated_at"])
    _allocation_save(lines, touched)
    _plan_after_money(plan, payment.amount)
    return payment


@audit.action("payment.fail")
@transaction.atomic
def payment_fail(*, actor: User, payment: Payment, reason: str = "") -> Payment:
    """A pending payment did not clear (a bounced cheque): marked failed with the reason; nothing was
    allocated, so no money moves."""
    permission_require(actor, Action.PAYMENT_RECORD)
    payment, _plan = _payment_lock(payment, actor)
    if payment.status not in PAYMENT_ACTION_STATUSES["fail"]:
        raise ValidationError({"status": ValidationError(_not_pending_message(payment), code=ErrorCode.INVALID_STATUS)})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason.")})
    payment.status = Payment.Status.FAILED
    payment.settled_by = actor
    payment.settled_at = timezone.now()
    payment.reversal_reason = reason
    payment.save(update_fields=["status", "settled_by", "settled_at", "reversal_reason", "updated_at"])
    return payment


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
            if line.kind == Kind.LATE_FEE:
                row.late_fee_paid -= line.amount
                continue
            if line.kind == Kind.INTEREST:
                row.interest_paid -= line.amount
            else:
                row.principal_paid -= line.amount
            if row.superseded_at is not None:
                carried[line.kind] += line.amount
        if carried[Kind.PRINCIPAL] or carried[Kind.INTEREST]:
            _carry_onto_schedule(plan, rows, principal=carried[Kind.PRINCIPAL], interest=carried[Kind.INTEREST])
        for row in rows.values():
            row.amount_paid = row.principal_paid + row.interest_paid
            row.status = installment_status_for(row, today=today, grace_days=plan.merchant.grace_days)
            if row.status != Installment.Status.PAID:
                row.paid_on = None
        Installment.objects.bulk_update(
            list(rows.values()),
            [
                "late_fee_paid",
                "interest_paid",
                "principal_paid",
                "amount_paid",
                "principal",
                "interest",
                "amount_due",
                "status",
                "paid_on",
                "updated_at",
            ],
        )
        PaymentAllocation.objects.bulk_create(
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
    payment.status = status
    payment.reversed_by = actor
    payment.reversed_at = timezone.now()
    payment.reversal_reason = reason
    payment.save(update_fields=["status", "reversed_by", "reversed_at", "reversal_reason", "updated_at"])
    if was_completed:
        _plan_after_money(plan, -payment.amount)
    return payment


@audit.action("payment.refund")
@transaction.atomic
def payment_refund(*, actor: User, payment: Payment, reason: str) -> Payment:
    """Give a completed payment back: its allocations are reversed and the plan re-opened if it was completed."""
    permission_require(actor, Action.PAYMENT_REVERSE)
    payment, plan = _payment_lock(payment, actor)
    return _reverse(payment, plan, actor=actor, reason=reason, status=Payment.Status.REFUNDED)


@audit.action("payment.void")
@transaction.atomic
def payment_void(*, actor: User, payment: Payment, reason: str) -> Payment:
    """Cancel a payment recorded in error (completed or pending): reversed like a refund, marked voided."""
    permission_require(actor, Action.PAYMENT_REVERSE)
    payment, plan = _payment_lock(payment, actor)
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
    return payment
