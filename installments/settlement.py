"""Early settlement: the rebate of unearned interest a merchant's rule gives when a plan is paid off before its
schedule ends, as pure functions of the schedule in force (no database here).

The rows are the schedule in force, oldest first: row j (j = 1..n) falls due on d_j and its period runs from s_j
(exclusive) to d_j, where s_j is the previous row's due date and s_1 the plan's start date (for a rescheduled
plan whose first row in force has no predecessor, d_1 less one period). Settling on date D:

- ``none``: no rebate; all remaining interest is due.
- ``rule_of_78``: F = the finance charge of the schedule in force (its interest column), n = its rows,
  k = whole periods remaining = the rows whose period has not begun on D (s_j >= D);
  rebate = round(F x k(k+1)/2 / (n(n+1)/2)), capped at the interest still unpaid.
- ``actuarial``: each row's interest by the actuarial method, a_j; for a declining-balance plan the schedule's
  own interest column (interest = balance x periodic rate), for a flat plan the split of each payment at the
  schedule's actuarial periodic rate r (the APR's periodic rate: the r at which the payments' present value
  equals the principal they repay, r solving sum(A_j / (1+r)^j) = sum(P_j)), with B_0 = sum(P_j),
  a_j = B_{j-1} x r, B_j = B_{j-1} + a_j - A_j. Unearned = sum of a_j over the rows whose period has not begun
  (s_j >= D), plus, for the row whose period is running (s_j < D < d_j), a_j x (d_j - D) / (d_j - s_j) in days.
  rebate = round(unearned), capped at the interest still unpaid.
- ``discretionary`` (murabaha only): the amount a manager grants with a reason, at most the markup still unpaid.

"round" is ROUND_HALF_UP to the currency's unit (taqsit/money.py). The rebate forgives the interest of the
latest rows first (``rebate_spread``), each row at most its unpaid interest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from installments.schedule import FinanceChargeMethod, due_date_for
from taqsit.money import ZERO, to_money


class RebateRule:
    """The values of ``Merchant.SettlementRebate`` (kept here so this module stays free of models)."""

    NONE = "none"
    ACTUARIAL = "actuarial"
    RULE_OF_78 = "rule_of_78"
    DISCRETIONARY = "discretionary"


@dataclass(frozen=True)
class SettlementRow:
    """One row of the schedule in force, as the rebate needs it."""

    key: Any  # the installment's id
    due_date: date
    amount_due: Decimal
    principal: Decimal
    interest: Decimal
    interest_paid: Decimal

    @property
    def interest_unpaid(self) -> Decimal:
        return self.interest - self.interest_paid


def period_starts(rows: Sequence[SettlementRow], *, start_date: date, frequency: str, first_is_start: bool) -> list:
    """s_j of each row: the previous row's due date; for the first, ``start_date`` when ``first_is_start`` (the
    plan's own first row), else its due date less one period."""
    starts = []
    for index, row in enumerate(rows):
        if index:
            starts.append(rows[index - 1].due_date)
        elif first_is_start:
            starts.append(start_date)
        else:
            starts.append(row.due_date - (due_date_for(row.due_date, frequency, 1) - row.due_date))
    return starts


def actuarial_rate(rows: Sequence[SettlementRow]) -> Decimal:
    """The periodic rate r at which the rows' payments, one period apart, are worth the principal they repay:
    sum(A_j / (1+r)^j) = sum(P_j), by Newton's method in 40-digit decimals (zero when there is no interest)."""
    principal = sum((row.principal for row in rows), ZERO)
    charge = sum((row.interest for row in rows), ZERO)
    if charge <= 0 or principal <= 0:
        return ZERO
    with localcontext() as ctx:
        ctx.prec = 40
        n = len(rows)
        rate = 2 * charge / (principal * (n + 1))  # the constant-ratio estimate: close, and below the root
        for _ in range(100):
            value, slope, factor = -principal, Decimal(0), Decimal(1)
            for j, row in enumerate(rows, start=1):
                factor /= 1 + rate
                value += row.amount_due * factor
                slope -= j * row.amount_due * factor / (1 + rate)
            step = value / slope
            rate -= step
            if abs(step) < Decimal("1e-30"):
                break
        return +rate


def actuarial_interest(rows: Sequence[SettlementRow], *, method: str) -> list[Decimal]:
    """a_j for each row: the schedule's own interest for a declining-balance plan, else each payment split at
    ``actuarial_rate`` (unrounded: only the rebate is rounded)."""
    if method == FinanceChargeMethod.DECLINING_BALANCE:
        return [row.interest for row in rows]
    rate = actuarial_rate(rows)
    if rate == 0:
        return [ZERO for _row in rows]
    with localcontext() as ctx:
        ctx.prec = 40
        balance = sum((row.principal for row in rows), ZERO)
        shares = []
        for row in rows:
            share = balance * rate
            shares.append(share)
            balance = balance + share - row.amount_due
        return shares


def rebate_compute(
    *,
    rule: str,
    rows: Sequence[SettlementRow],
    starts: Sequence[date],
    on: date,
    method: str,
    currency: str,
) -> Decimal:
    """The rebate ``rule`` gives on ``on`` (see the module's docstring), to the currency's unit; discretionary
    and none give zero here (a manager's amount is checked by ``rebate_check``)."""
    unpaid = sum((row.interest_unpaid for row in rows), ZERO)
    if rule == RebateRule.RULE_OF_78:
        n = len(rows)
        k = sum(1 for start in starts if start >= on)
        charge = sum((row.interest for row in rows), ZERO)
        figure = to_money(charge * k * (k + 1) / (n * (n + 1)), currency) if n else ZERO
    elif rule == RebateRule.ACTUARIAL:
        unearned = ZERO
        with localcontext() as ctx:
            ctx.prec = 40
            for row, start, share in zip(rows, starts, actuarial_interest(rows, method=method), strict=True):
                if start >= on:
                    unearned += share
                elif on < row.due_date:
                    unearned += share * (row.due_date - on).days / (row.due_date - start).days
        figure = to_money(unearned, currency)
    else:
        figure = ZERO
    return to_money(min(figure, unpaid), currency)


def rebate_spread(rows: Sequence[SettlementRow], rebate: Decimal) -> list[tuple[Any, Decimal]]:
    """(row key, amount) lines of ``rebate``: the latest rows' unpaid interest first, each row at most its own."""
    lines = []
    left = rebate
    for row in reversed(rows):
        share = min(left, row.interest_unpaid)
        if share > 0:
            lines.append((row.key, share))
            left -= share
    return lines
