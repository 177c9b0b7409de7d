"""The message catalog: every language has every message with the same fields, and renders them exactly."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

import pytest

from notifications.messages import CATALOG, date_text, language_for, message_render
from notifications.models import Notification
from taqsit.models import Language
from taqsit.money_format import money_text


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_of_the_product_has_a_catalog():
    assert set(CATALOG) == set(Language.values) == {"en", "ar", "es"}


@pytest.mark.parametrize("language", ["ar", "es"])
def test_each_language_has_the_same_messages_parts_and_fields_as_english(language):
    english = CATALOG["en"]

    assert set(CATALOG[language]) == set(english) == set(Notification.Kind.values)
    for kind, parts in english.items():
        assert set(CATALOG[language][kind]) == set(parts), kind
        for part, template in parts.items():
            assert _fields(CATALOG[language][kind][part]) == _fields(template), (kind, part)


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        (
            "en",
            "Overdue payment: $1,234.50 was due on February 28, 2026",
            "Viejos Recuerdos: installment 2 of plan P-000042 was due on February 28, 2026. Outstanding: $1,234.50.",
        ),
        (
            "ar",
            "دفعة متأخرة: \u200f1,234.50\xa0US$ كان مستحقًا في 28 فبراير 2026",
            "Viejos Recuerdos: القسط رقم 2 من الخطة P-000042 كان مستحقًا في 28 فبراير 2026. "
            "المتبقي: \u200f1,234.50\xa0US$.",
        ),
        (
            "es",
            "Pago vencido: 1.234,50\xa0US$ vencía el 28 de febrero de 2026",
            "Viejos Recuerdos: la cuota 2 del plan P-000042 vencía el 28 de febrero de 2026. "
            "Pendiente: 1.234,50\xa0US$.",
        ),
    ],
)
def test_an_sms_in_each_language(language, subject, body):
    message = message_render(
        kind="overdue_alert",
        channel="sms",
        language=language,
        fields={
            "customer": "Amina",
            "merchant": "Viejos Recuerdos",
            "plan": "P-000042",
            "number": "2",
            "amount": money_text(Decimal("1234.5"), "USD", language),
            "due_date": date_text(date(2026, 2, 28), language),
        },
    )

    assert (message.subject, message.body) == (subject, body)


@pytest.mark.parametrize(
    ("amount", "currency", "language", "text"),
    [
        (Decimal("200"), "USD", "en", "$200.00"),
        (Decimal("0.125"), "KWD", "en", "KWD0.125"),
        (Decimal("1234.5"), "KWD", "ar", "\u200f1,234.500\xa0د.ك.\u200f"),
        (Decimal("2750.4"), "JPY", "es", "2.750\xa0JPY"),
        (Decimal("2.005"), "EUR", "es", "2,01\xa0€"),
    ],
)
def test_money_is_rounded_to_the_currency_and_written_the_languages_way(amount, currency, language, text):
    assert money_text(amount, currency, language) == text


def test_an_unknown_or_missing_language_falls_back_to_english():
    assert language_for("fr") == "en"
    assert language_for("") == "en"
    assert language_for("ar") == "ar"
