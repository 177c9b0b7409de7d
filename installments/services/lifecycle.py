"""A plan's status changes: approve, reject, cancel, mark defaulted, reschedule; and an installment's status from
what is paid on it and its due date.

Each locks the plan row first (``plan_lock``), the same lock the ledger services take, so a status change and a
payment never interleave.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from installments.locks import plan_lock
from installments.models import Installment, InstallmentPlan
from installments.schedule import FinanceChargeMethod, ScheduleRow, schedule_split
from installments.services._common import Status, _installments_create, _plan_activate, _same_merchant
from installments.services.guarantors import guarantor_policy_check
from installments.signals import plan_decided
from installments.summaries import plan_totals_tracked
from taqsit import audit
from taqsit.cache import merchant_stats_invalidate
from taqsit.dates import dates_bound_check, merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.events import event_emit
from taqsit.models import Merchant, User
from taqsit.money import ZERO, as_decimal
from taqsit.permissions import Action, permission_require
from taqsit.signals import send_on_commit


def _status_require(plan: InstallmentPlan, allowed: tuple[str, ...], message: str) -> None:
    """``message`` names the plan (``%(plan)s``) and its status (``%(status)s``); one whole sentence per
    transition, so each language can word it."""
    if plan.status not in allowed:
        raise ValidationError(
            {
                "status": ValidationError(
                    message % {"plan": plan.reference, "status": plan.get_status_display().lower()},
                    code=ErrorCode.INVALID_STATUS,
                )
            }
        )


def _decide(plan: InstallmentPlan, actor: User, status: str, reason: str) -> None:
    now = timezone.now()
    plan.status = status
    plan.status_reason = reason
    plan.status_changed_at = now
    plan.decided_by = actor
    plan.decided_at = now
    plan.save(update_fields=["status", "status_reason", "status_changed_at", "decided_by", "decided_at", "updated_at"])


def _decision_tell(plan: InstallmentPlan, decision: str, reason: str) -> None:
    """The customer is told (the notifications app listens) once the decision is committed, never for a decision
    rolled back; a listener's error is logged, it does not undo or fail the decision."""
    send_on_commit(plan_decided, sender=InstallmentPlan, plan=plan, decision=decision, reason=reason)


@audit.action("plan.approve")
@transaction.atomic
def plan_approve(*, actor: User, plan: InstallmentPlan) -> InstallmentPlan:
    """A manager approves a pending application: it becomes active and its down payment is recorded, as
    received for a plan signed up at the counter, as expected (pending, to confirm when paid) for a customer's
    portal application, since the customer is not at the counter to hand it over."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan, InstallmentPlan.ACTION_STATUSES["approve"], _("Plan %(plan)s is %(status)s: it cannot be approved.")
    )
    # The guarantor policy holds at approval too: a customer's application comes without one.
    errors = guarantor_policy_check(
        merchant=plan.merchant,
        amount_financed=plan.total_amount - plan.down_payment,
        count=plan.guarantors.count(),
    )
    if errors:
        raise ValidationError(errors)
    with plan_totals_tracked(plan=plan):
        plan.decided_by = actor
        plan.decided_at = timezone.now()
        plan.save(update_fields=["decided_by", "decided_at", "updated_at"])
        _plan_activate(
            plan,
            actor,
            event_type="plan.approved",
            down_payment_received=plan.origin != InstallmentPlan.Origin.PORTAL,
        )
    plan.refresh_from_db()
    merchant_stats_invalidate(plan.merchant_id)
    _decision_tell(plan, "approved", "")
    return plan


@audit.action("plan.reject")
@transaction.atomic
def plan_reject(*, actor: User, plan: InstallmentPlan, reason: str) -> InstallmentPlan:
    """A manager rejects a pending application, with the reason kept."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the application is rejected.")})
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan, InstallmentPlan.ACTION_STATUSES["reject"], _("Plan %(plan)s is %(status)s: it cannot be rejected.")
    )
    with plan_totals_tracked(plan=plan):
        _decide(plan, actor, Status.REJECTED, reason.strip())
    merchant_stats_invalidate(plan.merchant_id)
    event_emit(event_type="plan.rejected", obj=plan)
    _decision_tell(plan, "rejected", plan.status_reason)
    return plan


