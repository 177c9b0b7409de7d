"""Amounts on the pages are read in the page's language: 1,200.50 in English, 1.200,50 in Spanish, Latin or
Arabic-Indic digits in Arabic; what reads two ways or not at all is a form error showing the expected form."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from installments.tests.factories import plan_make
from payments.models import Payment
from taqsit.forms import AmountField, amount_fields_localize
from taqsit.tests.pages import html, signed_in


class _Form(forms.Form):
    amount = AmountField(label="Amount")
    rate = AmountField(label="Rate", required=False, percent=True)


def _read(language: str, text: str, *, currency: str = "USD") -> tuple[Decimal | None, list[str]]:
    with translation.override(language):
        form = _Form({"amount": text})
        amount_fields_localize(form, currency=currency)
        valid = form.is_valid()
        return (form.cleaned_data["amount"] if valid else None), [str(e) for e in form.errors.get("amount", [])]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "1,200.50", Decimal("1200.50")),
        ("en", "1200.5", Decimal("1200.5")),
        ("en", " 250 ", Decimal("250")),
        ("en", "0.125", Decimal("0.125")),
        ("es", "1.200,50", Decimal("1200.50")),
        ("es", "1200,5", Decimal("1200.5")),
        ("es", "1.200", Decimal("1200")),
        ("ar", "١٬٢٠٠٫٥٠", Decimal("1200.50")),
        ("ar", "١٢٠٠٫٥", Decimal("1200.5")),
        ("ar", "1,200.50", Decimal("1200.50")),
        ("ar", "۱۲۰۰", Decimal("1200")),
    ],
)
def test_an_amount_is_read_the_way_the_pages_language_writes_it(language, text, expected):
    amount, errors = _read(language, text)
    assert errors == []
    assert amount == expected
    assert str(amount) == str(expected)


@pytest.mark.parametrize(
    ("language", "text", "message"),
    [
        # A thousands group or a fraction? Two decimals are all a dollar has: the page asks.
        ("es", "1,200", "Introduzca un importe como 1.200,50."),
        ("en", "1.200", "Enter an amount such as 1,200.50."),
        # Grouped the other language's way, or grouped wrong.
        ("en", "1.200,50", "Enter an amount such as 1,200.50."),
        ("es", "1,200.50", "Introduzca un importe como 1.200,50."),
        ("en", "12,00", "Enter an amount such as 1,200.50."),
        # What Python's Decimal would take but no clerk writes.
        ("en", "1e2", "Enter an amount such as 1,200.50."),
        ("en", "1_000", "Enter an amount such as 1,200.50."),
        ("en", "NaN", "Enter an amount such as 1,200.50."),
        ("en", "12 500", "Enter an amount such as 1,200.50."),
        ("en", "1" * 33, "Enter an amount such as 1,200.50."),
        ("ar", "١٫٢٠٠", "أدخل مبلغًا مثل 1,200.50."),
        ("ar", "abc", "أدخل مبلغًا مثل 1,200.50."),
    ],
)
def test_an_amount_that_reads_two_ways_or_none_is_a_form_error_showing_the_expected_form(language, text, message):
    amount, errors = _read(language, text)
    assert amount is None
    assert errors == [message]


def test_three_decimals_are_a_fraction_for_a_currency_that_has_them():
    assert _read("es", "1,250", currency="KWD") == (Decimal("1.250"), [])
    assert _read("en", "1,25.0", currency="KWD") == (None, ["Enter an amount such as 1,200.505."])
    assert _read("en", "1.250", currency="KWD") == (Decimal("1.250"), [])
    assert _read("es", "1,250", currency="JPY") == (None, ["Introduzca un importe como 1.200."])


def test_an_empty_optional_amount_is_none_and_a_required_one_is_asked_for():
    with translation.override("en"):
        form = _Form({"amount": "", "rate": ""})
        assert not form.is_valid()
        assert form.errors["amount"] == ["This field is required."]
        assert form.cleaned_data["rate"] is None


@pytest.mark.parametrize(
    ("language", "amount", "rate"),
    [("en", "1,234,567.50", "12.5"), ("es", "1.234.567,50", "12,5"), ("ar", "1,234,567.50", "12.5")],
)
def test_initial_values_are_shown_the_way_they_are_read(language, amount, rate):
    with translation.override(language):
        form = _Form(initial={"amount": Decimal("1234567.5"), "rate": Decimal("12.500")})
        assert form["amount"].value() == amount
        assert form["rate"].value() == rate
        assert 'inputmode="decimal"' in str(form["amount"])
        assert 'maxlength="32"' in str(form["amount"])
        # What is shown reads back as the same amount.
        assert _read(language, amount) == (Decimal("1234567.50"), [])


# The pages ----------------------------------------------------------------------------------------------------


def _speaking(client, settings, user, language: str):
    client = signed_in(client, settings, user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _value(body: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', body).group(1)


def _pay(amount: str) -> dict:
    return {"token": f"web-{amount}", "amount": amount, "payment_date": "2026-03-01", "payment_method": "cash"}


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "shown", "typed"), [("en", "200.00", "150.50"), ("es", "200,00", "150,50")])
def test_the_counter_offers_and_reads_the_amount_in_the_pages_language(
    client, settings, owner, clerk, customer, today, language, shown, typed
):
    plan = plan_make(actor=owner, customer=customer)
    client = _speaking(client, settings, clerk, language)
    url = reverse("payments:payment-create", args=[plan.pk])

    assert _value(html(client.get(url)), "amount") == shown
    response = client.post(url, _pay(typed))

    assert response.status_code == 302
    assert Payment.objects.get(plan=plan, payment_number=2).amount == Decimal("150.500")


@pytest.mark.django_db
def test_an_arabic_clerk_pays_in_arabic_indic_digits(client, settings, owner, clerk, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    client = _speaking(client, settings, clerk, "ar")

    response = client.post(reverse("payments:payment-create", args=[plan.pk]), _pay("١٥٠٫٥٠"))

    assert response.status_code == 302
    assert Payment.objects.get(plan=plan, payment_number=2).amount == Decimal("150.500")


@pytest.mark.django_db
def test_an_ambiguous_amount_at_the_counter_records_nothing(client, settings, owner, clerk, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    client = _speaking(client, settings, clerk, "es")

    body = html(client.post(reverse("payments:payment-create", args=[plan.pk]), _pay("1,500")))

    assert (
        '<div class="invalid-feedback d-block" id="id_amount_error">Introduzca un importe como 1.200,50.</div>' in body
    )
    assert _value(body, "amount") == "1,500"
    assert Payment.objects.filter(plan=plan).count() == 1


@pytest.mark.django_db
def test_a_spanish_plan_form_reads_prices_the_spanish_way(client, settings, clerk, customer, today):
    client = _speaking(client, settings, clerk, "es")
    data = {
        "token": "web-es-plan",
        "customer": str(customer.pk),
        "total_amount": "",
        "down_payment": "200,00",
        "installment_frequency": "monthly",
        "number_of_installments": "4",
        "installment_amount": "",
        "start_date": "2026-03-01",
        "finance_charge_method": "flat",
        "interest_rate": "12,5",
        "notes": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
        "items-0-description": "Nevera",
        "items-0-quantity": "1",
        "items-0-unit_price": "1.200,50",
    }

    response = client.post(reverse("installments:plan-create"), data)

    assert response.status_code == 302
    plan = customer.plans.get()
    assert plan.total_amount == Decimal("1200.500")
    assert plan.down_payment == Decimal("200.000")
    assert plan.interest_rate == Decimal("12.500")


@pytest.mark.django_db
def test_merchant_settings_show_and_read_amounts_in_the_pages_language(client, settings, owner, merchant):
    merchant.late_fee_method = "fixed"
    merchant.late_fee_amount = Decimal("1500")
    merchant.save()
    client = _speaking(client, settings, owner, "es")
    url = reverse("taqsit:merchant-settings")
    body = html(client.get(url))
    assert _value(body, "late_fee_amount") == "1.500,00"
    assert _value(body, "late_fee_percent") == "0"

    data = {
        "name": merchant.name,
        "currency": merchant.currency,
        "timezone": merchant.timezone,
        "language": merchant.language,
        "country": merchant.country,
        "reminder_days_before": merchant.reminder_days_before,
        "grace_days": merchant.grace_days,
        "late_fee_method": "fixed",
        "late_fee_amount": "2.500,75",
        "late_fee_percent": "",
        "late_fee_cap": "",
        "default_after_days": merchant.default_after_days,
    }
    response = client.post(url, data)

    assert response.status_code == 302
    merchant.refresh_from_db()
    assert merchant.late_fee_amount == Decimal("2500.750")
    assert merchant.late_fee_cap is None


@pytest.mark.django_db
def test_the_product_picker_carries_each_price_as_the_page_reads_it(client, settings, clerk, merchant):
    from installments.tests.factories import ProductFactory

    fridge = ProductFactory(merchant=merchant, name="Nevera", sku="", price=Decimal("1250.5"))
    body = html(_speaking(client, settings, clerk, "es").get(reverse("installments:plan-create")))

    assert (
        f'<option value="{fridge.pk}" data-price="1.250,50" data-price-label="Precio: 1.250,50\xa0US$">Nevera</option>'
        in body
    )
