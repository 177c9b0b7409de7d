"""A completed payment's allocation against the database: the rows it may go to (locked), ``allocation_split``'s
lines applied to them in memory, then saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from installments.models import Installment, InstallmentPlan
from installments.services import installment_status_for
from installments.summaries import ROWS_NEEDED
from payments.allocation import AllocationRow, allocation_split
from payments.models import Payment, PaymentAllocation
from payments.services._common import Kind, collections_add
from taqsit.compiled import CompiledQuery, row_update, rows_insert
from taqsit.dates import merchant_today
from taqsit.error_codes import ErrorCode
from taqsit.money import ZERO


def _rows_for_allocation(plan: InstallmentPlan, *, lock: bool = True) -> list[Installment]:
    """The rows in force and every row with a late fee open, oldest first: what a payment can go to, and all a
    receipt's figures need; with the rows ever charged a charity fee, all the statistics' summary rows need of
    the plan (``ROWS_NEEDED``). Rows already paid are locked too: cheap, and the plan's lock is held anyway."""
    return list(_ROWS_FOR_ALLOCATION[lock].instances(plan.pk))


def _rows_needed(plan_id, *, lock: bool):
    rows = Installment.objects.select_for_update(of=("self",)) if lock else Installment.objects.all()
    return rows.filter(ROWS_NEEDED, plan_id=plan_id).order_by("due_date", "number", "created_at")


# Read at every payment: compiled once (taqsit/compiled.py).
_ROWS_FOR_ALLOCATION = {
    lock: CompiledQuery(lambda plan_id, lock=lock: _rows_needed(plan_id, lock=lock)) for lock in (True, False)
}


_PAID_FIELD = {
    Kind.LATE_FEE: ("late_fee_paid",),
    Kind.CHARITY_FEE: ("late_fee_paid", "charity_fee_paid"),
    Kind.INTEREST: ("interest_paid",),
    Kind.PRINCIPAL: ("principal_paid",),
    # A settlement rebate settles interest without money: counted as settled interest, and apart as rebated.
    Kind.REBATE: ("interest_paid", "interest_rebated"),
}


def row_paid_apply(row: Installment, kind: str, amount: Decimal) -> None:
    """Add ``amount`` (negative for a reversal) of allocation ``kind`` to what ``row`` says it received."""
    for field in _PAID_FIELD[kind]:
        setattr(row, field, getattr(row, field) + amount)


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
                charity_fee=row.charity_fee - row.charity_fee_paid,
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
        row_paid_apply(row, line.kind, line.amount)
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


# What an allocation changes on an installment row.
ROW_PAID_FIELDS = (
    "late_fee_paid",
    "charity_fee_paid",
    "interest_paid",
    "interest_rebated",
    "principal_paid",
    "amount_paid",
    "status",
    "paid_on",
    "updated_at",
)


def _allocation_save(lines: list[PaymentAllocation], touched: list[Installment]) -> None:
    """Write what ``_allocate`` worked out, once the payment row exists: the statements compiled once
    (taqsit/compiled.py), as every payment writes the same shapes."""
    # One UPDATE per row (a payment touches one or two as a rule): cheaper to build than bulk_update's CASE.
    for row in touched:
        row_update(row, ROW_PAID_FIELDS)
    rows_insert(lines)
    collections_add(lines)