@audit.action("plan.cancel")
@transaction.atomic
def plan_cancel(*, actor: User, plan: InstallmentPlan, reason: str) -> InstallmentPlan:
    """Stop collecting a plan (goods returned, agreement ended); its payments stay in the ledger."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the plan is cancelled.")})
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan,
        InstallmentPlan.ACTION_STATUSES["cancel"],
        _("Plan %(plan)s is %(status)s: it cannot be cancelled."),
    )
    with plan_totals_tracked(plan=plan):
        plan.status = Status.CANCELLED
        plan.status_reason = reason.strip()
        plan.status_changed_at = timezone.now()
        plan.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    merchant_stats_invalidate(plan.merchant_id)
    event_emit(event_type="plan.cancelled", obj=plan)
    return plan


@audit.action("plan.mark_defaulted")
@transaction.atomic
def plan_mark_defaulted(*, actor: User | None, plan: InstallmentPlan, reason: str = "") -> InstallmentPlan:
    """Mark an active plan defaulted (overdue past the merchant's limit); a payment that brings it up to date
    makes it active again. ``actor`` is None when the daily job does it."""
    if actor is not None:
        permission_require(actor, Action.PLAN_DECIDE)
        _same_merchant(actor, plan)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan,
        InstallmentPlan.ACTION_STATUSES["mark_defaulted"],
        _("Plan %(plan)s is %(status)s: it cannot be marked defaulted."),
    )
    with plan_totals_tracked(plan=plan):
        plan.status = Status.DEFAULTED
        plan.status_reason = (reason or "").strip() or InstallmentPlan.DEFAULTED_REASON
        plan.status_changed_at = timezone.now()
        plan.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    merchant_stats_invalidate(plan.merchant_id)
    event_emit(event_type="plan.defaulted", obj=plan)
    return plan


def _last_paid_on(rows: list[Installment]) -> dict:
    """The date of the last completed payment allocated to each of ``rows``: a closed row was paid then."""
    found = (
        Installment.objects.filter(pk__in=[row.pk for row in rows])
        .filter(allocations__payment__status="completed", allocations__amount__gt=0)
        .annotate(last=Max("allocations__payment__payment_date"))
        .values_list("pk", "last")
    )
    return dict(found)


@audit.action("plan.reschedule")
@transaction.atomic
def plan_reschedule(
    *,
    actor: User,
    plan: InstallmentPlan,
    number_of_installments: int,
    installment_frequency: str,
    start_date: date,
    first_due_date: date | None = None,
    reason: str = "",
    interest_rate: Any = None,
    finance_charge_method: str | None = None,
) -> InstallmentPlan:
    """Spread the unpaid remainder (principal and interest) over new rows numbered on from the rows kept and due
    after the last paid one; unpaid rows stay for history, superseded, and a partly paid row is closed at what was
    paid on it. Late fees already charged stay where they are and are still collected first.

    A reschedule adds no finance charge: an ``interest_rate`` or ``finance_charge_method`` asking for one is refused
    (under murabaha terms, with the reason that the markup was fixed at signing)."""
    permission_require(actor, Action.PLAN_DECIDE)
    _same_merchant(actor, plan)
    _no_new_charge_check(plan, interest_rate=interest_rate, finance_charge_method=finance_charge_method)
    plan = plan_lock(plan_id=plan.pk, no_key=True)
    _status_require(
        plan, InstallmentPlan.ACTION_STATUSES["reschedule"], _("Plan %(plan)s is %(status)s: it cannot be rescheduled.")
    )
    current = list(Installment.objects.select_for_update(of=("self",)).current().filter(plan=plan).order_by("number"))
    rows = [row for row in current if row.amount_paid < row.amount_due]
    if not rows:
        raise ValidationError({"plan": _("Plan %(plan)s has nothing left to reschedule.") % {"plan": plan.reference}})
    principal = sum((row.principal - row.principal_paid for row in rows), ZERO)
    interest = sum((row.interest - row.interest_paid for row in rows), ZERO)
    errors: dict[str, list[str]] = {}
    if start_date is None:
        errors["start_date"] = [_("This field is required.")]
    try:
        count = int(number_of_installments)
    except (TypeError, ValueError):
        errors["number_of_installments"] = [
            _("%(value)s is not a whole number.") % {"value": repr(number_of_installments)}
        ]
        count = 0
    dates_bound_check(errors, merchant_today(plan.merchant), start_date=start_date, first_due_date=first_due_date)
    if errors:
        raise ValidationError(errors)
    new_rows = schedule_split(
        currency=plan.merchant.currency,
        principal=principal,
        interest=interest,
        number_of_installments=count,
        frequency=installment_frequency,
        start_date=start_date,
        first_due_date=first_due_date,
    )
    # A partly paid row stays in force, closed at what was paid on it; only its remainder moves. Rows with
    # nothing paid are superseded. So the rows in force keep adding up to what is financed.
    closed = [row for row in rows if row.amount_paid > 0]
    superseded = [row for row in rows if row.amount_paid == 0]
    kept = [row for row in current if row.amount_paid > 0]
    last_kept = max(kept, key=lambda row: (row.due_date, row.number), default=None)
    if last_kept is not None and new_rows[0].due_date <= last_kept.due_date:
        raise ValidationError(
            {
                "first_due_date" if first_due_date else "start_date": _(
                    "The new schedule would start on %(first)s, not after %(last)s, the due date of installment "
                    "%(number)s, which is paid or partly paid: choose a first due date after %(last)s."
                )
                % {"first": new_rows[0].due_date, "last": last_kept.due_date, "number": last_kept.number}
            }
        )
    first_number = max((row.number for row in kept), default=0) + 1
    now = timezone.now()
    paid_on = _last_paid_on(closed)
    for row in closed:
        row.principal, row.interest, row.amount_due = row.principal_paid, row.interest_paid, row.amount_paid
        row.status = Installment.Status.PAID
        row.paid_on = paid_on.get(row.pk) or merchant_today(plan.merchant)
        row.updated_at = now
    with plan_totals_tracked(plan=plan):
        Installment.objects.bulk_update(
            closed, ["principal", "interest", "amount_due", "status", "paid_on", "updated_at"]
        )
        Installment.objects.filter(pk__in=[row.pk for row in superseded]).update(superseded_at=now, updated_at=now)
        # Numbering carries on after the rows kept in force, so no number in force restarts or repeats.
        numbered = [
            ScheduleRow(
                number=first_number + index,
                due_date=row.due_date,
                amount=row.amount,
                principal=row.principal,
                interest=row.interest,
            )
            for index, row in enumerate(new_rows)
        ]
        _installments_create(plan, numbered)
        plan.number_of_installments = len(kept) + len(numbered)
        plan.installment_frequency = installment_frequency
        plan.installment_amount = numbered[0].amount
        plan.due_date = numbered[-1].due_date
        plan.rescheduled_at = now
        plan.status = Status.ACTIVE
        plan.status_reason = (reason or "").strip() or "Rescheduled."
        plan.status_changed_at = now
        plan.save()
    merchant_stats_invalidate(plan.merchant_id)
    event_emit(event_type="plan.rescheduled", obj=plan)
    return plan


def _no_new_charge_check(plan: InstallmentPlan, *, interest_rate: Any, finance_charge_method: str | None) -> None:
    asks_rate = interest_rate not in (None, "") and as_decimal(interest_rate) != 0
    asks_method = finance_charge_method not in (None, "", FinanceChargeMethod.NONE)
    if not (asks_rate or asks_method):
        return
    if plan.merchant.sale_terms == Merchant.SaleTerms.MURABAHA:
        message = _(
            "Under murabaha terms the markup was fixed when the sale was signed: a reschedule cannot add interest "
            "or a finance charge."
        )
    else:
        message = _("A reschedule spreads what is unpaid over new dates; it adds no interest or finance charge.")
    raise ValidationError({"interest_rate" if asks_rate else "finance_charge_method": message})


def installment_status_for(installment: Installment, *, today: date, grace_days: int) -> str:
    """Paid, overdue (past due date plus grace and not fully paid), partially paid, or pending."""
    if installment.amount_paid >= installment.amount_due:
        return Installment.Status.PAID
    if (today - installment.due_date).days > grace_days:
        return Installment.Status.OVERDUE
    if installment.amount_paid > 0:
        return Installment.Status.PARTIALLY_PAID
    return Installment.Status.PENDING
