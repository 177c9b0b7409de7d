"""The cost of credit, disclosed: amount financed, finance charge, total of payments, cash and credit prices, and
the annual percentage rate by the actuarial method of the US Truth in Lending rules (Regulation Z, Appendix J).

The APR is the rate per unit period i at which the present value of the installments, each at its due date,
equals the amount financed, times the unit periods in a year (the plan's frequency), rounded half up to two
places. Pure Decimal arithmetic: no float anywhere, the same answer on every machine.

Time from the start of the term to a payment (Appendix J (b)(4)-(5)): whole unit periods plus a fraction. A due
date the schedule reaches by whole periods from the start (what ``due_date_for`` gives, month ends clamped) is
exactly that many periods. Any other date (a first due date chosen apart from the start: an odd first period)
is measured as Appendix J says: weeks and fortnights by days / 7 or 14; months counted back from the payment date,
the remaining days / 30; quarters as 30 days per month counted back plus the remaining days, / 90. A date at a
month's end counts back to month ends (28 February back one month is 31 January). The fraction is discounted at
simple interest, the whole periods compounded: PV = sum P / ((1 + f i) (1 + i)^t).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING

from django.utils.translation import pgettext

from installments.schedule import Schedule, due_date_for
from installments.schedule_terms import PERIODS_PER_YEAR, Frequency
from taqsit.money import ZERO

if TYPE_CHECKING:
    from installments.models import InstallmentPlan

APR_PLACES = Decimal("0.01")
# Digits the solver works with, and when it stops: far below what two decimal places of a percentage can see.
_PRECISION = 60
_TOLERANCE = Decimal("1e-40")
_MAX_STEPS = 500

_DAYS_PER_PERIOD = {Frequency.WEEKLY: 7, Frequency.BIWEEKLY: 14}
_MONTHS_PER_PERIOD = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}


@dataclass(frozen=True)
class CostOfCredit:
    """What a plan's credit costs, as the contract and every page state it."""

    cash_price: Decimal  # the plan's total_amount
    down_payment: Decimal
    amount_financed: Decimal  # cash price - down payment
    finance_charge: Decimal
    total_of_payments: Decimal  # amount financed + finance charge: what the installments add up to
    credit_price: Decimal  # cash price + finance charge
    apr: Decimal  # percent a year, two places
    apr_label: str  # in the active language, as the merchant's country names it


# The label ---------------------------------------------------------------------------------------------------

# Countries whose law names the rate: (short, spelled out). Elsewhere it is the APR; in Arabic the translations
# of every one of these read معدل النسبة السنوي.
_COUNTRY_LABELS = {
    "ES": (
        lambda: pgettext("cost of credit", "TAE"),
        lambda: pgettext("cost of credit", "Annual equivalent rate (TAE)"),
    ),
    "MX": (
        lambda: pgettext("cost of credit", "CAT"),
        lambda: pgettext("cost of credit", "Total annual cost (CAT)"),
    ),
    "AR": (
        lambda: pgettext("cost of credit", "CFT"),
        lambda: pgettext("cost of credit", "Total financial cost (CFT)"),
    ),
}
_DEFAULT_LABEL = (
    lambda: pgettext("cost of credit", "APR"),
    lambda: pgettext("cost of credit", "Annual percentage rate (APR)"),
)


def apr_label(*, country: str, spelled_out: bool = False) -> str:
    """The rate's name in the active language as the merchant's country names it: TAE in Spain, CAT in Mexico,
    CFT in Argentina, APR elsewhere (معدل النسبة السنوي in Arabic); ``spelled_out`` gives the words too."""
    short, long = _COUNTRY_LABELS.get((country or "").upper(), _DEFAULT_LABEL)
    return long() if spelled_out else short()


# The rate ----------------------------------------------------------------------------------------------------


