"""What the ledger services share: the tenancy check, the payment's and its plan's lock, and the plan's figures
and status after money moves."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from installments.locks import plan_lock
from installments.models import InstallmentPlan
from installments.selectors import installments_overdue_of, overdue_cutoff
from payments.models import CollectionDayTotal, Payment, PaymentAllocation
from taqsit.cache import merchant_stats_invalidate
from taqsit.compiled import row_update
from taqsit.events import event_emit
from taqsit.models import User
from taqsit.summaries import totals_add

PlanStatus = InstallmentPlan.Status


Kind = PaymentAllocation.Kind


def collections_add(lines: list[PaymentAllocation]) -> None:
    """Add allocation lines (a payment's, or a reversal's, negative) to the statistics' collections by payment
    date, method and kind (``CollectionDayTotal``), in the transaction that writes them; the lines are one
    payment's."""
    if not lines:
        return
    payment = lines[0].payment
    deltas: dict[tuple, dict[str, Decimal]] = {}
    for line in lines:
        key = (payment.payment_date, payment.payment_method, line.kind)
        deltas.setdefault(key, {"amount": Decimal("0")})["amount"] += line.amount
    totals_add(CollectionDayTotal, merchant_id=payment.merchant_id, deltas=deltas)


def _actor_sees(actor: User, merchant_id) -> None:
    if not actor.is_superuser and actor.merchant_id != merchant_id:
        raise InstallmentPlan.DoesNotExist("No InstallmentPlan matches the given query.")


def _payment_lock(payment: Payment, actor: User) -> tuple[Payment, InstallmentPlan]:
    _actor_sees(actor, payment.merchant_id)
    plan = plan_lock(plan_id=payment.plan_id, no_key=True)
    payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
    return payment, plan


def money_announce(payment: Payment, event_type: str, *, plan_completed: bool = False) -> None:
    """Announce ``event_type`` of the payment to integrators (taqsit/events.py, in the transaction), then the
    plan's completion when this payment completed it, in that order."""
    event_emit(event_type=event_type, obj=payment)
    if plan_completed:
        event_emit(event_type="plan.completed", obj=payment.plan)


# What a movement of money changes on the plan's row (one UPDATE, compiled once: taqsit/compiled.py).
_PLAN_MONEY_FIELDS = (
    "amount_paid",
    "rebates",
    "status",
    "status_changed_at",
    "status_reason",
    "last_payment_number",
    "updated_at",
)


def _plan_after_money(plan: InstallmentPlan, delta: Decimal, *, rebate: Decimal = Decimal("0")) -> bool:
    """Apply ``delta`` to the plan's amount paid (and ``rebate`` to its settlement rebates) and move it between
    active, defaulted and completed; every movement of money (post, complete, refund, void, down payment,
    settlement) passes here, so the statistics are dropped. Saves the plan in one UPDATE, with the payment number
    ``_payment_number`` took (under the plan's lock). True when this made the plan completed."""
    merchant_stats_invalidate(plan.merchant_id)
    plan.amount_paid += delta
    plan.rebates += rebate
    completed = False
    if plan.is_open and plan.remaining_balance == 0:
        completed = True
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
    row_update(plan, _PLAN_MONEY_FIELDS)
    return completed
