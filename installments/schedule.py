"""The schedule engine: pure functions from a plan's terms to its rows (no database).

Every amount is a Decimal in the currency's minor unit. Every rounding is ROUND_HALF_UP of the exact value: a
ratio is computed from exact operands and truncated to 50 digits before it is rounded to the unit, which gives
the same answer as exact rational arithmetic (a half-way value is representable in 50 digits, so truncation
never moves a value across it). Installments always add up exactly to what is owed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, Inexact, localcontext

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext

from installments.schedule_checks import (
    _add,
    _currency_check,
    _dates_check,
    _frequency_check,
    _frequency_text,
    _installments_check,
    _merge,
    _money_input,
    _rate_check,
    _unknown_frequency,
)
from installments.schedule_terms import (
    FREQUENCY_FIELD,
    MAX_INSTALLMENTS,
    PERIODS_PER_YEAR,
    FinanceChargeMethod,
    Frequency,
)
from taqsit.money import (
    MONEY_MAX,
    ZERO,
    money_floor,
    quantum,
    split_equal,
    to_money,
)

_DAYS_PER_PERIOD = {Frequency.WEEKLY: 7, Frequency.BIWEEKLY: 14}
_MONTHS_PER_PERIOD = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}


@dataclass(frozen=True)
class ScheduleRow:
    number: int  # 1..n
    due_date: date
    amount: Decimal  # principal + interest
    principal: Decimal
    interest: Decimal


@dataclass(frozen=True)
class Schedule:
    currency: str
    total_amount: Decimal
    down_payment: Decimal
    financed: Decimal  # total_amount - down_payment
    finance_charge: Decimal  # sum of the interest column
    total_payable: Decimal  # total_amount + finance_charge (includes the down payment)
    installment_amount: Decimal  # the regular installment (row 1's amount)
    rows: tuple[ScheduleRow, ...]

    @property
    def number_of_installments(self) -> int:
        return len(self.rows)

    @property
    def last_due_date(self) -> date:
        return self.rows[-1].due_date


def due_date_for(anchor: date, frequency: str, periods: int) -> date:
    """anchor + periods periods: 7k / 14k days, or k / 3k calendar months clamped to the month's last day."""
    if frequency in _DAYS_PER_PERIOD:
        return anchor + timedelta(days=_DAYS_PER_PERIOD[frequency] * periods)
    if frequency in _MONTHS_PER_PERIOD:
        index = anchor.year * 12 + anchor.month - 1 + _MONTHS_PER_PERIOD[frequency] * periods
        year, month = divmod(index, 12)
        month += 1
        if not 1 <= year <= 9999:
            raise ValueError(f"year {year} is out of range")
        return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))
    raise ValidationError({FREQUENCY_FIELD: [_unknown_frequency(frequency)]})


