"""Template helpers of the staff pages: money in the merchant's currency and the reader's language."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from babel.numbers import format_currency, format_percent, get_currency_symbol
from django import template
from django.utils.translation import get_language, get_language_bidi, to_locale

from taqsit.money import as_decimal, to_money

register = template.Library()


@register.filter
def money(value: Decimal | int | str | None, currency: str) -> str:
    """``{{ amount|money:currency }}``: rounded to the currency's minor unit and written the way the active
    language writes money (1,234.50 US$ / 1.234,50 US$ / ‏1,234.50 US$), by Babel from CLDR; a negative amount
    in Arabic keeps its minus on the right, where a right-to-left reader starts."""
    if value is None or value == "" or not currency:
        return ""
    amount = to_money(as_decimal(value), currency)
    locale = to_locale(get_language() or "en")
    text = format_currency(amount, currency, locale=locale)
    if get_language_bidi():
        # In a right-to-left page a Latin symbol ("US$") would be torn apart by the bidi algorithm ("$US"):
        # isolate it (FSI ... PDI) so it keeps its own direction, as CLDR's pattern intends.
        symbol = get_currency_symbol(currency, locale=locale)
        text = text.replace(symbol, f"\u2068{symbol}\u2069", 1)
        if amount < 0:
            # An Arabic letter mark before the minus binds it to the number's right-to-left start whatever text
            # comes before (CLDR's Arabic minus sign): "‏؜-1,200.50 US$" shows as "US$ 1,200.50-".
            text = text.replace("-", "\u061c-", 1)
    return text


@register.filter
def percent(value: Decimal | int | str | None) -> str:
    """``{{ rate|percent }}``: a percentage (87.35 for 87.35 %) written the way the active language writes one."""
    if value is None or value == "":
        return ""
    locale = to_locale(get_language() or "en")
    return format_percent(as_decimal(value) / 100, format="#,##0.##%", locale=locale)


@register.filter
def minutes(value: timedelta) -> int:
    """``{{ delay|minutes }}``: a duration in whole minutes, rounded up (a 90-second wait is 2 minutes)."""
    return math.ceil(value.total_seconds() / 60)


_WIDGET_CLASSES = {"checkbox": "form-check-input", "select": "form-select", "radioselect": "form-check-input"}


@register.filter
def bootstrap(field) -> str:
    """Render a bound field's widget with Bootstrap's class (and ``is-invalid`` when it has errors), so any
    form, Django's own log-in and password forms included, looks and reads the same."""
    css = _WIDGET_CLASSES.get(field.widget_type, "form-control")
    if field.errors:
        css += " is-invalid"
    existing = field.field.widget.attrs.get("class", "")
    attrs = {"class": f"{existing} {css}".strip()}
    if field.errors:
        attrs["aria-invalid"] = "true"
        help_id = f" {field.auto_id}_helptext" if field.help_text else ""
        attrs["aria-describedby"] = f"{field.auto_id}_error{help_id}"
    return field.as_widget(attrs=attrs)
