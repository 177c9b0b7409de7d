"""Template helpers of the staff pages: money in the merchant's currency and the reader's language."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from babel.numbers import format_percent
from django import template
from django.utils.translation import get_language, to_locale

from taqsit.money import as_decimal
from taqsit.money_format import money_html

register = template.Library()


@register.filter
def money(value: Decimal | int | str | None, currency: str) -> str:
    """``{{ amount|money:currency }}``: the amount as the active language writes money (see ``money_html``)."""
    return money_html(value, currency)


@register.filter
def percent(value: Decimal | int | str | None, places: int | None = None) -> str:
    """``{{ rate|percent }}``: a percentage (87.35 for 87.35 %) written the way the active language writes one;
    ``{{ apr|percent:2 }}`` always shows that many places (12.00 %, as a disclosed rate is stated)."""
    if value is None or value == "":
        return ""
    locale = to_locale(get_language() or "en")
    pattern = "#,##0.##%" if places is None else "#,##0." + "0" * int(places) + "%"
    return format_percent(as_decimal(value) / 100, format=pattern, locale=locale)


@register.filter
def rate(value: Decimal | int | str | None) -> str:
    """``{{ apr|rate }}``: an annual rate with its two places always shown (21.46 %, 0.00 %), as the active
    language writes a percentage."""
    if value is None or value == "":
        return ""
    locale = to_locale(get_language() or "en")
    return format_percent(as_decimal(value) / 100, format="#,##0.00%", locale=locale)


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
