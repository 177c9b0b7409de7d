"""The customers API: exact bodies, field-named errors, filters, search, pagination, plans and payment history."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from payments.services import payment_post

pytestmark = pytest.mark.django_db

URL = "/api/customers/"


@pytest.fixture
def client(api_client, clerk, today):
    api_client.force_authenticate(clerk)
    return api_client


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_create_answers_with_the_customer_and_normalises_a_local_phone(client, merchant, clerk):
    body = {
        "name": "  Omar Saleh ",
        "phone": "(415) 555-0199",
        "email": "omar@example.com",
        "national_id": " 784-1980 ",
        "address": "12 Palm Street",
        "language": "ar",
        "notes": "Prefers SMS.",
        "email_opt_out": True,
    }

    response = client.post(URL, body, format="json")

    assert response.status_code == 201, response.content
    customer = Customer.objects.get()
    assert response.json() == {
        "id": str(customer.pk),
        "name": "Omar Saleh",
        "phone": "+14155550199",
        "email": "omar@example.com",
        "national_id": "784-1980",
        "address": "12 Palm Street",
        "language": "ar",
        "notes": "Prefers SMS.",
        "sms_opt_out": False,
        "email_opt_out": True,
        "preferred_channel": "",
        "origin": "staff",
        "created_at": "2026-03-01T12:00:00Z",
        "updated_at": "2026-03-01T12:00:00Z",
    }
    assert (customer.merchant, customer.created_by) == (merchant, clerk)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"phone": "+14155550199"}, {"name": ["This field is required."]}),
        ({"name": "Omar"}, {"phone": ["This field is required."]}),
        ({"name": "Omar", "phone": "12"}, {"phone": ["'12' is not a valid phone number for US."]}),
        ({"name": "Omar", "phone": "call me"}, {"phone": ["'call me' is not a phone number."]}),
        (
            {"name": "Omar", "phone": "+14155550199", "email": "not-an-email"},
            {"email": ["Enter a valid email address."]},
        ),
        ({"name": "Omar", "phone": "+14155550199", "language": "fr"}, {"language": ['"fr" is not a valid choice.']}),
        ({"name": "   ", "phone": "+14155550199"}, {"name": ["This field may not be blank."]}),
    ],
)
def test_create_refuses_bad_input_naming_the_field(client, body, errors):
    response = client.post(URL, body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert Customer.objects.count() == 0


def test_create_refuses_a_phone_or_national_id_another_customer_has(client, merchant, customer):
    customer.national_id = "784-1980"
    customer.save()

    response = client.post(
        URL, {"name": "Omar Saleh", "phone": customer.phone, "national_id": "784-1980"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "phone": [f"Amina Haddad already has the phone {customer.phone}."],
        "national_id": ["Amina Haddad already has the national id 784-1980."],
    }
    assert Customer.objects.count() == 1


def test_the_same_phone_is_fine_at_another_merchant(client, customer, other_merchant):
    other = CustomerFactory(merchant=other_merchant, phone="+14155550199")

    response = client.post(URL, {"name": "Omar Saleh", "phone": other.phone}, format="json")

    assert response.status_code == 201
    assert response.json()["phone"] == "+14155550199"


def test_put_replaces_and_patch_changes_only_what_is_sent(client, customer):
    url = f"{URL}{customer.pk}/"

    response = client.put(url, {"name": "Amina H. Haddad", "phone": "+14155550198", "language": "es"}, format="json")

    assert response.status_code == 200, response.content
    assert {key: response.json()[key] for key in ("name", "phone", "language", "notes")} == {
        "name": "Amina H. Haddad",
        "phone": "+14155550198",
        "language": "es",
        "notes": "",
    }

    response = client.patch(url, {"notes": "Pays on Fridays.", "sms_opt_out": True}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.language, customer.notes, customer.sms_opt_out) == (
        "Amina H. Haddad",
        "+14155550198",
        "es",
        "Pays on Fridays.",
        True,
    )


def test_patch_refuses_a_bad_phone_and_leaves_the_customer_as_it_was(client, customer):
    phone = customer.phone

    response = client.patch(f"{URL}{customer.pk}/", {"phone": "+1 000"}, format="json")

    assert (response.status_code, response.json()) == (400, {"phone": ["'+1 000' is not a valid phone number for US."]})
    customer.refresh_from_db()
    assert customer.phone == phone


def test_there_is_no_delete_a_customers_history_stays(client, customer):
    response = client.delete(f"{URL}{customer.pk}/")

    assert (response.status_code, response.json()) == (405, {"detail": 'Method "DELETE" not allowed.'})
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.fixture
def people(merchant, customer):
    """Amina (fixture, created 2026-03-01), Bilal (2026-01-10, Arabic, no SMS), Carmen (2026-02-10, Spanish)."""
    with time_machine.travel(datetime(2026, 1, 10, 9, tzinfo=UTC), tick=False):
        bilal = CustomerFactory(
            merchant=merchant,
            name="Bilal Nasser",
            phone="+14155550111",
            email="bilal@example.com",
            national_id="NID-77",
            language="ar",
            sms_opt_out=True,
        )
    with time_machine.travel(datetime(2026, 2, 10, 9, tzinfo=UTC), tick=False):
        carmen = CustomerFactory(merchant=merchant, name="Carmen Ruiz", phone="+14155550122", language="es")
    return {"amina": customer, "bilal": bilal, "carmen": carmen}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Amina Haddad", "Bilal Nasser", "Carmen Ruiz"]),
        ("language=ar", ["Bilal Nasser"]),
        ("language=es", ["Carmen Ruiz"]),
        ("sms_opt_out=true", ["Bilal Nasser"]),
        ("sms_opt_out=false", ["Amina Haddad", "Carmen Ruiz"]),
        ("email_opt_out=true", []),
        ("created_after=2026-02-01", ["Amina Haddad", "Carmen Ruiz"]),
        ("created_before=2026-02-10", ["Bilal Nasser", "Carmen Ruiz"]),
        ("created_after=2026-01-11&created_before=2026-02-28", ["Carmen Ruiz"]),
        ("search=carmen", ["Carmen Ruiz"]),
        ("search=5550111", ["Bilal Nasser"]),
        ("search=nid-77", ["Bilal Nasser"]),
        ("search=bilal@example", ["Bilal Nasser"]),
        ("search=nobody", []),
        ("ordering=-name", ["Carmen Ruiz", "Bilal Nasser", "Amina Haddad"]),
        ("ordering=created_at", ["Bilal Nasser", "Carmen Ruiz", "Amina Haddad"]),
    ],
)
def test_list_filters_searches_and_orders(client, people, other_merchant, query, expected):
    CustomerFactory(merchant=other_merchant, name="Bilal Elsewhere", language="ar")

    assert names(client.get(f"{URL}?{query}")) == expected


def test_list_refuses_a_bad_filter_value_naming_it(client, people):
    response = client.get(f"{URL}?created_after=yesterday")

    assert (response.status_code, response.json()) == (400, {"created_after": ["Enter a valid date."]})


def test_list_is_paginated_with_count_next_previous_and_results(client, people):
    first = client.get(f"{URL}?page_size=2")

    assert first.status_code == 200
    body = first.json()
    assert (body["count"], body["next"], body["previous"]) == (
        3,
        "http://testserver/api/customers/?page=2&page_size=2",
        None,
    )
    assert [row["name"] for row in body["results"]] == ["Amina Haddad", "Bilal Nasser"]
    second = client.get(body["next"]).json()
    assert (second["count"], second["next"], second["previous"]) == (
        3,
        None,
        "http://testserver/api/customers/?page_size=2",
    )
    assert [row["name"] for row in second["results"]] == ["Carmen Ruiz"]
    assert client.get(f"{URL}?page=3&page_size=2").json() == {"detail": "Invalid page."}


def test_a_customers_plans_and_payments(client, owner, merchant, customer, people):
    first = plan_make(actor=owner, customer=customer)
    second = plan_make(actor=owner, customer=customer, total_amount=Decimal("600.00"), down_payment=Decimal("0"))
    plan_make(actor=owner, customer=people["bilal"])
    paid = payment_post(actor=owner, plan=first, amount=Decimal("150.00"), payment_date=date(2026, 2, 20))

    plans = client.get(f"{URL}{customer.pk}/plans/")
    payments = client.get(f"{URL}{customer.pk}/payments/")

    assert plans.status_code == 200
    assert [(row["reference"], row["total_amount"], row["remaining_balance"]) for row in plans.json()["results"]] == [
        (second.reference, "600.00", "600.00"),
        (first.reference, "1000.00", "650.00"),
    ]
    assert plans.json()["count"] == 2
    assert payments.status_code == 200
    assert [
        (row["id"], row["plan_reference"], row["payment_number"], row["amount"], row["is_down_payment"])
        for row in payments.json()["results"]
    ] == [
        (str(paid.pk), first.reference, 2, "150.00", False),
        (str(first.payments.get(payment_number=1).pk), first.reference, 1, "200.00", True),
    ]
    assert client.get(f"{URL}{people['carmen'].pk}/payments/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