def schedule_build(
    *,
    currency: str,
    total_amount: Decimal | int | str,
    down_payment: Decimal | int | str | None = ZERO,
    frequency: str,
    start_date: date,
    number_of_installments: int | None = None,
    installment_amount: Decimal | int | str | None = None,
    first_due_date: date | None = None,
    due_date: date | None = None,
    finance_charge_method: str = FinanceChargeMethod.NONE,
    interest_rate: Decimal | int | str | None = None,
) -> Schedule:
    """The schedule of a plan: rows that add up exactly to financed + finance charge, due one period apart.

    Give the number of installments, the installment amount, or both (they must agree). Every problem with the
    input is reported at once, on its field, as a ValidationError.
    """
    errors: dict[str, list[str]] = {}
    unit_currency = currency if _currency_check(currency, errors) else None

    total = _money_input(errors, "total_amount", total_amount, unit_currency)
    down = _money_input(errors, "down_payment", ZERO if down_payment is None else down_payment, unit_currency)
    amount = None
    if installment_amount is not None:
        amount = _money_input(errors, "installment_amount", installment_amount, unit_currency)

    if total is not None and total <= 0:
        _add(
            errors,
            "total_amount",
            gettext("The total amount must be more than zero, not %(amount)s.") % {"amount": total},
        )
    if down is not None:
        if down < 0:
            _add(
                errors, "down_payment", gettext("The down payment cannot be negative (%(amount)s).") % {"amount": down}
            )
        elif total is not None and total > 0:
            if down == total:
                _add(
                    errors,
                    "down_payment",
                    gettext("The down payment %(down)s is the whole total %(total)s: nothing is left to finance.")
                    % {"down": down, "total": total},
                )
            elif down > total:
                _add(
                    errors,
                    "down_payment",
                    gettext("The down payment %(down)s is more than the total %(total)s.")
                    % {"down": down, "total": total},
                )
    if amount is not None and amount <= 0:
        _add(
            errors,
            "installment_amount",
            gettext("The installment amount must be more than zero, not %(amount)s.") % {"amount": amount},
        )

    _installments_check(errors, number_of_installments)
    if number_of_installments is None and installment_amount is None:
        _add(errors, "number_of_installments", gettext("Give the number of installments or the installment amount."))
    _frequency_check(errors, frequency)
    rate = _rate_check(errors, finance_charge_method, interest_rate)
    _dates_check(errors, start_date, first_due_date, due_date)
    if errors:
        raise ValidationError(errors)

    terms = _Terms(
        currency=currency,
        financed=total - down,
        frequency=frequency,
        method=finance_charge_method,
        rate=rate,
    )
    columns = None
    n = number_of_installments
    try:
        if n is None:
            n, columns = _installments_for_amount(terms, amount)
        else:
            columns = _columns(terms, n)
            if amount is not None:
                _amount_agrees(errors, terms, n, amount, columns, down=down, total=total)
    except ValidationError as exc:
        _merge(errors, exc)

    due_dates = None
    if n is not None:
        try:
            due_dates = _due_dates(start_date, first_due_date, frequency, n)
        except (ValueError, OverflowError):
            _add(errors, "start_date", _past_9999(n, frequency, start_date))
    if due_dates is not None and due_date is not None and due_date != due_dates[-1]:
        _add(
            errors,
            "due_date",
            gettext(
                "The due date %(due_date)s is not the last installment's due date: with %(count)s %(frequency)s "
                "installments it is %(last_due_date)s."
            )
            % {
                "due_date": due_date,
                "count": n,
                "frequency": _frequency_text(frequency),
                "last_due_date": due_dates[-1],
            },
        )

    finance_charge = sum(columns[2], ZERO) if columns is not None else ZERO
    if total + finance_charge > MONEY_MAX:
        _add(
            errors,
            "interest_rate",
            gettext(
                "The finance charge %(charge)s makes the total payable %(payable)s, more than the largest amount "
                "that can be recorded (%(max)s)."
            )
            % {"charge": finance_charge, "payable": total + finance_charge, "max": MONEY_MAX},
        )
    if errors:
        raise ValidationError(errors)

    rows = _rows(columns, due_dates)
    return Schedule(
        currency=currency,
        total_amount=total,
        down_payment=down,
        financed=terms.financed,
        finance_charge=finance_charge,
        total_payable=total + finance_charge,
        installment_amount=rows[0].amount,
        rows=rows,
    )


