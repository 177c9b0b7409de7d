"""Early settlement: the plan paid off at its payoff quote, the rebate recorded as its own allocation lines."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from installments.locks import plan_lock
from installments.models import Installment, InstallmentPlan
from installments.selectors import plan_payoff_quote, settlement_rows
from installments.services import installment_status_for
from installments.settlement import RebateRule, rebate_spread
from installments.summaries import plan_totals_changed, plan_totals_in_hand
from payments.models import Payment, PaymentAllocation
from payments.services._common import Kind, _actor_sees, _plan_after_money, money_announce
from payments.services.allocation import _allocate, _allocation_save, _rows_for_allocation, row_paid_apply
from payments.services.post import _closed_plan_message, _payment_date_check, _payment_number, _receipt_figures
from payments.signals import payment_recorded
from taqsit import audit
from taqsit.dates import merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.models import User
from taqsit.permissions import Action, permission_require
from taqsit.signals import send_on_commit


@audit.action("plan.settle")
@transaction.atomic
def plan_settle(
    *,
    actor: User,
    plan: InstallmentPlan,
    on: date | None = None,
    method: str = Payment.Method.CASH,
    reference: str = "",
    rebate: Any = None,
    reason: str = "",
) -> Payment:
    """Pay ``plan`` off on ``on`` (today by default) at its payoff quote, under the plan's lock: one completed
    payment of the quoted amount (fees first, then interest and principal, oldest row first) and the rebate as
    allocation lines of kind ``rebate`` on the rows whose interest it forgives (latest rows first; no money moved,
    nothing of the past edited: those rows count the interest as settled). The plan completes; the quote (date,
    rule, figures, reason) is kept on the payment for its receipt. A refund or void reverses the rebate too. The
    statistics' summary rows follow in the same transaction (the rebate lines under their own kind).

    Recording it is a clerk's act (payments: record); a discretionary rebate (murabaha) is a manager's."""
    permission_require(actor, Action.PAYMENT_RECORD)
    _actor_sees(actor, plan.merchant_id)
    today = merchant_today(plan.merchant)
    on = on or today
    errors: dict[str, list[str]] = {}
    if method not in Payment.Method.values:
        errors["payment_method"] = [_("%(value)s is not a payment method.") % {"value": repr(method)}]
    if on > today:
        errors["date"] = [_("The payment date %(date)s is in the future.") % {"date": on}]
    if errors:
        raise ValidationError(errors)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    if not plan.is_open:
        raise ValidationError({"plan": ValidationError(_closed_plan_message(plan), code=ErrorCode.INVALID_STATUS)})
    if plan.merchant.early_settlement_rebate == RebateRule.DISCRETIONARY and rebate not in (None, "", 0, "0"):
        permission_require(actor, Action.PLAN_DECIDE)
    _payment_date_check(plan, on)
    rows = _rows_for_allocation(plan)
    before = plan_totals_in_hand(plan, rows)
    quote = plan_payoff_quote(plan=plan, on=on, rows=rows, rebate=rebate, reason=reason)
    if quote.amount + quote.rebate != plan.remaining_balance:
        # Rows in force and the plan's totals disagree (a pending payment would not do this): refuse loudly.
        raise ValidationError(
            {
                "amount": ValidationError(
                    _("The quote %(amount)s does not close plan %(plan)s, whose balance is %(balance)s.")
                    % {"amount": quote.amount, "plan": plan.reference, "balance": plan.remaining_balance},
                    code=ErrorCode.UNALLOCATED,
                )
            }
        )
    if quote.amount <= 0:
        raise ValidationError(
            {"amount": _("Nothing is left to pay on plan %(plan)s once rebated.") % {"plan": plan.reference}}
        )
    payment = Payment(
        merchant_id=plan.merchant_id,
        plan=plan,
        payment_number=_payment_number(plan, None),
        amount=quote.amount,
        payment_date=on,
        payment_method=method,
        reference=(reference or "").strip(),
        notes="Early settlement",
        status=Payment.Status.COMPLETED,
        received_by=actor,
        settlement=quote.as_record(),
    )
    schedule, _starts = settlement_rows(plan=plan, rows=rows)
    by_id = {row.pk: row for row in rows}
    rebate_lines = []
    for key, amount in rebate_spread(schedule, quote.rebate):
        row_paid_apply(by_id[key], Kind.REBATE, amount)
        rebate_lines.append(
            PaymentAllocation(
                merchant_id=plan.merchant_id, payment=payment, installment=by_id[key], kind=Kind.REBATE, amount=amount
            )
        )
    lines, touched = _allocate(payment, plan, rows)
    touched_ids = {row.pk for row in touched}
    grace = plan.merchant.grace_days
    for line in rebate_lines:
        row = line.installment
        if row.pk not in touched_ids:  # its interest forgiven in full and nothing else owed on it
            row.amount_paid = row.principal_paid + row.interest_paid
            row.status = installment_status_for(row, today=today, grace_days=grace)
            if row.status == Installment.Status.PAID and row.paid_on is None:
                row.paid_on = on
            touched.append(row)
            touched_ids.add(row.pk)
    figures = _receipt_figures(
        plan, rows, amount_paid=plan.amount_paid + quote.amount, rebates=plan.rebates + quote.rebate
    )
    for name, figure in figures.items():
        setattr(payment, name, figure)
    payment.save(force_insert=True)
    _allocation_save(rebate_lines + lines, touched)
    plan_completed = _plan_after_money(plan, quote.amount, rebate=quote.rebate)
    # The statistics' summary rows in the same transaction: the plan's part moves to completed, with its rebate.
    plan_totals_changed(plan=plan, before=before, after=plan_totals_in_hand(plan, rows))
    money_announce(payment, "payment.posted", plan_completed=plan_completed)
    send_on_commit(payment_recorded, sender=Payment, payment=payment)
    return payment
