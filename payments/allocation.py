"""How a completed payment is spread over a plan's rows, as a pure function: rows + amount -> lines.

Late fees first (oldest row first; on a row, the fee booked as income before the charity fee, kind
``charity_fee``), then the oldest row in force, interest before principal, then the next. No
database here: the ledger services read and lock the rows, call ``allocation_split`` and write its lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payments.models import PaymentAllocation

Kind = PaymentAllocation.Kind


@dataclass(frozen=True)
class AllocationRow:
    """What is still open on one installment row; ``in_force`` is False for a row a reschedule superseded,
    which takes only its open late fee."""

    installment_id: Any
    number: int
    late_fee: Decimal
    interest: Decimal
    principal: Decimal
    in_force: bool = True
    # The part of ``late_fee`` that is a charity fee (murabaha terms): allocated as kind ``charity_fee``.
    charity_fee: Decimal = Decimal("0")


@dataclass(frozen=True)
class AllocationLine:
    installment_id: Any
    number: int
    kind: str  # Kind.LATE_FEE, Kind.CHARITY_FEE, Kind.INTEREST or Kind.PRINCIPAL
    amount: Decimal


def allocation_split(*, rows: Sequence[AllocationRow], amount: Decimal) -> list[AllocationLine]:
    """Spread ``amount`` over ``rows`` (oldest first) in the ledger's order; no line exceeds what is open on its
    row and kind. What finds no place is left out (``amount`` minus the lines' sum): the caller refuses it."""
    remaining = amount
    lines: list[AllocationLine] = []

    def take(row: AllocationRow, kind: str, open_amount: Decimal) -> None:
        nonlocal remaining
        share = min(remaining, open_amount)
        if share > 0:
            lines.append(AllocationLine(installment_id=row.installment_id, number=row.number, kind=kind, amount=share))
            remaining -= share

    for row in rows:
        take(row, Kind.LATE_FEE, row.late_fee - row.charity_fee)
        take(row, Kind.CHARITY_FEE, row.charity_fee)
    for row in rows:
        if row.in_force:
            take(row, Kind.INTEREST, row.interest)
            take(row, Kind.PRINCIPAL, row.principal)
    return lines
