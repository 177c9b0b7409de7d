"""Plans already running at a shop and what was paid on them so far, imported at once (the imports app calls this
inside its one transaction): the plans and schedules are built by the installments app from the same engine as
``plan_create``; the payments are allocated by the same pure rules as ``payment_post`` (``allocation_split``); then
everything is written set-based, checked against the ledger's invariants and the statistics' summary rows are
rebuilt for the merchant, before anything commits."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from installments.models import Installment, InstallmentPlan
from installments.services import installment_status_for
from installments.services.imports import PlanBuilt, PlanOpening, plans_opening_build, plans_opening_save
from payments.allocation import AllocationRow, allocation_split
from payments.invariants import ledger_problems
from payments.models import Payment, PaymentAllocation
from payments.services._common import Kind
from payments.services.allocation import row_paid_apply
from payments.services.post import _receipt_figures
from payments.summaries import summaries_rebuild
from taqsit import audit
from taqsit.bulk import rows_insert
from taqsit.cache import merchant_stats_invalidate
from taqsit.dates import merchant_today
from taqsit.events import events_emit_many
from taqsit.models import Merchant, User
from taqsit.money import ZERO
from taqsit.permissions import Action, permission_require
from taqsit.planner import nested_loops_off

# What the payment recorded for the installments paid before the import says of itself (as "Down payment" does).
OPENING_NOTE = "Paid before the import"


def _opening_payments(
    entry: PlanBuilt, *, actor: User, today, grace_days: int
) -> tuple[list[Payment], list[PaymentAllocation]]:
    """The down payment (number 1, on the start date, as ``down_payment_record`` dates a back-dated plan's) and
    what was paid on the installments (one payment on the last payment date, allocated oldest row first, interest
    before principal), applied to the rows in memory; the rows' statuses as of ``today``."""
    plan, rows, opening = entry.plan, entry.rows, entry.opening
    payments: list[Payment] = []
    lines: list[PaymentAllocation] = []

    def payment(amount, payment_date, **fields) -> Payment:
        plan.last_payment_number += 1
        plan.amount_paid += amount
        made = Payment(
            merchant_id=plan.merchant_id,
            plan=plan,
            payment_number=plan.last_payment_number,
            amount=amount,
            payment_date=payment_date,
            status=Payment.Status.COMPLETED,
            received_by=actor,
            **fields,
            **_receipt_figures(plan, rows, amount_paid=plan.amount_paid),
        )
        payments.append(made)
        return made

    if plan.down_payment > 0:
        down = payment(
            plan.down_payment,
            min(today, plan.start_date),
            payment_method=Payment.Method.CASH,
            is_down_payment=True,
            notes="Down payment",
        )
        lines.append(
            PaymentAllocation(
                merchant_id=plan.merchant_id, payment=down, installment=None, kind=Kind.DOWN_PAYMENT, amount=down.amount
            )
        )
    if opening.paid_so_far > 0:
        split = allocation_split(
            rows=[
                AllocationRow(
                    installment_id=row.number,
                    number=row.number,
                    late_fee=ZERO,
                    interest=row.interest,
                    principal=row.principal,
                )
                for row in rows
            ],
            amount=opening.paid_so_far,
        )
        by_number = {row.number: row for row in rows}
        for line in split:
            row_paid_apply(by_number[line.installment_id], line.kind, line.amount)
        for row in rows:
            row.amount_paid = row.principal_paid + row.interest_paid
        paid = payment(
            opening.paid_so_far,
            opening.last_payment_date,
            payment_method=Payment.Method.OTHER,
            reference=opening.sale_reference[: Payment._meta.get_field("reference").max_length],
            notes=OPENING_NOTE,
        )
        lines += [
            PaymentAllocation(
                merchant_id=plan.merchant_id,
                payment=paid,
                installment=by_number[line.installment_id],
                kind=line.kind,
                amount=line.amount,
            )
            for line in split
        ]
    for row in rows:
        row.status = installment_status_for(row, today=today, grace_days=grace_days)
        if row.status == Installment.Status.PAID:
            row.paid_on = opening.last_payment_date
    if plan.remaining_balance == 0:
        plan.status = InstallmentPlan.Status.COMPLETED
    return payments, lines


def _opening_check(entry: PlanBuilt) -> str | None:
    """Why an opening cannot be recorded as given (the importer checks first; this is the ledger's own word)."""
    opening, plan = entry.opening, entry.plan
    if opening.paid_so_far < 0 or opening.paid_so_far > plan.total_payable - plan.down_payment:
        return _("Plan %(reference)s: %(paid)s paid is more than its installments add up to (%(owed)s).") % {
            "reference": opening.sale_reference,
            "paid": opening.paid_so_far,
            "owed": plan.total_payable - plan.down_payment,
        }
    if opening.paid_so_far > 0 and opening.last_payment_date is None:
        return _("Plan %(reference)s: give the date of the last payment.") % {"reference": opening.sale_reference}
    return None


@audit.action("plan.import")
@transaction.atomic
def plans_import(*, actor: User, merchant: Merchant, openings: Sequence[PlanOpening]) -> list[InstallmentPlan]:
    """Create running plans with what was paid on them, exactly as ``plan_create`` and ``payment_post`` would
    have left them (schedules, allocations, receipts' figures, statuses as of today, completed when paid off),
    set-based. The ledger's invariants are checked on the new plans before commit and any break refuses the
    whole import; the merchant's summary rows are rebuilt from its ledger in the same transaction. Historical
    late fees are not imported: the daily job charges them from now on, by the merchant's policy."""
    permission_require(actor, Action.PLAN_CREATE)
    permission_require(actor, Action.PAYMENT_RECORD)
    if not actor.is_superuser and actor.merchant_id != merchant.pk:
        raise Merchant.DoesNotExist("No Merchant matches the given query.")
    built = plans_opening_build(merchant=merchant, actor=actor, openings=openings)
    problems = [problem for problem in map(_opening_check, built) if problem]
    if problems:
        raise ValidationError({"plans": problems})
    today, grace_days = merchant_today(merchant), merchant.grace_days
    payments: list[Payment] = []
    lines: list[PaymentAllocation] = []
    for entry in built:
        made, allocated = _opening_payments(entry, actor=actor, today=today, grace_days=grace_days)
        payments += made
        lines += allocated
    plans_opening_save(built)
    rows_insert(Payment, payments)
    for line in lines:
        line.payment_id, line.installment_id = line.payment.pk, line.installment.pk if line.installment else None
    rows_insert(PaymentAllocation, lines)
    plans = [entry.plan for entry in built]
    broken = ledger_problems(plan_ids=[plan.pk for plan in plans])
    if broken:
        raise ValidationError(
            {
                "plans": _("The import would break the ledger (%(problems)s): nothing was imported.")
                % {"problems": ", ".join(f"{name}: {count}" for name, count in sorted(broken.items()))}
            }
        )
    with nested_loops_off():  # read back on statistics older than the rows just written
        summaries_rebuild(merchant=merchant)
    # Announced as plans created (with what was paid on them in their figures), in the import's transaction.
    events_emit_many(event_type="plan.created", objects=plans, merchant_id=merchant.pk)
    merchant_stats_invalidate(merchant.pk)
    return plans