def _month_back(day: date, months: int) -> date:
    """``months`` calendar months before ``day``; from a month's last day, to the last day of that month."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    at_month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month + 1, last if at_month_end else min(day.day, last))


def _months_back(start: date, due: date) -> tuple[int, int]:
    """Whole months counted back from ``due`` without passing ``start``, and the days left over."""
    months = (due.year - start.year) * 12 + due.month - start.month
    while months > 0 and _month_back(due, months) < start:
        months -= 1
    return months, (_month_back(due, months) - start).days


def payment_time(*, start_date: date, due_date: date, frequency: str) -> tuple[int, Decimal]:
    """(t, f): the whole unit periods and the fraction of one from the start of the term to a payment."""
    if frequency in _DAYS_PER_PERIOD:
        whole, days = divmod((due_date - start_date).days, _DAYS_PER_PERIOD[frequency])
        return whole, Decimal(days) / _DAYS_PER_PERIOD[frequency]
    per_period = _MONTHS_PER_PERIOD[frequency]
    months, days = _months_back(start_date, due_date)
    whole = months // per_period
    if due_date_for(start_date, frequency, whole) == due_date:
        return whole, ZERO
    if due_date_for(start_date, frequency, whole + 1) == due_date:
        return whole + 1, ZERO
    if per_period == 1:
        return months, Decimal(days) / 30
    whole, days = divmod(30 * months + days, 30 * per_period)
    return whole, Decimal(days) / (30 * per_period)


def _present_value(rate: Decimal, stream: Sequence[tuple[Decimal, int, Decimal]]) -> tuple[Decimal, Decimal]:
    """The present value of the stream at ``rate`` per period, and its derivative in the rate."""
    value = slope = ZERO
    grown = Decimal(1) + rate
    for amount, whole, fraction in stream:
        simple = Decimal(1) + fraction * rate
        term = amount / (simple * grown**whole)
        value += term
        slope -= term * (fraction / simple + whole / grown)
    return value, slope


def apr_compute(
    *,
    amount_financed: Decimal,
    payments: Iterable[tuple[date, Decimal]],
    start_date: date,
    frequency: str,
) -> Decimal:
    """The APR in percent, two places: i x periods per year where the payments' present value at i per period
    equals the amount financed (0.00 when they add up to no more than it).

    The present value is decreasing and convex in i, so Newton's method from 0 climbs to the root from below
    without ever passing it, quadratically near it; it stops when a step is below 1e-40.
    """
    periods_per_year = PERIODS_PER_YEAR[Frequency(frequency)]
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        stream = [
            (
                Decimal(amount),
                *payment_time(start_date=start_date, due_date=due, frequency=frequency),
            )
            for due, amount in payments
        ]
        total = sum((amount for amount, _whole, _fraction in stream), ZERO)
        if amount_financed <= 0 or total <= amount_financed:
            return ZERO.quantize(APR_PLACES)
        rate = ZERO
        for _step in range(_MAX_STEPS):
            value, slope = _present_value(rate, stream)
            step = (value - amount_financed) / slope
            rate -= step
            if abs(step) < _TOLERANCE:
                break
        annual = rate * periods_per_year * 100
    return annual.quantize(APR_PLACES, rounding=ROUND_HALF_UP)


def schedule_apr(*, schedule: Schedule, start_date: date, frequency: str) -> Decimal:
    """The APR of a schedule as built (the preview's, and a new plan's at signing)."""
    return apr_compute(
        amount_financed=schedule.financed,
        payments=[(row.due_date, row.amount) for row in schedule.rows],
        start_date=start_date,
        frequency=frequency,
    )


def _cost_of_credit(
    *, cash_price: Decimal, down_payment: Decimal, finance_charge: Decimal, apr: Decimal, country: str
) -> CostOfCredit:
    financed = cash_price - down_payment
    return CostOfCredit(
        cash_price=cash_price,
        down_payment=down_payment,
        amount_financed=financed,
        finance_charge=finance_charge,
        total_of_payments=financed + finance_charge,
        credit_price=cash_price + finance_charge,
        apr=apr,
        apr_label=apr_label(country=country),
    )


def schedule_disclosure(*, schedule: Schedule, start_date: date, frequency: str, country: str) -> CostOfCredit:
    """The cost of credit of a schedule not yet saved (the live preview)."""
    return _cost_of_credit(
        cash_price=schedule.total_amount,
        down_payment=schedule.down_payment,
        finance_charge=schedule.finance_charge,
        apr=schedule_apr(schedule=schedule, start_date=start_date, frequency=frequency),
        country=country,
    )


def plan_apr(plan: InstallmentPlan) -> Decimal:
    """The plan's APR: the one fixed at signing, or, for a plan from before it was kept, the rows in force."""
    if plan.apr is not None:
        return plan.apr
    rows = plan.installments.current().order_by("number").values_list("due_date", "amount_due")
    return apr_compute(
        amount_financed=plan.total_amount - plan.down_payment,
        payments=list(rows),
        start_date=plan.start_date,
        frequency=plan.installment_frequency,
    )


def plan_disclosure(plan: InstallmentPlan) -> CostOfCredit:
    """The cost of credit of a saved plan, labelled for its merchant's country in the active language."""
    return _cost_of_credit(
        cash_price=plan.total_amount,
        down_payment=plan.down_payment,
        finance_charge=plan.finance_charge,
        apr=plan_apr(plan),
        country=plan.merchant.country,
    )
