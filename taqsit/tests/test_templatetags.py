"""The money filter: amounts in the merchant's currency, written the way the page's language writes them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from taqsit.templatetags.taqsit_tags import money


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", "-1200.5", "USD", "-$1,200.50"),
        ("es", "-1200.5", "USD", "-1.200,50\xa0US$"),
        # Arabic: CLDR's pattern (RLM first), the symbol isolated, and an Arabic letter mark before the minus.
        ("ar", "-1200.5", "USD", "\u200f\u061c-1,200.50\xa0\u2068US$\u2069"),
        ("ar", "-7.25", "SAR", "\u200f\u061c-7.25\xa0\u2068ر.س.\u200f\u2069"),
        ("ar", "1200.5", "USD", "\u200f1,200.50\xa0\u2068US$\u2069"),
        ("ar", "-1200", "JPY", "\u200f\u061c-1,200\xa0\u2068JP¥\u2069"),
    ],
)
def test_money_in_each_language(language, amount, currency, expected):
    with translation.override(language):
        assert money(Decimal(amount), currency) == expected
