"""Money as people read it, in one place: a page (the reader's language, bidi-safe), a message to a customer
(their language, plain text), a figure (CSV files and validation messages) and a figure with its code (the admin).

Amounts are rounded to the currency's minor unit by ``taqsit.money`` first; the written forms come from Babel
(CLDR): "1,234.50 US$" / "1.234,50 US$" / "US$ 1,234.50".
"""

from __future__ import annotations

import functools
from decimal import Decimal

from babel.numbers import format_currency, get_currency_symbol
from django.conf import settings
from django.utils.translation import get_language, get_language_bidi, to_locale

from taqsit.money import as_decimal, is_exact, to_money


def money_html(value: Decimal | int | str | None, currency: str) -> str:
    """Rounded to the currency's minor unit and written the way the active language writes money (1,234.50 US$ /
    1.234,50 US$ / ‏1,234.50 US$); in a right-to-left page the symbol is isolated and a minus kept on the right,
    where a right-to-left reader starts. Empty for no amount."""
    if value is None or value == "" or not currency:
        return ""
    amount = to_money(as_decimal(value), currency)
    return _money_html(str(amount), currency, to_locale(get_language() or "en"), get_language_bidi())


# A page writes the same amounts again and again (a list's rows, the next request's): the written form of an
# exact amount in a currency, language and direction never changes, and Babel takes about 0.2 ms to make it.
@functools.lru_cache(maxsize=8192)
def _money_html(amount_text: str, currency: str, locale: str, bidi: bool) -> str:
    amount = Decimal(amount_text)
    text = format_currency(amount, currency, locale=locale)
    if bidi:
        # In a right-to-left page a Latin symbol ("US$") would be torn apart by the bidi algorithm ("$US"):
        # isolate it (FSI ... PDI) so it keeps its own direction, as CLDR's pattern intends.
        symbol = get_currency_symbol(currency, locale=locale)
        text = text.replace(symbol, f"\u2068{symbol}\u2069", 1)
        if amount < 0:
            # An Arabic letter mark before the minus binds it to the number's right-to-left start whatever text
            # comes before (CLDR's Arabic minus sign): "‏؜-1,200.50 US$" shows as "US$ 1,200.50-".
            text = text.replace("-", "\u061c-", 1)
    return text


def money_text(value: Decimal | int | str, currency: str, language: str | None) -> str:
    """Plain text for an SMS, an e-mail or an in-app message: rounded to the currency's unit and written as
    ``language`` writes money ("$1,234.50", "1.234,50 US$"), English for a language messages are not written in."""
    locale = language if language in dict(settings.LANGUAGES) else "en"
    return format_currency(to_money(value, currency), currency, locale=locale)


def money_figure(value: Decimal | int | str, currency: str) -> str:
    """A plain number for a CSV cell or a validation message: in the currency's unit when it fits ("1200.50",
    "12.345", "5000"), else as given, so a refused amount is quoted as it was typed."""
    amount = as_decimal(value)
    return str(to_money(amount, currency)) if is_exact(amount, currency) else str(amount)


def money_coded(value: Decimal | int | str | None, currency: str) -> str | None:
    """The figure and its ISO code for the admin, the same in every language: ``1234.50 USD``; None stays empty."""
    if value is None:
        return None
    return f"{to_money(value, currency)} {currency}"
