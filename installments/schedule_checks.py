"""The checks of a plan's terms as given (currency, amounts, count, frequency, rate, dates), each refusal worded
for a clerk and filed under its field; the schedule engine runs them all before any arithmetic."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from installments.schedule_terms import (
    FREQUENCY_FIELD,
    MAX_INSTALLMENTS,
    MAX_INTEREST_RATE,
    RATE_DECIMAL_PLACES,
    FinanceChargeMethod,
    Frequency,
)
from taqsit.money import (
    MONEY_MAX,
    ZERO,
    as_decimal,
    currency_validate,
    decimal_places_message,
    is_exact,
    to_money,
    too_large_message,
)


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _merge(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for field, messages in exc.message_dict.items():
        errors.setdefault(field, []).extend(messages)


def _frequency_text(frequency: str) -> str:
    """The frequency's name in the active language, lower case as inside a sentence ("monthly")."""
    return Frequency(frequency).label.lower() if frequency in Frequency.values else str(frequency)


def _unknown_frequency(value: object) -> str:
    return gettext("%(value)s is not a frequency: choose one of %(choices)s.") % {
        "value": repr(value),
        "choices": ", ".join(Frequency.values),
    }


def _currency_check(currency: str, errors: dict[str, list[str]]) -> bool:
    try:
        currency_validate(currency)
    except ValidationError as exc:
        errors.setdefault("currency", []).extend(exc.messages)
        return False
    return True


def _money_input(
    errors: dict[str, list[str]], field: str, value: Decimal | int | str, currency: str | None
) -> Decimal | None:
    """Parse an amount (a float raises TypeError); None, with the error recorded, when it cannot be used."""
    try:
        amount = as_decimal(value)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)
        return None
    if abs(amount) > MONEY_MAX:
        _add(errors, field, too_large_message(amount))
        return None
    if currency is None:
        return amount
    if not is_exact(amount, currency):
        _add(errors, field, decimal_places_message(amount, currency))
        return None
    return to_money(amount, currency)


def _installments_check(errors: dict[str, list[str]], n: object) -> None:
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, int):
        _add(
            errors,
            "number_of_installments",
            gettext("The number of installments must be a whole number, not %(value)s.") % {"value": repr(n)},
        )
    elif not 1 <= n <= MAX_INSTALLMENTS:
        _add(
            errors,
            "number_of_installments",
            gettext("The number of installments must be from 1 to %(most)s, not %(value)s.")
            % {"most": MAX_INSTALLMENTS, "value": n},
        )


def _frequency_check(errors: dict[str, list[str]], frequency: str) -> None:
    if frequency not in Frequency.values:
        _add(errors, FREQUENCY_FIELD, _unknown_frequency(frequency))


def _rate_check(errors: dict[str, list[str]], method: str, interest_rate: object) -> Decimal | None:
    """The annual percent rate the method needs: none for `none`, 0 < rate <= MAX for the others."""
    if method not in FinanceChargeMethod.values:
        _add(
            errors,
            "finance_charge_method",
            gettext("%(value)s is not a finance charge method: choose one of %(choices)s.")
            % {"value": repr(method), "choices": ", ".join(FinanceChargeMethod.values)},
        )
    if interest_rate is None:
        rate = None
    else:
        try:
            rate = as_decimal(interest_rate)
        except ValidationError as exc:
            errors.setdefault("interest_rate", []).extend(exc.messages)
            return None
    if method == FinanceChargeMethod.NONE:
        if rate:
            _add(
                errors,
                "interest_rate",
                gettext(
                    "An interest rate of %(rate)s%% needs a finance charge method (flat or declining balance); with "
                    "no finance charge leave the rate empty."
                )
                % {"rate": rate},
            )
        return None
    if method not in FinanceChargeMethod.values:
        return None
    label = FinanceChargeMethod(method).label.lower()
    if rate is None:
        _add(
            errors,
            "interest_rate",
            gettext("A %(method)s finance charge needs an annual interest rate.") % {"method": label},
        )
    elif not ZERO < rate <= MAX_INTEREST_RATE:
        _add(
            errors,
            "interest_rate",
            gettext(
                "The interest rate for a %(method)s finance charge must be more than 0%% and at most %(most)s%%, "
                "not %(rate)s%%."
            )
            % {"method": label, "most": MAX_INTEREST_RATE, "rate": rate},
        )
    elif rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMAL_PLACES), rounding=ROUND_DOWN):
        _add(
            errors,
            "interest_rate",
            gettext("%(rate)s%% has more than %(places)s decimal places.")
            % {"rate": rate, "places": RATE_DECIMAL_PLACES},
        )
    else:
        return rate
    return None


def _dates_check(errors: dict[str, list[str]], start_date: object, first_due_date: object, due_date: object) -> None:
    for field, value in (
        ("start_date", start_date),
        ("first_due_date", first_due_date),
        ("due_date", due_date),
    ):
        if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
            _add(errors, field, gettext("%(value)s is not a date.") % {"value": repr(value)})
    if start_date is None:
        _add(errors, "start_date", gettext("The start date is required."))
    if (
        first_due_date is not None
        and "start_date" not in errors
        and "first_due_date" not in errors
        and first_due_date <= start_date
    ):
        _add(
            errors,
            "first_due_date",
            gettext("The first due date %(first_due_date)s must be after the start date %(start_date)s.")
            % {"first_due_date": first_due_date, "start_date": start_date},
        )