def schedule_split(
    *,
    currency: str,
    principal: Decimal,
    interest: Decimal,
    number_of_installments: int,
    frequency: str,
    start_date: date,
    first_due_date: date | None = None,
) -> tuple[ScheduleRow, ...]:
    """Used by reschedule: spread an unpaid principal and interest evenly over new rows (equal split of the
    amount, interest split the same way, principal = amount - interest); rows add up exactly to both."""
    errors: dict[str, list[str]] = {}
    unit_currency = currency if _currency_check(currency, errors) else None
    principal = _money_input(errors, "principal", principal, unit_currency)
    interest = _money_input(errors, "interest", interest, unit_currency)
    if principal is not None and principal < 0:
        _add(
            errors,
            "principal",
            gettext("The principal to reschedule cannot be negative (%(amount)s).") % {"amount": principal},
        )
    if interest is not None and interest < 0:
        _add(
            errors,
            "interest",
            gettext("The interest to reschedule cannot be negative (%(amount)s).") % {"amount": interest},
        )
    if principal == 0 and interest == 0:
        _add(
            errors,
            "principal",
            gettext("Nothing is left to reschedule: the principal and the interest are both zero."),
        )
    _installments_check(errors, number_of_installments)
    _frequency_check(errors, frequency)
    _dates_check(errors, start_date, first_due_date, None)
    if errors:
        raise ValidationError(errors)

    n = number_of_installments
    owed = principal + interest
    amounts = split_equal(owed, n, currency)
    interests = split_equal(interest, n, currency)
    principals = [a - i for a, i in zip(amounts, interests, strict=True)]
    if amounts[0] < quantum(currency):
        message = gettext(
            "The amount to reschedule %(owed)s is too small for %(count)s installments of at least %(unit)s each: "
            "use at most %(most)s."
        )
        _add(errors, "number_of_installments", _too_small(message, owed, n, currency))
    elif min(principals) < 0:
        _add(
            errors,
            "number_of_installments",
            gettext(
                "The principal %(principal)s is too small to carry the interest %(interest)s over %(count)s "
                "installments (installment %(number)s would have a negative principal): use fewer installments."
            )
            % {
                "principal": principal,
                "interest": interest,
                "count": n,
                "number": principals.index(min(principals)) + 1,
            },
        )
    try:
        due_dates = _due_dates(start_date, first_due_date, frequency, n)
    except (ValueError, OverflowError):
        _add(errors, "start_date", _past_9999(n, frequency, start_date))
    if errors:
        raise ValidationError(errors)
    return _rows((amounts, principals, interests), due_dates)


# The arithmetic ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Terms:
    currency: str
    financed: Decimal
    frequency: str
    method: str
    rate: Decimal | None

    @property
    def periods_per_year(self) -> int:
        return PERIODS_PER_YEAR[self.frequency]

    @property
    def unit(self) -> Decimal:
        return quantum(self.currency)

    @property
    def frequency_text(self) -> str:
        return _frequency_text(self.frequency)


def _product(*factors: Decimal | int) -> Decimal:
    """The exact product of a few amounts, rates and counts (Inexact is trapped: it never rounds)."""
    with localcontext() as ctx:
        ctx.prec = 100
        ctx.traps[Inexact] = True
        result = Decimal(1)
        for factor in factors:
            result *= factor
        return result


def _round_ratio(numerator: Decimal, denominator: Decimal | int, currency: str) -> Decimal:
    """numerator / denominator (exact, non-negative) rounded half up to the unit, as exact arithmetic would.

    The quotient is truncated to 50 digits: a value at or above a half-way point (which has far fewer digits)
    stays at or above it, a value below stays below, so the rounding matches the exact rational's.
    """
    with localcontext() as ctx:
        ctx.prec = 50
        ctx.rounding = ROUND_DOWN
        quotient = numerator / denominator
    return to_money(quotient, currency)


def _flat_charge(terms: _Terms, n: int) -> Decimal:
    """round(financed x rate/100 x n / periods per year)."""
    return _round_ratio(_product(terms.financed, terms.rate, n), 100 * terms.periods_per_year, terms.currency)


def _owed(terms: _Terms, n: int) -> Decimal:
    """What the installments add up to, for none and flat."""
    if terms.method == FinanceChargeMethod.FLAT:
        return terms.financed + _flat_charge(terms, n)
    return terms.financed


def _annuity_payment(terms: _Terms, n: int) -> Decimal:
    """round(financed x r / (1 - (1 + r)^-n)), r = rate/100/periods per year, from the exact value.

    With d = 100 x periods per year, r = rate/d and the payment is
    financed x rate x (d+rate)^n / (d x ((d+rate)^n - d^n)): powers of exact decimals, computed exactly with
    as many digits as they need, then one division.
    """
    d = 100 * terms.periods_per_year
    base = d + terms.rate
    with localcontext() as ctx:
        ctx.prec = n * (len(base.as_tuple().digits) + len(str(d))) + 64
        ctx.traps[Inexact] = True
        grown = base**n
        numerator = terms.financed * terms.rate * grown
        denominator = d * (grown - Decimal(d) ** n)
    return _round_ratio(numerator, denominator, terms.currency)


