"""A cell's value read in the merchant's conventions: amounts in the file's language (decimal comma in Spanish
and Arabic, as the pages read them: taqsit/forms.py ``AmountField``), phones with the merchant's country, dates in
ISO or as the file's language writes them. Each reader returns the value or raises ValidationError with a message
a clerk can act on."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_decimal_symbol
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import override, to_locale

from imports.columns import header_normalize
from taqsit.forms import AmountField
from taqsit.money import is_exact, minor_unit
from taqsit.phone import phone_normalize

# Arabic-Indic and Eastern Arabic-Indic digits read as 0-9 in dates and whole numbers (amounts: AmountField).
_DIGITS = {**{0x0660 + n: str(n) for n in range(10)}, **{0x06F0 + n: str(n) for n in range(10)}}
# Arabic-speaking countries write the day first: 31/01/2026 (Django's own Arabic formats put the month first).
_DAY_FIRST = ("%d/%m/%Y", "%d-%m-%Y", "%d/%m/%y")


def text(value: object) -> str:
    """A cell as text: a whole number a spreadsheet stored as a number loses its ".0" (a phone, a code)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def amount(value: object, *, currency: str, language: str) -> Decimal:
    """An amount: a spreadsheet's number as it shows it, or text as the file's language writes it; exact to the
    currency's unit."""
    if isinstance(value, bool):
        raise ValidationError(_("%(value)s is not an amount.") % {"value": value})
    if isinstance(value, int | float):
        # A spreadsheet keeps numbers as binary floats: their shortest decimal form is what the cell shows.
        try:
            parsed = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation as exc:
            raise ValidationError(_("%(value)s is not an amount.") % {"value": value}) from exc
    else:
        parsed = _plain_amount(text(value), currency=currency, language=language)
        if parsed is None:
            with override(language):
                parsed = AmountField(places=minor_unit(currency)).clean(text(value))
    if parsed is None:
        raise ValidationError(_("This field is required."))
    if not parsed.is_finite() or not is_exact(parsed, currency):
        raise ValidationError(
            _("%(amount)s has more decimal places than %(currency)s allows (%(places)s).")
            % {"amount": text(value), "currency": currency, "places": minor_unit(currency)}
        )
    return parsed


@cache
def _plain_pattern(language: str, places: int) -> re.Pattern:
    """Digits, and at most the currency's decimals after the language's decimal sign: read as is."""
    decimal = get_decimal_symbol(to_locale(language))
    fraction = rf"(?:{re.escape(decimal)}[0-9]{{1,{places}}})?" if places else ""
    return re.compile(rf"([0-9]{{1,15}}){fraction}")


def _plain_amount(raw: str, *, currency: str, language: str) -> Decimal | None:
    """The common case without the locale parser (it costs a millisecond a cell): a plain number such as 1200 or
    1200.50 (1200,50 in Spanish). Anything else (thousands separators, Arabic-Indic digits) goes to ``AmountField``."""
    if not _plain_pattern(language, minor_unit(currency)).fullmatch(raw):
        return None
    whole, _sign, fraction = raw.partition(get_decimal_symbol(to_locale(language)))
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


def date_formats(language: str) -> list[str]:
    """ISO first, then the language's own ways of writing a date."""
    own = list(_DAY_FIRST) if language == "ar" else list(get_format("DATE_INPUT_FORMATS", lang=language))
    return ["%Y-%m-%d", *[form for form in own if form != "%Y-%m-%d"]]


def day(value: object, *, language: str) -> date:
    """A date: a spreadsheet's date cell, or text in ISO (2026-01-31) or as the file's language writes it."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value).translate(_DIGITS)
    for form in date_formats(language):
        try:
            return datetime.strptime(raw, form).date()  # noqa: DTZ007 - a calendar date, no time or zone
        except ValueError:
            continue
    with override(language):
        example = date(2026, 1, 31).strftime(date_formats(language)[1])
    raise ValidationError(
        _("%(value)s is not a date: write it as 2026-01-31 or %(example)s.") % {"value": repr(raw), "example": example}
    )


def whole_number(value: object) -> int:
    """A whole number (a spreadsheet's 12.0 is 12)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raw = text(value).translate(_DIGITS)
    if not raw.isdigit():
        raise ValidationError(_("%(value)s is not a whole number.") % {"value": repr(raw)})
    return int(raw)


def phone(value: object, *, country: str) -> str:
    """A phone in E.164: international, or local to the merchant's country."""
    return phone_normalize(text(value).translate(_DIGITS), region=country or None)


def rate(value: object, *, language: str) -> Decimal:
    """An annual percentage rate (up to three decimals), as the file's language writes it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    with override(language):
        parsed = AmountField(percent=True).clean(text(value))
    if parsed is None:
        raise ValidationError(_("This field is required."))
    return parsed


@cache
def _choice_names(choices: type) -> dict[str, str]:
    names = {}
    for member in choices:
        names[header_normalize(member.value)] = member.value
        for code, _name in settings.LANGUAGES:
            with override(code):
                names[header_normalize(str(member.label))] = member.value
    return names


def choice(value: object, choices: type) -> str:
    """One of a ``TextChoices``' values, given as the value or its label in any language."""
    found = _choice_names(choices).get(header_normalize(text(value)))
    if found is None:
        raise ValidationError(
            _("%(value)s is not one of: %(choices)s.")
            % {"value": repr(text(value)), "choices": ", ".join(member.value for member in choices)}
        )
    return found
