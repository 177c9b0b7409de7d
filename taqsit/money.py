"""Money: Decimal only, rounded to the currency's minor unit with ROUND_HALF_UP, in one place.

Amounts are stored as ``DecimalField(max_digits=14, decimal_places=3)`` whatever the currency; the currency
decides how many of those places are used (2 for USD, 3 for KWD, 0 for JPY...), per ISO 4217 / CLDR via Babel.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from taqsit.error_codes import ErrorCode

ZERO = Decimal("0")
MAX_DIGITS = 14
DECIMAL_PLACES = 3
MONEY_MAX = Decimal("99999999999.999")


class MoneyField(models.DecimalField):
    """The one field type for amounts: DECIMAL(14, 3), whatever the currency."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_validate(code: str) -> None:
    """Raise ValidationError unless ``code`` is an ISO 4217 currency Babel knows."""
    if code not in currency_codes():
        raise ValidationError(
            _("%(code)s is not an ISO 4217 currency code.") % {"code": repr(code)}, code=ErrorCode.INVALID_CURRENCY
        )


@cache
def minor_unit(currency: str) -> int:
    """Digits after the decimal point for ``currency``: 2 for USD, 3 for KWD, 0 for JPY."""
    return get_currency_precision(currency)


@cache
def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: Decimal('0.01') for USD, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-minor_unit(currency))


def as_decimal(value: Decimal | int | str) -> Decimal:
    """Parse ``value`` as a Decimal; floats are refused because they are not exact."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"Money must be Decimal, int or str, not {type(value).__name__}.")
    if isinstance(value, Decimal):
        result = value
    else:
        text = str(value).strip()
        if "_" in text:
            raise ValidationError(_("%(value)s is not a number.") % {"value": repr(value)}, code=ErrorCode.INVALID)
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise ValidationError(
                _("%(value)s is not a number.") % {"value": repr(value)}, code=ErrorCode.INVALID
            ) from exc
    if not result.is_finite():
        raise ValidationError(_("%(value)s is not a finite number.") % {"value": repr(value)}, code=ErrorCode.INVALID)
    if result.adjusted() > 20:
        # Far beyond what any amount column stores: refuse before quantize() overflows the decimal context.
        raise ValidationError(too_large_message(result), code=ErrorCode.MAX_VALUE)
    return result


def too_large_message(value: Decimal) -> str:
    """The refusal of an amount beyond what an amount column stores, in the active language."""
    return _("%(amount)s is more than the largest amount that can be recorded (%(max)s).") % {
        "amount": value,
        "max": MONEY_MAX,
    }


def decimal_places_message(value: Decimal, currency: str) -> str:
    """The refusal of an amount finer than the currency's minor unit, in the active language."""
    return _("%(amount)s has more decimal places than %(currency)s allows (%(places)s).") % {
        "amount": value,
        "currency": currency,
        "places": minor_unit(currency),
    }


def to_money(value: Decimal | int | str, currency: str) -> Decimal:
    """Round ``value`` half-up to ``currency``'s minor unit."""
    return as_decimal(value).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def money_floor(value: Decimal | int | str, currency: str) -> Decimal:
    """Round ``value`` toward zero to ``currency``'s minor unit (for equal splits: the last share absorbs)."""
    return as_decimal(value).quantize(quantum(currency), rounding=ROUND_DOWN)


def is_exact(value: Decimal, currency: str) -> bool:
    """True when ``value`` has no digits below ``currency``'s minor unit."""
    return value == value.quantize(quantum(currency), rounding=ROUND_DOWN)


def split_equal(amount: Decimal, parts: int, currency: str) -> list[Decimal]:
    """Split ``amount`` into ``parts`` shares: each is amount/parts rounded down, the last takes the rest.

    The shares always add up exactly to ``amount``, and the last is never smaller than the others.
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    share = money_floor(amount / parts, currency)
    return [share] * (parts - 1) + [amount - share * (parts - 1)]


def sum_of(field: str, **filter_kwargs) -> Coalesce:
    """``Coalesce(Sum(field), 0)`` typed as a money field, for aggregates and annotations."""
    output = models.DecimalField(max_digits=MAX_DIGITS + 6, decimal_places=DECIMAL_PLACES)
    if filter_kwargs:
        return Coalesce(Sum(field, filter=models.Q(**filter_kwargs)), ZERO, output_field=output)
    return Coalesce(Sum(field), ZERO, output_field=output)


PERCENT_PLACES = 2


def percent_of(part: Decimal, whole: Decimal, *, places: int = PERCENT_PLACES) -> Decimal | None:
    """``part`` as a percentage of ``whole``, rounded half-up to ``places`` decimals (87.35); None when ``whole``
    is zero, since no share of nothing is meaningful."""
    if not whole:
        return None
    return (as_decimal(part) * 100 / as_decimal(whole)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