def _regular_amount(terms: _Terms, n: int) -> Decimal:
    """Row 1's amount for n installments."""
    if terms.method == FinanceChargeMethod.DECLINING_BALANCE:
        return _annuity_payment(terms, n)
    return money_floor(_owed(terms, n) / n, terms.currency)


def _columns(terms: _Terms, n: int) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    """(amounts, principals, interests) for n installments; ValidationError when a row cannot be paid."""
    if terms.method == FinanceChargeMethod.DECLINING_BALANCE:
        return _declining_columns(terms, n)
    currency = terms.currency
    owed = _owed(terms, n)
    charge = owed - terms.financed
    amounts = split_equal(owed, n, currency)
    interests = split_equal(charge, n, currency)
    principals = [a - i for a, i in zip(amounts, interests, strict=True)]
    if amounts[0] < terms.unit:
        if terms.method == FinanceChargeMethod.FLAT:
            # The flat charge grows with n: fewer installments, not a count, is the advice.
            message = gettext(
                "The amount owed %(owed)s is too small for %(count)s installments of at least %(unit)s each: "
                "use fewer installments."
            )
        else:
            message = gettext(
                "The financed amount %(owed)s is too small for %(count)s installments of at least %(unit)s each: "
                "use at most %(most)s."
            )
        raise ValidationError({"number_of_installments": [_too_small(message, owed, n, currency)]})
    if min(principals) < 0:
        # The equal splits of the amount and of the charge round down separately; when the principal per row
        # is only a few units, the last row's principal can come out negative. Allocation could not pay it.
        raise ValidationError(
            {
                "number_of_installments": [
                    gettext(
                        "%(financed)s financed is too little to spread over %(count)s installments with a finance "
                        "charge of %(charge)s: installment %(number)s would have a negative principal. Use fewer "
                        "installments."
                    )
                    % {
                        "financed": terms.financed,
                        "count": n,
                        "charge": charge,
                        "number": principals.index(min(principals)) + 1,
                    }
                ]
            }
        )
    return amounts, principals, interests


def _declining_columns(terms: _Terms, n: int) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    """The amortization table: fixed payment, interest on the balance, the last row pays what is left."""
    currency, d = terms.currency, 100 * terms.periods_per_year
    payment = _annuity_payment(terms, n)
    if payment < terms.unit:
        message = gettext(
            "The financed amount %(owed)s is too small for %(count)s installments of at least %(unit)s each: "
            "use fewer installments."
        )
        raise ValidationError({"number_of_installments": [_too_small(message, terms.financed, n, currency)]})
    amounts, principals, interests = [], [], []
    balance = terms.financed
    for number in range(1, n):
        interest = _round_ratio(_product(balance, terms.rate), d, currency)
        principal = payment - interest
        if principal <= 0:
            raise ValidationError(
                {
                    "interest_rate": [
                        gettext(
                            "At %(rate)s%% a year over %(count)s %(frequency)s installments, installment "
                            "%(number)s's interest %(interest)s takes the whole payment %(payment)s and repays "
                            "nothing of the %(balance)s owed: lower the rate or the number of installments."
                        )
                        % {
                            "rate": terms.rate,
                            "count": n,
                            "frequency": terms.frequency_text,
                            "number": number,
                            "interest": interest,
                            "payment": payment,
                            "balance": balance,
                        }
                    ]
                }
            )
        if principal >= balance:
            raise ValidationError(
                {
                    "number_of_installments": [
                        gettext(
                            "%(financed)s financed at %(rate)s%% a year is paid off by installment %(number)s when "
                            "every installment is rounded to %(payment)s, leaving nothing for the last %(left)s: use "
                            "fewer installments."
                        )
                        % {
                            "financed": terms.financed,
                            "rate": terms.rate,
                            "number": number,
                            "payment": payment,
                            "left": n - number,
                        }
                    ]
                }
            )
        amounts.append(payment)
        principals.append(principal)
        interests.append(interest)
        balance -= principal
    interest = _round_ratio(_product(balance, terms.rate), d, currency)
    amounts.append(balance + interest)
    principals.append(balance)
    interests.append(interest)
    return amounts, principals, interests


