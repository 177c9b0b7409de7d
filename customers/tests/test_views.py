"""Customer pages: search as you type, create and edit through the services, detail with plans and balance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from payments.services import payment_post
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(merchant, other_merchant):
    CustomerFactory(merchant=merchant, name="Omar Farouk", phone="+14155550101", national_id="A-778")
    CustomerFactory(merchant=merchant, name="Lucía Gómez", phone="+14155550102")
    CustomerFactory(merchant=other_merchant, name="Omar Elsewhere", phone="+14155550103")


def test_the_list_shows_the_merchants_customers_only(client, settings, clerk, customers):
    body = html(signed_in(client, settings, clerk).get(reverse("customers:customer-list")))
    assert "Omar Farouk" in body
    assert "Lucía Gómez" in body
    assert "Omar Elsewhere" not in body
    assert 'href="tel:+14155550101"' in body


@pytest.mark.parametrize(
    ("term", "found"),
    [("omar", ["Omar Farouk"]), ("0102", ["Lucía Gómez"]), ("a-778", ["Omar Farouk"]), ("nobody", [])],
)
def test_search_as_you_type_answers_htmx_with_the_results_only(client, settings, clerk, customers, term, found):
    client = signed_in(client, settings, clerk)
    response = client.get(reverse("customers:customer-list"), {"q": term}, headers={"HX-Request": "true"})
    body = html(response)
    assert "<html" not in body  # a fragment for #customer-results
    for name in ("Omar Farouk", "Lucía Gómez", "Omar Elsewhere"):
        assert (name in body) == (name in found)
    if not found:
        assert f"No customer matches “{term}”." in body


def test_the_full_page_search_keeps_the_term(client, settings, clerk, customers):
    body = html(signed_in(client, settings, clerk).get(reverse("customers:customer-list"), {"q": "Omar"}))
    assert 'value="Omar"' in body
    assert 'hx-get="/customers/"' in body
    assert "Lucía Gómez" not in body


def test_the_picker_offers_matching_customers(client, settings, clerk, customers):
    client = signed_in(client, settings, clerk)
    body = html(client.get(reverse("customers:customer-picker"), {"q": "Omar"}))
    farouk = Customer.objects.get(name="Omar Farouk")
    assert f'data-customer-id="{farouk.pk}"' in body
    assert "Omar Elsewhere" not in body
    assert html(client.get(reverse("customers:customer-picker"))).strip() == ""


@pytest.mark.parametrize(("term", "found"), [("lucia gomez", True), ("LUCÍA", True), ("gómez", True), ("lucio", False)])
def test_the_search_and_the_picker_ignore_accents(client, settings, clerk, customers, term, found):
    client = signed_in(client, settings, clerk)
    lucia = Customer.objects.get(name="Lucía Gómez")
    listed = html(client.get(reverse("customers:customer-list"), {"q": term}))
    picked = html(client.get(reverse("customers:customer-picker"), {"q": term}))
    assert (f'href="{reverse("customers:customer-detail", args=[lucia.pk])}"' in listed) is found
    assert (f'data-customer-id="{lucia.pk}"' in picked) is found


def test_an_accented_term_finds_a_name_written_without_accents(client, settings, clerk, merchant, other_merchant):
    jose = CustomerFactory(merchant=merchant, name="Jose Nunez", phone="+14155550111")
    CustomerFactory(merchant=other_merchant, name="José Núñez", phone="+14155550112")
    body = html(signed_in(client, settings, clerk).get(reverse("customers:customer-picker"), {"q": "José Núñ"}))
    assert body.count("data-customer-id=") == 1
    assert f'data-customer-id="{jose.pk}"' in body


def test_a_clerk_adds_a_customer_with_a_local_phone_number(client, settings, clerk, merchant):
    client = signed_in(client, settings, clerk)
    data = {"name": "Karim Said", "phone": "(415) 555-0177", "language": "ar", "national_id": "Z-1"}
    response = client.post(reverse("customers:customer-create"), data, follow=True)
    karim = Customer.objects.get(name="Karim Said")
    assert (karim.merchant, karim.phone, karim.language, karim.created_by) == (merchant, "+14155550177", "ar", clerk)
    assert response.redirect_chain[-1][0] == reverse("customers:customer-detail", args=[karim.pk])
    assert "Customer Karim Said was added." in html(response)


def test_a_taken_phone_is_refused_and_the_form_keeps_what_was_typed(client, settings, clerk, customers):
    client = signed_in(client, settings, clerk)
    data = {"name": "Second Omar", "phone": "+14155550101", "language": "en", "address": "12 Souq Street"}
    response = client.post(reverse("customers:customer-create"), data)
    assert response.status_code == 200
    body = html(response)
    assert "Omar Farouk already has the phone +14155550101." in body
    assert 'value="Second Omar"' in body
    assert "12 Souq Street</textarea>" in body
    assert 'aria-invalid="true"' in body
    assert not Customer.objects.filter(name="Second Omar").exists()


def test_editing_a_customer(client, settings, clerk, customer):
    client = signed_in(client, settings, clerk)
    url = reverse("customers:customer-update", args=[customer.pk])
    assert f'value="{customer.name}"' in html(client.get(url))
    data = {"name": "Amina H. Haddad", "phone": customer.phone, "language": "es", "sms_opt_out": "on"}
    response = client.post(url, data)
    assert response["Location"] == reverse("customers:customer-detail", args=[customer.pk])
    customer.refresh_from_db()
    assert (customer.name, customer.language, customer.sms_opt_out) == ("Amina H. Haddad", "es", True)


def test_the_detail_shows_plans_payments_and_the_balance_owed(client, settings, owner, clerk, customer, today):
    first = plan_make(actor=owner, customer=customer)
    second = plan_make(actor=owner, customer=customer, total_amount=Decimal("300.00"), down_payment=Decimal("0"))
    payment_post(actor=owner, plan=first, amount=Decimal("50.00"))
    body = html(signed_in(client, settings, clerk).get(reverse("customers:customer-detail", args=[customer.pk])))
    assert first.reference in body
    assert second.reference in body
    # 1000 - 200 down - 50 paid, plus 300 not started: 1050.00 owed.
    assert 'id="customer-balance">$1,050.00<' in body
    assert body.count(reverse("payments:payment-receipt", args=[first.payments.get(payment_number=2).pk])) == 1
    assert "Down payment" in body


def test_the_list_and_its_fragment_are_cached_apart(client, settings, clerk, customers):
    client = signed_in(client, settings, clerk)
    response = client.get(reverse("customers:customer-list"), headers={"HX-Request": "true"})
    assert "HX-Request" in response["Vary"]
    # htmx restoring its history after "back" asks for the whole page.
    restored = client.get(
        reverse("customers:customer-list"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in html(restored)
