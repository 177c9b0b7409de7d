"""Money in: post a payment, record a plan's down payment, complete or fail a pending payment, and the figures a
receipt shows; each in one transaction under the plan's lock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from installments.locks import plan_lock
from installments.models import Installment, InstallmentPlan
from installments.summaries import plan_totals_changed, plan_totals_in_hand, plan_totals_tracked
from payments.models import PAYMENT_ACTION_STATUSES, Payment, PaymentAllocation
from payments.selectors import allocations_known
from payments.services._common import (
    Kind,
    _actor_sees,
    _payment_lock,
    _plan_after_money,
    collections_add,
    money_announce,
)
from payments.services.allocation import _allocate, _allocation_save, _rows_for_allocation
from payments.services.reverse import _expected_down_payment_owed
from payments.signals import payment_recorded, payment_settled
from taqsit import audit
from taqsit.atomic import service_atomic
from taqsit.compiled import row_insert, row_update
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.metrics import payment_posted
from taqsit.models import User
from taqsit.money import ZERO, as_decimal, decimal_places_message, is_exact, to_money
from taqsit.money_format import money_figure
from taqsit.permissions import Action, permission_require
from taqsit.signals import send_on_commit


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


def _receipt_figures(
    plan: InstallmentPlan, rows: list[Installment], *, amount_paid: Decimal, rebates: Decimal | None = None
) -> dict[str, Any]:
    """What a receipt shows of the plan once ``amount_paid`` has been received (and ``rebates`` granted, the
    plan's by default), from ``rows`` as they stand (``_rows_for_allocation``'s, allocated in memory): the same
    definitions as ``plan_summary``."""
    currency = plan.merchant.currency
    current = sorted((row for row in rows if row.superseded_at is None), key=lambda row: (row.number, row.created_at))
    unpaid = [row for row in current if row.amount_paid < row.amount_due]
    fees_open = sum((row.late_fee - row.late_fee_paid for row in rows), ZERO)
    balance = plan.total_payable + plan.late_fees - amount_paid - (plan.rebates if rebates is None else rebates)
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
    row_update(plan, ("last_payment_number", "updated_at"))


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


def _payment_date_check(plan: InstallmentPlan, payment_date: date) -> None:
    """A plan starting later is paid from the day it was agreed (its down payment is recorded that day)."""
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
@service_atomic  # a savepoint when nested, but not in the API's idempotent request (taqsit/atomic.py)
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
    Of ``plan`` only its id and merchant are read before it is locked (the API passes no more); a plan the
    actor's merchant does not have is ``InstallmentPlan.DoesNotExist``. The payment comes back with its
    allocations (``payment.allocations.all()`` reads no more).
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
    # With the merchant already read for the currency and the day (the request's, for the API), not read again.
    plan = plan_lock(plan_id=plan.pk, no_key=True, merchant=plan.merchant)
    _actor_sees(actor, plan.merchant_id)  # the row as locked, not the caller's word for its merchant
    if key and replay:
        # Checked under the plan's lock: a twin request that committed while we waited for it is seen.
        existing = _replay(plan.merchant_id, key, plan_id=plan.pk, amount=value)
        if existing is not None:
            return existing
    if not plan.is_open:
        raise ValidationError({"plan": ValidationError(_closed_plan_message(plan), code=ErrorCode.INVALID_STATUS)})
    _payment_date_check(plan, payment_date)
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
    before = plan_totals_in_hand(plan, rows)
    lines, touched = _allocate(payment, plan, rows) if completed else ([], [])
    # The receipt's figures go in with the payment's row: allocated in memory first, written after the INSERT.
    figures = _receipt_figures(plan, rows, amount_paid=plan.amount_paid + (value if completed else ZERO))
    for name, figure in figures.items():
        setattr(payment, name, figure)
    row_insert(payment)
    plan_completed = False
    if completed:
        _allocation_save(lines, touched)
        plan_completed = _plan_after_money(plan, value)
        plan_totals_changed(plan=plan, before=before, after=plan_totals_in_hand(plan, rows))
    else:
        _plan_number_save(plan)
    allocations_known(payment, lines)
    money_announce(payment, "payment.posted" if completed else "payment.pending", plan_completed=plan_completed)
    # Counted once the payment is committed (taqsit_payments_posted_total); a replay returned above is not.
    transaction.on_commit(lambda: payment_posted(method=payment_method, status=status))
    if completed:
        # The customer's receipt (the notifications app listens), once committed; a replay is not told again.
        send_on_commit(payment_recorded, sender=Payment, payment=payment)
    return payment


def down_payment_record(*, plan: InstallmentPlan, actor: User | None, received: bool = True) -> Payment | None:
    """Record the down payment as payment number 1 when a plan becomes active (inside its transaction).

    ``received=False`` (a customer's application approved away from the counter): the down payment is expected,
    recorded pending, and allocated when the staff confirm it was paid (``payment_complete``)."""
    if plan.down_payment <= 0:
        return None
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    number = _payment_number(plan, None)
    rows = _rows_for_allocation(plan, lock=False)
    before = plan_totals_in_hand(plan, rows)
    if not received:
        payment = Payment.objects.create(
            **_receipt_figures(plan, rows, amount_paid=plan.amount_paid),
            merchant_id=plan.merchant_id,
            plan=plan,
            payment_number=number,
            amount=plan.down_payment,
            payment_date=merchant_today(plan.merchant),
            payment_method=Payment.Method.CASH,
            status=Payment.Status.PENDING,
            is_down_payment=True,
            received_by=None,
            notes="Down payment expected",
        )
        _plan_number_save(plan)
        money_announce(payment, "payment.pending")
        return payment
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
    line = PaymentAllocation.objects.create(
        merchant_id=plan.merchant_id,
        payment=payment,
        installment=None,
        kind=Kind.DOWN_PAYMENT,
        amount=plan.down_payment,
    )
    collections_add([line])
    plan_completed = _plan_after_money(plan, plan.down_payment)
    plan_totals_changed(plan=plan, before=before, after=plan_totals_in_hand(plan, rows))
    money_announce(payment, "payment.posted", plan_completed=plan_completed)
    return payment


def _settled_tell(payment: Payment, outcome: str, reason: str) -> None:
    """The customer is told a pending payment's outcome (the notifications app listens) once it is committed; a
    listener's error is logged, it does not undo or fail the confirmation."""
    send_on_commit(payment_settled, sender=Payment, payment=payment, outcome=outcome, reason=reason)


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
    before = plan_totals_in_hand(plan, rows)
    if payment.is_down_payment:
        # An expected down payment now paid: held as the down payment, as ``down_payment_record`` holds one.
        lines = [
            PaymentAllocation(
                merchant_id=plan.merchant_id,
                payment=payment,
                installment=None,
                kind=Kind.DOWN_PAYMENT,
                amount=payment.amount,
            )
        ]
        touched = []
    else:
        lines, touched = _allocate(payment, plan, rows)
    payment.status = Payment.Status.COMPLETED
    payment.settled_by = actor
    payment.settled_at = timezone.now()
    for name, figure in _receipt_figures(plan, rows, amount_paid=plan.amount_paid + payment.amount).items():
        setattr(payment, name, figure)
    payment.save(update_fields=["status", "settled_by", "settled_at", *RECEIPT_FIELDS, "updated_at"])
    _allocation_save(lines, touched)
    plan_completed = _plan_after_money(plan, payment.amount)
    plan_totals_changed(plan=plan, before=before, after=plan_totals_in_hand(plan, rows))
    money_announce(payment, "payment.confirmed", plan_completed=plan_completed)
    _settled_tell(payment, "completed", "")
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
    if payment.is_down_payment:
        with plan_totals_tracked(plan=_plan):
            _expected_down_payment_owed(_plan, payment)
    money_announce(payment, "payment.failed")
    _settled_tell(payment, "failed", reason)
    return payment