def _amount_agrees(
    errors: dict[str, list[str]],
    terms: _Terms,
    n: int,
    amount: Decimal,
    columns: tuple[list[Decimal], list[Decimal], list[Decimal]],
    *,
    down: Decimal,
    total: Decimal,
) -> None:
    """Both n and the installment amount given: they must describe this very schedule."""
    amounts = columns[0]
    if terms.method == FinanceChargeMethod.DECLINING_BALANCE:
        if amount != amounts[0]:
            _add(
                errors,
                "installment_amount",
                gettext(
                    "The installment %(amount)s does not match the payment %(payment)s for %(financed)s financed at "
                    "%(rate)s%% a year over %(count)s %(frequency)s installments."
                )
                % {
                    "amount": amount,
                    "payment": amounts[0],
                    "financed": terms.financed,
                    "rate": terms.rate,
                    "count": n,
                    "frequency": terms.frequency_text,
                },
            )
        return
    owed = sum(amounts, ZERO)
    if amount * n == owed:
        return
    charge = owed - terms.financed
    values = {
        "down": down,
        "count": n,
        "amount": amount,
        "sum": down + amount * n,
        "total": total,
        "charge": charge,
        "payable": total + charge,
    }
    if charge:
        problem = gettext(
            "Down payment %(down)s + %(count)s × %(amount)s = %(sum)s does not equal the total %(total)s plus the "
            "finance charge %(charge)s (%(payable)s)."
        )
    else:
        problem = gettext(
            "Down payment %(down)s + %(count)s × %(amount)s = %(sum)s does not equal the total %(total)s."
        )
    if amounts[0] == amounts[-1]:
        hint = gettext("%(count)s installments of %(amount)s would.") % {"count": n, "amount": amounts[0]}
    elif n > 1:
        hint = gettext("For %(count)s installments leave the installment amount empty: %(split)s.") % {
            "count": n,
            "split": _describe_split(amounts),
        }
    else:
        hint = ""
    # Two sentences, each translated whole.
    _add(errors, "installment_amount", f"{problem % values} {hint}".strip())


def _installments_for_amount(
    terms: _Terms, amount: Decimal
) -> tuple[int, tuple[list[Decimal], list[Decimal], list[Decimal]]]:
    """Only the installment amount given: the (smallest) number of installments it pays off exactly."""
    if terms.method == FinanceChargeMethod.DECLINING_BALANCE:
        # The payment falls as n grows (exact value, then monotone rounding): search for the first n whose
        # payment is not above the amount.
        low, high = 1, MAX_INSTALLMENTS + 1
        while low < high:
            middle = (low + high) // 2
            if _annuity_payment(terms, middle) <= amount:
                high = middle
            else:
                low = middle + 1
        matches = range(low, MAX_INSTALLMENTS + 1)
        first_below = low
    else:
        matches = [n for n in range(1, MAX_INSTALLMENTS + 1) if amount * n == _owed(terms, n)]
        first_below = next(
            (n for n in range(1, MAX_INSTALLMENTS + 1) if _regular_amount(terms, n) < amount),
            MAX_INSTALLMENTS + 1,
        )
    # The smallest n that fits and gives a valid schedule; if every fitting n fails, the first one's error.
    first_error = None
    for n in matches:
        if terms.method == FinanceChargeMethod.DECLINING_BALANCE and _annuity_payment(terms, n) != amount:
            break
        try:
            return n, _columns(terms, n)
        except ValidationError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    raise ValidationError({"installment_amount": [_no_whole_number_message(terms, amount, first_below)]})


