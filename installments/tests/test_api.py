"""The products, plans and installments API: exact bodies, field-named errors, lifecycle, filters, pagination."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan, PlanItem, Product
from installments.tests.factories import ProductFactory, plan_make
from payments.models import Payment
from payments.services import payment_post
from taqsit.models import Merchant, Role
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/products/"
PLANS = "/api/installments/plans/"
INSTALLMENTS = "/api/installments/installments/"
EMPTY_PAGE = {"count": 0, "next": None, "previous": None, "results": []}


@pytest.fixture
def client(api_client, manager, today):
    api_client.force_authenticate(manager)
    return api_client


def terms(customer, /, **overrides) -> dict:
    body = {
        "customer": str(customer.pk),
        "total_amount": "1000.00",
        "down_payment": "200.00",
        "number_of_installments": 4,
        "installment_frequency": "monthly",
        "start_date": "2026-01-15",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def row(number, due_date, amount, *, paid="0.00", status="pending", principal=None, interest="0.00", paid_on=None):
    return {
        "number": number,
        "due_date": due_date,
        "amount_due": amount,
        "principal": principal or amount,
        "interest": interest,
        "amount_paid": paid,
        "late_fee": "0.00",
        "late_fee_paid": "0.00",
        "status": status,
        "paid_on": paid_on,
    }


def references(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [plan["reference"] for plan in response.json()["results"]]


# Products ------------------------------------------------------------------------------------------------


def test_product_create_answers_with_the_price_in_the_currencys_minor_unit(client, merchant):
    response = client.post(PRODUCTS, {"name": " Fridge ", "sku": "FR-1", "price": "800"}, format="json")

    assert response.status_code == 201, response.content
    product = Product.objects.get()
    assert response.json() == {
        "id": str(product.pk),
        "name": "Fridge",
        "sku": "FR-1",
        "price": "800.00",
        "is_active": True,
        "created_at": "2026-03-01T12:00:00Z",
        "updated_at": "2026-03-01T12:00:00Z",
    }
    assert (product.merchant, product.price) == (merchant, Decimal("800.00"))


def test_product_price_in_kuwaiti_dinars_has_three_places(api_client, today):
    kwd = MerchantFactory(currency="KWD", country="KW")
    api_client.force_authenticate(UserFactory(merchant=kwd, role=Role.CLERK))

    response = api_client.post(PRODUCTS, {"name": "Fridge", "sku": "FR-1", "price": "200"}, format="json")

    assert (response.status_code, response.json()["price"]) == (201, "200.000")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"sku": "FR-1", "price": "800.00"}, {"name": ["This field is required."]}),
        ({"name": "Fridge", "sku": "FR-1"}, {"price": ["This field is required."]}),
        ({"name": "Fridge", "price": "1.234"}, {"price": ["1.234 has more decimal places than USD allows (2)."]}),
        ({"name": "Fridge", "price": "-5"}, {"price": ["-5.00 must be greater than zero."]}),
        ({"name": "Fridge", "price": "0"}, {"price": ["0.00 must be greater than zero."]}),
        (
            {"name": "Fridge", "price": "cheap"},
            {"price": ["Enter a decimal number such as 1200.50, without exponent, spaces or separators."]},
        ),
        ({"name": "Fridge", "sku": "TV-1", "price": "800.00"}, {"sku": ["The SKU TV-1 is already used by TV."]}),
    ],
)
def test_product_create_refuses_bad_input_naming_the_field(client, merchant, body, errors):
    ProductFactory(merchant=merchant, name="TV", sku="TV-1")

    response = client.post(PRODUCTS, body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert Product.objects.count() == 1


def test_product_put_and_patch(client, merchant):
    product = ProductFactory(merchant=merchant, name="TV", sku="TV-1", price=Decimal("500.00"))

    put = client.put(f"{PRODUCTS}{product.pk}/", {"name": "TV 55", "sku": "TV-55", "price": "650.50"}, format="json")
    patch = client.patch(f"{PRODUCTS}{product.pk}/", {"is_active": False}, format="json")

    assert put.status_code == 200
    assert {key: put.json()[key] for key in ("name", "sku", "price", "is_active")} == {
        "name": "TV 55",
        "sku": "TV-55",
        "price": "650.50",
        "is_active": True,
    }
    assert (patch.status_code, patch.json()["is_active"], patch.json()["price"]) == (200, False, "650.50")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Fridge", "Radio", "TV"]),
        ("is_active=false", ["Radio"]),
        ("is_active=true", ["Fridge", "TV"]),
        ("sku=TV-1", ["TV"]),
        ("price_min=500", ["Fridge", "TV"]),
        ("price_max=500", ["Radio", "TV"]),
        ("price_min=100&price_max=600", ["TV"]),
        ("search=rad", ["Radio"]),
        ("search=fr-", ["Fridge"]),
        ("ordering=-price", ["Fridge", "TV", "Radio"]),
    ],
)
def test_product_list_filters(client, merchant, other_merchant, query, expected):
    ProductFactory(merchant=merchant, name="TV", sku="TV-1", price=Decimal("500.00"))
    ProductFactory(merchant=merchant, name="Fridge", sku="FR-1", price=Decimal("800.00"))
    ProductFactory(merchant=merchant, name="Radio", sku="RA-1", price=Decimal("40.00"), is_active=False)
    ProductFactory(merchant=other_merchant, name="Radio elsewhere", sku="RA-1", price=Decimal("40.00"))

    response = client.get(f"{PRODUCTS}?{query}")

    assert response.status_code == 200
    assert [product["name"] for product in response.json()["results"]] == expected


# Plans: create and preview -------------------------------------------------------------------------------


def test_plan_create_answers_with_the_plan_and_its_schedule(client, merchant, customer, manager):
    response = client.post(PLANS, terms(customer, notes="Fridge, delivered Friday."), format="json")

    assert response.status_code == 201, response.content
    plan = InstallmentPlan.objects.get()
    assert response.json() == {
        "id": str(plan.pk),
        "reference": "P-000001",
        "customer": str(customer.pk),
        "customer_name": "Amina Haddad",
        "status": "active",
        "origin": "counter",
        "sale_reference": "",
        "items": [],
        "guarantors": [],
        "total_amount": "1000.00",
        "down_payment": "200.00",
        "finance_charge_method": "none",
        "interest_rate": "0.0000",
        "finance_charge": "0.00",
        "total_payable": "1000.00",
        "cash_price": "1000.00",
        "amount_financed": "800.00",
        "total_of_payments": "800.00",
        "credit_price": "1000.00",
        "apr": "0.00",
        "installment_amount": "200.00",
        "number_of_installments": 4,
        "installment_frequency": "monthly",
        "start_date": "2026-01-15",
        "first_due_date": None,
        "due_date": "2026-05-15",
        "amount_paid": "200.00",
        "late_fees": "0.00",
        "remaining_balance": "800.00",
        "notes": "Fridge, delivered Friday.",
        "status_reason": "",
        "created_at": "2026-03-01T12:00:00Z",
        "updated_at": "2026-03-01T12:00:00Z",
        "installments": [
            row(1, "2026-02-15", "200.00", status="overdue"),
            row(2, "2026-03-15", "200.00"),
            row(3, "2026-04-15", "200.00"),
            row(4, "2026-05-15", "200.00"),
        ],
    }
    down = Payment.objects.get()
    assert (down.payment_number, down.amount, down.is_down_payment, down.received_by) == (
        1,
        Decimal("200.00"),
        True,
        manager,
    )


def test_plan_create_from_items_takes_the_products_price_and_sums_the_total(client, merchant, customer):
    tv = ProductFactory(merchant=merchant, name="TV", sku="TV-1", price=Decimal("450.00"))
    body = terms(
        customer,
        total_amount=None,
        down_payment="100.00",
        number_of_installments=3,
        items=[{"product": str(tv.pk), "quantity": 2}, {"description": "Wall mount", "unit_price": "35.50"}],
    )

    response = client.post(PLANS, body, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["items"] == [
        {
            "product": str(tv.pk),
            "description": "TV",
            "quantity": 2,
            "unit_price": "450.00",
            "line_total": "900.00",
            "serial_number": "",
        },
        {
            "product": None,
            "description": "Wall mount",
            "quantity": 1,
            "unit_price": "35.50",
            "line_total": "35.50",
            "serial_number": "",
        },
    ]
    assert (body["total_amount"], body["total_payable"], body["remaining_balance"]) == ("935.50", "935.50", "835.50")
    assert [(line["amount_due"], line["due_date"]) for line in body["installments"]] == [
        ("278.50", "2026-02-15"),
        ("278.50", "2026-03-15"),
        ("278.50", "2026-04-15"),
    ]
    assert PlanItem.objects.count() == 2


def test_plan_amounts_in_kuwaiti_dinars_have_three_places(api_client, today):
    kwd = MerchantFactory(currency="KWD", country="KW")
    api_client.force_authenticate(UserFactory(merchant=kwd, role=Role.CLERK))
    customer = CustomerFactory(merchant=kwd, phone="+96550001234")

    response = api_client.post(PLANS, terms(customer, total_amount="1000", down_payment="200.5"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["total_amount"], body["down_payment"], body["amount_paid"], body["remaining_balance"]) == (
        "1000.000",
        "200.500",
        "200.500",
        "799.500",
    )
    assert [line["amount_due"] for line in body["installments"]] == ["199.875", "199.875", "199.875", "199.875"]


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"customer": None}, {"customer": ["This field is required."]}),
        ({"start_date": None}, {"start_date": ["This field is required."]}),
        (
            {"start_date": "15/01/2026"},
            {"start_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
        ({"installment_frequency": "daily"}, {"installment_frequency": ['"daily" is not a valid choice.']}),
        ({"finance_charge_method": "compound"}, {"finance_charge_method": ['"compound" is not a valid choice.']}),
        (
            {"number_of_installments": 0},
            {"number_of_installments": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"number_of_installments": None},
            {"number_of_installments": ["Give the number of installments or the installment amount."]},
        ),
        ({"total_amount": "1000.005"}, {"total_amount": ["1000.005 has more decimal places than USD allows (2)."]}),
        ({"total_amount": "-5"}, {"total_amount": ["The total amount must be more than zero, not -5.00."]}),
        (
            {"down_payment": "1000.00"},
            {"down_payment": ["The down payment 1000.00 is the whole total 1000.00: nothing is left to finance."]},
        ),
        (
            {"number_of_installments": None, "installment_amount": "300.00"},
            {
                "installment_amount": [
                    "800.00 is not a whole number of installments of 300.00: try 2 installments of 400.00 or 3 "
                    "(2 of 266.66 and a last one of 266.68)."
                ]
            },
        ),
        (
            {"due_date": "2026-06-15"},
            {
                "due_date": [
                    "The due date 2026-06-15 is not the last installment's due date: with 4 monthly installments "
                    "it is 2026-05-15."
                ]
            },
        ),
        (
            {"finance_charge_method": "flat"},
            {"interest_rate": ["A flat finance charge needs an annual interest rate."]},
        ),
        ({"items": [{"product": "00000000-0000-0000-0000-000000000000"}]}, {"items": ["Item 1: no such product."]}),
    ],
)
def test_plan_create_refuses_bad_terms_naming_the_field_and_saves_nothing(
    client, merchant, customer, overrides, errors
):
    response = client.post(PLANS, terms(customer, **overrides), format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert (InstallmentPlan.objects.count(), Installment.objects.count(), Payment.objects.count()) == (0, 0, 0)
    merchant.refresh_from_db()
    assert merchant.last_plan_number == 0


def test_plan_create_refuses_another_merchants_customer(client, other_merchant):
    stranger = CustomerFactory(merchant=other_merchant)

    response = client.post(PLANS, terms(stranger), format="json")

    assert (response.status_code, response.json()) == (400, {"customer": ["No such customer."]})
    assert InstallmentPlan.objects.count() == 0


def test_plan_create_needs_approval_when_the_merchant_says_so(client, merchant, customer):
    merchant.requires_approval = True
    merchant.save()

    response = client.post(PLANS, terms(customer), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["amount_paid"], body["remaining_balance"]) == ("pending", "0.00", "1000.00")
    assert Payment.objects.count() == 0


def test_plan_create_with_an_idempotency_key_replays_the_first_answer(client, customer):
    first = client.post(PLANS, terms(customer), format="json", headers={"Idempotency-Key": "sale-17"})
    again = client.post(PLANS, terms(customer), format="json", headers={"Idempotency-Key": "sale-17"})

    assert (first.status_code, first["Idempotent-Replayed"]) == (201, "false")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    assert (InstallmentPlan.objects.count(), Installment.objects.count(), Payment.objects.count()) == (1, 4, 1)


def test_plan_create_refuses_an_idempotency_key_reused_with_another_body(client, customer):
    client.post(PLANS, terms(customer), format="json", headers={"Idempotency-Key": "sale-17"})

    response = client.post(PLANS, terms(customer, notes="other"), format="json", headers={"Idempotency-Key": "sale-17"})

    assert response.status_code == 422
    assert response.json() == {
        "idempotency_key": ["The Idempotency-Key 'sale-17' was already used with a different request."]
    }
    assert InstallmentPlan.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {},
            {
                "finance_charge": "0.00",
                "total_payable": "1000.00",
                "installment_amount": "266.66",
                "total_of_payments": "800.00",
                "credit_price": "1000.00",
                "apr": "0.00",
                "due_date": "2026-04-30",
                "installments": [
                    {"number": 1, "due_date": "2026-02-28", "amount_due": "266.66", "principal": "266.66"},
                    {"number": 2, "due_date": "2026-03-31", "amount_due": "266.66", "principal": "266.66"},
                    {"number": 3, "due_date": "2026-04-30", "amount_due": "266.68", "principal": "266.68"},
                ],
            },
        ),
        (
            {"finance_charge_method": "flat", "interest_rate": "12"},
            {
                "finance_charge": "24.00",
                "total_payable": "1024.00",
                "installment_amount": "274.66",
                "total_of_payments": "824.00",
                "credit_price": "1024.00",
                "apr": "17.91",
                "due_date": "2026-04-30",
                "installments": [
                    {"number": 1, "due_date": "2026-02-28", "amount_due": "274.66", "principal": "266.66"},
                    {"number": 2, "due_date": "2026-03-31", "amount_due": "274.66", "principal": "266.66"},
                    {"number": 3, "due_date": "2026-04-30", "amount_due": "274.68", "principal": "266.68"},
                ],
            },
        ),
        (
            {"finance_charge_method": "declining_balance", "interest_rate": "12"},
            {
                "finance_charge": "16.05",
                "total_payable": "1016.05",
                "installment_amount": "272.02",
                "total_of_payments": "816.05",
                "credit_price": "1016.05",
                "apr": "12.00",
                "due_date": "2026-04-30",
                "installments": [
                    {"number": 1, "due_date": "2026-02-28", "amount_due": "272.02", "principal": "264.02"},
                    {"number": 2, "due_date": "2026-03-31", "amount_due": "272.02", "principal": "266.66"},
                    {"number": 3, "due_date": "2026-04-30", "amount_due": "272.01", "principal": "269.32"},
                ],
            },
        ),
    ],
)
def test_preview_answers_with_the_schedule_and_saves_nothing(client, merchant, customer, overrides, expected):
    body = terms(customer, number_of_installments=3, start_date="2026-01-31", **overrides)
    del body["customer"]

    response = client.post(f"{PLANS}preview/", body, format="json")

    assert response.status_code == 200, response.content
    preview = response.json()
    for line in preview["installments"]:
        line.pop("interest")
    assert preview == {
        "currency": "USD",
        "total_amount": "1000.00",
        "down_payment": "200.00",
        "financed": "800.00",
        "cash_price": "1000.00",
        "amount_financed": "800.00",
        "apr_label": "APR",
        "number_of_installments": 3,
        **expected,
    }
    assert (InstallmentPlan.objects.count(), Installment.objects.count(), Payment.objects.count()) == (0, 0, 0)
    merchant.refresh_from_db()
    assert merchant.last_plan_number == 0


def test_preview_shows_the_interest_of_each_row(client):
    body = {
        "total_amount": "1000.00",
        "down_payment": "200.00",
        "number_of_installments": 4,
        "installment_frequency": "monthly",
        "start_date": "2026-01-15",
        "finance_charge_method": "declining_balance",
        "interest_rate": "12",
    }

    response = client.post(f"{PLANS}preview/", body, format="json")

    assert [(line["principal"], line["interest"], line["amount_due"]) for line in response.json()["installments"]] == [
        ("197.02", "8.00", "205.02"),
        ("198.99", "6.03", "205.02"),
        ("200.98", "4.04", "205.02"),
        ("203.01", "2.03", "205.04"),
    ]
    assert response.json()["finance_charge"] == "20.10"


def test_preview_refuses_bad_terms_naming_the_field(client):
    response = client.post(f"{PLANS}preview/", {"total_amount": "1000.00", "start_date": "2026-01-15"}, format="json")

    assert (response.status_code, response.json()) == (400, {"installment_frequency": ["This field is required."]})


# Plans: read, edit, delete -------------------------------------------------------------------------------


def test_plan_retrieve_shows_payments_in_the_schedule(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))

    response = client.get(f"{PLANS}{plan.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["amount_paid"], body["remaining_balance"]) == ("450.00", "550.00")
    assert body["installments"] == [
        row(1, "2026-02-15", "200.00", paid="200.00", status="paid", paid_on="2026-02-20"),
        row(2, "2026-03-15", "200.00", paid="50.00", status="partially_paid"),
        row(3, "2026-04-15", "200.00"),
        row(4, "2026-05-15", "200.00"),
    ]


def test_plan_put_and_patch_change_only_the_notes(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)

    put = client.put(f"{PLANS}{plan.pk}/", {"notes": "Delivered."}, format="json")
    patch = client.patch(f"{PLANS}{plan.pk}/", {"notes": "Paid by the son."}, format="json")
    terms = client.patch(f"{PLANS}{plan.pk}/", {"notes": "Ignored?", "total_amount": "1.00"}, format="json")
    empty_put = client.put(f"{PLANS}{plan.pk}/", {}, format="json")

    assert (put.status_code, put.json()["notes"]) == (200, "Delivered.")
    assert (patch.status_code, patch.json()["notes"], patch.json()["total_amount"]) == (
        200,
        "Paid by the son.",
        "1000.00",
    )
    assert (terms.status_code, terms.json()) == (400, {"total_amount": ["This field is read-only."]})
    plan.refresh_from_db()
    assert (plan.notes, plan.total_amount) == ("Paid by the son.", Decimal("1000.00"))
    assert (empty_put.status_code, empty_put.json()) == (400, {"notes": ["This field is required."]})


def test_deleting_a_plan_with_payments_is_a_conflict(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)

    response = client.delete(f"{PLANS}{plan.pk}/")

    assert response.status_code == 409
    assert response.json() == {"plan": ["Plan P-000001 has payments or fees: cancel it instead of deleting it."]}
    assert (InstallmentPlan.objects.count(), Installment.objects.count()) == (1, 4)


def test_deleting_a_plan_nothing_was_paid_on_removes_it_and_its_schedule(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer, down_payment=Decimal("0"))

    response = client.delete(f"{PLANS}{plan.pk}/")

    assert (response.status_code, response.content) == (204, b"")
    assert (InstallmentPlan.objects.count(), Installment.objects.count()) == (0, 0)
    assert client.get(f"{PLANS}{plan.pk}/").status_code == 404


def test_summary_has_the_exact_numbers(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))

    response = client.get(f"{PLANS}{plan.pk}/summary/")

    assert response.status_code == 200
    assert response.json() == {
        "plan_id": str(plan.pk),
        "reference": "P-000001",
        "currency": "USD",
        "total_amount": "1000.00",
        "down_payment": "200.00",
        "finance_charge": "0.00",
        "total_payable": "1000.00",
        "amount_paid": "450.00",
        "late_fees": "0.00",
        "remaining_balance": "550.00",
        "installments_paid": 1,
        "total_installments": 4,
        "next_payment_due": "2026-03-15",
        "next_amount_due": "150.00",
        "overdue_amount": "0.00",
        "status": "active",
        "cash_price": "1000.00",
        "amount_financed": "800.00",
        "total_of_payments": "800.00",
        "credit_price": "1000.00",
        "apr": "0.00",
        "apr_label": "APR",
    }


def test_summary_counts_what_is_overdue(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)

    body = client.get(f"{PLANS}{plan.pk}/summary/").json()

    assert (body["overdue_amount"], body["next_payment_due"], body["next_amount_due"], body["installments_paid"]) == (
        "200.00",
        "2026-02-15",
        "200.00",
        0,
    )


def test_a_plans_payments_newest_first(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    other = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
    payment_post(actor=owner, plan=other, amount=Decimal("10.00"), payment_date=date(2026, 2, 21))

    response = client.get(f"{PLANS}{plan.pk}/payments/")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [(line["payment_number"], line["amount"], line["payment_date"]) for line in response.json()["results"]] == [
        (2, "250.00", "2026-02-20"),
        (1, "200.00", "2026-01-15"),
    ]


# Plans: lifecycle ----------------------------------------------------------------------------------------


@pytest.fixture
def pending(merchant, owner, customer):
    merchant.requires_approval = True
    merchant.save()
    return plan_make(actor=owner, customer=customer)


def test_approve_activates_a_pending_plan_and_records_its_down_payment(client, pending, manager):
    response = client.post(f"{PLANS}{pending.pk}/approve/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount_paid"], body["remaining_balance"]) == ("active", "200.00", "800.00")
    pending.refresh_from_db()
    assert pending.decided_by == manager
    assert list(Payment.objects.values_list("payment_number", "amount", "is_down_payment")) == [
        (1, Decimal("200.000"), True)
    ]


def test_approving_twice_is_a_conflict(client, pending):
    client.post(f"{PLANS}{pending.pk}/approve/")

    response = client.post(f"{PLANS}{pending.pk}/approve/")

    assert (response.status_code, response.json()) == (
        409,
        {"status": ["Plan P-000001 is active: it cannot be approved."]},
    )
    assert Payment.objects.count() == 1


def test_reject_keeps_the_reason(client, pending):
    missing = client.post(f"{PLANS}{pending.pk}/reject/", {}, format="json")
    blank = client.post(f"{PLANS}{pending.pk}/reject/", {"reason": "  "}, format="json")
    response = client.post(f"{PLANS}{pending.pk}/reject/", {"reason": "No guarantor."}, format="json")

    assert (missing.status_code, missing.json()) == (400, {"reason": ["This field is required."]})
    assert (blank.status_code, blank.json()) == (400, {"reason": ["This field may not be blank."]})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("rejected", "No guarantor.")
    again = client.post(f"{PLANS}{pending.pk}/reject/", {"reason": "No guarantor."}, format="json")
    assert (again.status_code, again.json()) == (409, {"status": ["Plan P-000001 is rejected: it cannot be rejected."]})


def test_cancel_stops_collecting_and_keeps_the_payments(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)

    response = client.post(f"{PLANS}{plan.pk}/cancel/", {"reason": "Goods returned."}, format="json")
    again = client.post(f"{PLANS}{plan.pk}/cancel/", {"reason": "Goods returned."}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"], response.json()["amount_paid"]) == (
        "cancelled",
        "Goods returned.",
        "200.00",
    )
    assert (again.status_code, again.json()) == (
        409,
        {"status": ["Plan P-000001 is cancelled: it cannot be cancelled."]},
    )
    assert Payment.objects.count() == 1


def test_reschedule_spreads_the_unpaid_remainder_and_keeps_the_old_rows(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
    body = {"number_of_installments": 2, "installment_frequency": "monthly", "start_date": "2026-03-01"}

    response = client.post(f"{PLANS}{plan.pk}/reschedule/", {**body, "reason": "Lost his job."}, format="json")

    assert response.status_code == 200, response.content
    plan_body = response.json()
    assert (plan_body["status"], plan_body["status_reason"], plan_body["number_of_installments"]) == (
        "active",
        "Lost his job.",
        4,
    )
    assert (plan_body["remaining_balance"], plan_body["due_date"], plan_body["installment_amount"]) == (
        "550.00",
        "2026-05-01",
        "275.00",
    )
    # Row 2 had 50.00 paid on it: it stays, closed at 50.00, and its 150.00 moves to the new rows, numbered on
    # and due after it; the down payment 200.00 and the rows add up to the total 1000.00.
    assert plan_body["installments"] == [
        row(1, "2026-02-15", "200.00", paid="200.00", status="paid", paid_on="2026-02-20"),
        row(2, "2026-03-15", "50.00", paid="50.00", status="paid", paid_on="2026-02-20"),
        row(3, "2026-04-01", "275.00"),
        row(4, "2026-05-01", "275.00"),
    ]
    assert Decimal(plan_body["down_payment"]) + sum(
        Decimal(item["amount_due"]) for item in plan_body["installments"]
    ) == Decimal(plan_body["total_payable"])
    assert Installment.objects.filter(plan=plan, superseded_at__isnull=False).count() == 2


def test_reschedule_refuses_bad_input_and_closed_plans(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    url = f"{PLANS}{plan.pk}/reschedule/"

    bad = client.post(url, {"number_of_installments": 0, "installment_frequency": "yearly"}, format="json")
    client.post(f"{PLANS}{plan.pk}/cancel/", {"reason": "Returned."}, format="json")
    closed = client.post(
        url,
        {"number_of_installments": 2, "installment_frequency": "monthly", "start_date": "2026-03-01"},
        format="json",
    )

    assert (bad.status_code, bad.json()) == (
        400,
        {
            "number_of_installments": ["Ensure this value is greater than or equal to 1."],
            "installment_frequency": ['"yearly" is not a valid choice.'],
            "start_date": ["This field is required."],
        },
    )
    assert (closed.status_code, closed.json()) == (
        409,
        {"status": ["Plan P-000001 is cancelled: it cannot be rescheduled."]},
    )


# Plans: lists --------------------------------------------------------------------------------------------


@pytest.fixture
def plans(merchant, owner, customer, other_merchant):
    """P-000001 (Amina, 1000.00, from 2026-01-15, overdue), P-000002 (Bilal, 2400.00 flat, from 2026-02-20),
    P-000003 (Amina, pending, 500.00 weekly from 2026-02-25), and a plan of another merchant."""
    bilal = CustomerFactory(merchant=merchant, name="Bilal Nasser", phone="+14155550111")
    with time_machine.travel(datetime(2026, 1, 15, 9, tzinfo=UTC), tick=False):
        first = plan_make(actor=owner, customer=customer, notes="Fridge")
    with time_machine.travel(datetime(2026, 2, 20, 9, tzinfo=UTC), tick=False):
        second = plan_make(
            actor=owner,
            customer=bilal,
            total_amount=Decimal("2400.00"),
            down_payment=Decimal("0"),
            number_of_installments=12,
            start_date=date(2026, 2, 20),
            finance_charge_method="flat",
            interest_rate=Decimal("10"),
        )
    Merchant.objects.filter(pk=merchant.pk).update(requires_approval=True)
    merchant.refresh_from_db()
    third = plan_make(
        actor=owner,
        customer=customer,
        total_amount=Decimal("500.00"),
        down_payment=Decimal("0"),
        installment_frequency="weekly",
        start_date=date(2026, 2, 25),
    )
    stranger = UserFactory(merchant=other_merchant, role=Role.OWNER)
    plan_make(actor=stranger, customer=CustomerFactory(merchant=other_merchant))
    return {"first": first, "second": second, "third": third, "bilal": bilal}


def test_plan_list_newest_first_and_paginated(client, plans):
    response = client.get(f"{PLANS}?page_size=2")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (
        3,
        "http://testserver/api/installments/plans/?page=2&page_size=2",
        None,
    )
    assert [plan["reference"] for plan in body["results"]] == ["P-000003", "P-000002"]
    assert references(client.get(body["next"])) == ["P-000001"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=active", ["P-000002", "P-000001"]),
        ("status=pending", ["P-000003"]),
        ("status=completed", []),
        ("installment_frequency=weekly", ["P-000003"]),
        ("finance_charge_method=flat", ["P-000002"]),
        ("start_after=2026-02-20", ["P-000003", "P-000002"]),
        ("start_before=2026-02-20", ["P-000002", "P-000001"]),
        ("created_after=2026-02-01&created_before=2026-02-28", ["P-000002"]),
        ("created_before=2026-01-31", ["P-000001"]),
        ("total_min=1000", ["P-000002", "P-000001"]),
        ("total_max=999.99", ["P-000003"]),
        ("total_min=2000&total_max=3000", ["P-000002"]),
        ("number=2", ["P-000002"]),
        ("search=bilal", ["P-000002"]),
        ("search=fridge", ["P-000001"]),
        ("ordering=start_date", ["P-000001", "P-000002", "P-000003"]),
    ],
)
def test_plan_list_filters(client, plans, query, expected):
    assert references(client.get(f"{PLANS}?{query}")) == expected


def test_plan_list_filters_by_customer(client, plans, customer):
    assert references(client.get(f"{PLANS}?customer={customer.pk}")) == ["P-000003", "P-000001"]
    assert references(client.get(f"{PLANS}?customer={plans['bilal'].pk}")) == ["P-000002"]


def test_plan_list_refuses_bad_filter_values_naming_them(client, plans):
    response = client.get(f"{PLANS}?status=lost&start_after=soon")

    assert response.status_code == 400
    assert response.json() == {
        "status": ["Select a valid choice. lost is not one of the available choices."],
        "start_after": ["Enter a valid date."],
    }


def test_overdue_lists_the_plans_with_an_overdue_installment(client, plans, owner):
    assert references(client.get(f"{PLANS}overdue/")) == ["P-000001"]

    payment_post(actor=owner, plan=plans["first"], amount=Decimal("200.00"), payment_date=date(2026, 2, 28))

    assert client.get(f"{PLANS}overdue/").json() == EMPTY_PAGE


def test_overdue_respects_the_merchants_grace_days(client, plans, merchant):
    merchant.grace_days = 14
    merchant.save()

    assert client.get(f"{PLANS}overdue/").json() == EMPTY_PAGE


def test_overdue_takes_the_list_filters(client, plans, customer):
    assert references(client.get(f"{PLANS}overdue/?customer={customer.pk}")) == ["P-000001"]
    assert references(client.get(f"{PLANS}overdue/?customer={plans['bilal'].pk}")) == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["P-000002", "P-000001"]),
        ("pending", ["P-000003"]),
        ("cancelled", []),
        ("completed", []),
        ("rejected", []),
        ("defaulted", []),
    ],
)
def test_plans_by_status(client, plans, status, expected):
    assert references(client.get(f"{PLANS}status/{status}/")) == expected


@pytest.mark.parametrize("status", ["bogus", "overdue", "paid"])
def test_plans_by_an_unknown_status_is_a_404(client, plans, status):
    response = client.get(f"{PLANS}status/{status}/")

    assert response.status_code == 404
    assert response.json() == {
        "detail": f"No status '{status}'; one of pending, active, completed, rejected, cancelled, defaulted."
    }


# Installments --------------------------------------------------------------------------------------------


def test_installment_list_rows_carry_the_plan_and_customer(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer, number_of_installments=1)
    installment = plan.installments.get()

    response = client.get(INSTALLMENTS)

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": str(installment.pk),
                "plan": str(plan.pk),
                "plan_reference": "P-000001",
                "customer": str(customer.pk),
                "customer_name": "Amina Haddad",
                "customer_phone": customer.phone,
                **row(1, "2026-02-15", "800.00", status="overdue"),
            }
        ],
    }
    assert client.get(f"{INSTALLMENTS}{installment.pk}/").json() == response.json()["results"][0]


def due_dates(response) -> list[tuple[str, int]]:
    assert response.status_code == 200, response.content
    return [(line["plan_reference"], line["number"]) for line in response.json()["results"]]


@pytest.fixture
def schedule(merchant, owner, customer):
    """P-000001: Amina, 4 x 200.00 due 2026-02-15 (overdue), 03-15, 04-15, 05-15.
    P-000002: Bilal, 2 x 350.00 due 2026-02-10 (paid) and 2026-03-10 (not yet due)."""
    first = plan_make(actor=owner, customer=customer)
    bilal = CustomerFactory(merchant=merchant, name="Bilal Nasser", phone="+14155550111")
    second = plan_make(
        actor=owner,
        customer=bilal,
        total_amount=Decimal("700.00"),
        down_payment=Decimal("0"),
        number_of_installments=2,
        start_date=date(2026, 1, 10),
    )
    payment_post(actor=owner, plan=second, amount=Decimal("350.00"), payment_date=date(2026, 2, 10))
    return {"first": first, "second": second, "bilal": bilal}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [("P-000002", 1), ("P-000001", 1), ("P-000002", 2), ("P-000001", 2), ("P-000001", 3), ("P-000001", 4)]),
        ("status=overdue", [("P-000001", 1)]),
        ("status=overdue&due_before=2026-02-16", [("P-000001", 1)]),
        ("status=overdue&due_before=2026-02-15", []),
        ("status=paid", [("P-000002", 1)]),
        ("status=pending&due_before=2026-04-01", [("P-000002", 2), ("P-000001", 2)]),
        ("status=partially_paid", []),
        ("due_after=2026-05-01", [("P-000001", 4)]),
        ("due_after=2026-03-15&due_before=2026-04-16", [("P-000001", 2), ("P-000001", 3)]),
        ("amount_min=300", [("P-000002", 1), ("P-000002", 2)]),
        ("amount_max=200&due_before=2026-04-01", [("P-000001", 1), ("P-000001", 2)]),
        ("search=bilal", [("P-000002", 1), ("P-000002", 2)]),
        ("search=5550111", [("P-000002", 1), ("P-000002", 2)]),
        ("ordering=-amount_due&due_before=2026-02-16", [("P-000002", 1), ("P-000001", 1)]),
    ],
)
def test_installment_list_filters(client, schedule, query, expected):
    assert due_dates(client.get(f"{INSTALLMENTS}?{query}")) == expected


def test_installment_list_filters_by_plan_and_customer(client, schedule, customer):
    second = schedule["second"]

    assert due_dates(client.get(f"{INSTALLMENTS}?plan={second.pk}")) == [("P-000002", 1), ("P-000002", 2)]
    assert due_dates(client.get(f"{INSTALLMENTS}?customer={customer.pk}&due_before=2026-04-01")) == [
        ("P-000001", 1),
        ("P-000001", 2),
    ]


def test_a_status_filter_finds_the_rows_that_show_that_status(client, schedule):
    """The overdue row is stored pending until the daily job marks it: it is listed, and shown, as overdue."""
    shown = {
        status: [line["status"] for line in client.get(f"{INSTALLMENTS}?status={status}").json()["results"]]
        for status in ("pending", "overdue", "paid", "partially_paid")
    }

    assert shown == {
        "pending": ["pending", "pending", "pending", "pending"],
        "overdue": ["overdue"],
        "paid": ["paid"],
        "partially_paid": [],
    }


def test_the_collections_list_leaves_out_closed_plans_and_superseded_rows(client, schedule, owner):
    first = schedule["first"]
    client.post(
        f"{PLANS}{first.pk}/reschedule/",
        {"number_of_installments": 2, "installment_frequency": "monthly", "start_date": "2026-03-01"},
        format="json",
    )
    cancelled = plan_make(actor=owner, customer=schedule["bilal"], start_date=date(2026, 1, 1))
    client.post(f"{PLANS}{cancelled.pk}/cancel/", {"reason": "Returned."}, format="json")

    assert client.get(f"{INSTALLMENTS}?status=overdue").json() == EMPTY_PAGE
    assert due_dates(client.get(f"{INSTALLMENTS}?plan={first.pk}")) == [("P-000001", 1), ("P-000001", 2)]


def test_installment_list_refuses_an_unknown_status(client, schedule):
    response = client.get(f"{INSTALLMENTS}?status=late&due_before=never")

    assert response.status_code == 400
    assert response.json() == {
        "status": ["Select a valid choice. late is not one of the available choices."],
        "due_before": ["Enter a valid date."],
    }


def test_a_plan_discloses_its_apr_as_a_decimal_string(client, owner, customer):
    plan = plan_make(
        actor=owner,
        customer=customer,
        total_amount=Decimal("1000.00"),
        down_payment=Decimal("0"),
        number_of_installments=12,
        finance_charge_method="flat",
        interest_rate=Decimal("12"),
    )
    detail = client.get(f"{PLANS}{plan.pk}/").json()
    listed = client.get(PLANS).json()["results"][0]
    summary = client.get(f"{PLANS}{plan.pk}/summary/").json()
    figures = ("cash_price", "amount_financed", "finance_charge", "total_of_payments", "credit_price", "apr")
    expected = ("1000.00", "1000.00", "120.00", "1120.00", "1120.00", "21.46")
    assert tuple(detail[name] for name in figures) == expected
    assert tuple(listed[name] for name in figures) == expected
    assert tuple(summary[name] for name in figures) == expected
    assert summary["apr_label"] == "APR"
    assert client.get(f"{PLANS}{plan.pk}/summary/", HTTP_ACCEPT_LANGUAGE="es").json()["apr_label"] == "TPA"