def _no_whole_number_message(terms: _Terms, amount: Decimal, first_below: int) -> str:
    """Explain that no n fits the amount, and suggest the nearest n on either side."""
    values = {
        "amount": amount,
        "financed": terms.financed,
        "rate": terms.rate,
        "frequency": terms.frequency_text,
        "most": MAX_INSTALLMENTS,
    }
    if first_below > MAX_INSTALLMENTS:
        if terms.method == FinanceChargeMethod.NONE:
            problem = gettext(
                "Installments of %(amount)s do not pay off %(financed)s financed within %(most)s installments, the "
                "most allowed"
            )
        else:
            problem = gettext(
                "Installments of %(amount)s do not pay off %(financed)s financed with its finance charge within "
                "%(most)s installments, the most allowed"
            )
    elif terms.method == FinanceChargeMethod.DECLINING_BALANCE:
        problem = gettext(
            "%(amount)s is not the installment for %(financed)s financed at %(rate)s%% a year for any number of "
            "%(frequency)s installments from 1 to %(most)s"
        )
    elif terms.method == FinanceChargeMethod.FLAT:
        problem = gettext(
            "No number of installments of %(amount)s adds up to %(financed)s financed plus its flat finance charge "
            "at %(rate)s%% a year"
        )
    else:
        problem = gettext("%(financed)s is not a whole number of installments of %(amount)s")
    problem %= values
    choices = []
    for n in (first_below - 1, first_below):
        if not 1 <= n <= MAX_INSTALLMENTS:
            continue
        try:
            amounts = _columns(terms, n)[0]
        except ValidationError:
            continue
        choices.append((n, amounts))
    if not choices:
        return gettext("%(problem)s: give the number of installments instead.") % {"problem": problem}
    texts = [_choice_text(terms, n, amounts, first=index == 0) for index, (n, amounts) in enumerate(choices)]
    if len(texts) == 1:
        suggestion = texts[0]
    else:
        suggestion = gettext("%(first)s or %(second)s") % {"first": texts[0], "second": texts[1]}
    return gettext("%(problem)s: try %(suggestion)s.") % {"problem": problem, "suggestion": suggestion}


def _choice_text(terms: _Terms, n: int, amounts: list[Decimal], *, first: bool) -> str:
    """One suggested count: "5 installments of 210.00"; the second of two is shorter: "6 of 175.00"."""
    if terms.method == FinanceChargeMethod.DECLINING_BALANCE or amounts[0] == amounts[-1]:
        if first:
            return ngettext("%(count)s installment of %(amount)s", "%(count)s installments of %(amount)s", n) % {
                "count": n,
                "amount": amounts[0],
            }
        return gettext("%(count)s of %(amount)s") % {"count": n, "amount": amounts[0]}
    if first:
        return gettext("%(count)s installments (%(split)s)") % {"count": n, "split": _describe_split(amounts)}
    return f"{n} ({_describe_split(amounts)})"


# Small helpers ----------------------------------------------------------------------------------------------


def _rows(
    columns: tuple[list[Decimal], list[Decimal], list[Decimal]], due_dates: list[date]
) -> tuple[ScheduleRow, ...]:
    amounts, principals, interests = columns
    return tuple(
        ScheduleRow(number=number, due_date=due, amount=amount, principal=principal, interest=interest)
        for number, (due, amount, principal, interest) in enumerate(
            zip(due_dates, amounts, principals, interests, strict=True), start=1
        )
    )


def _due_dates(start_date: date, first_due_date: date | None, frequency: str, n: int) -> list[date]:
    """Counted from the anchor, never from the previous row, so month ends do not drift."""
    if first_due_date is not None:
        return [due_date_for(first_due_date, frequency, k - 1) for k in range(1, n + 1)]
    return [due_date_for(start_date, frequency, k) for k in range(1, n + 1)]


def _describe_split(amounts: list[Decimal]) -> str:
    return gettext("%(count)s of %(amount)s and a last one of %(last)s") % {
        "count": len(amounts) - 1,
        "amount": amounts[0],
        "last": amounts[-1],
    }


def _too_small(message: str, owed: Decimal, n: int, currency: str) -> str:
    """A row would be zero. ``message`` names ``%(owed)s``, ``%(count)s`` and ``%(unit)s``; when what is owed does
    not depend on n it also says how many rows fit (``%(most)s``)."""
    unit = quantum(currency)
    return message % {"owed": owed, "count": n, "unit": unit, "most": int(owed / unit)}


def _past_9999(n: int, frequency: str, start_date: date) -> str:
    return gettext("%(count)s %(frequency)s installments from %(start_date)s run past the year 9999.") % {
        "count": n,
        "frequency": _frequency_text(frequency),
        "start_date": start_date,
    }
