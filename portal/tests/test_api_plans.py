"""The borrower API's plans: the list (``?status=``), one plan with its schedule and payments, applying for one."""

from datetime import date
from decimal import Decimal

import pytest

from auditlog.models import Entry
from installments.models import InstallmentPlan, PlanItem
from installments.services import plan_reject
from installments.tests.factories import ProductFactory, plan_make
from payments.services import payment_post
from payments.tests.reports import report
from portal.tests.borrower import bearer

pytestmark = pytest.mark.django_db

PLANS = "/api/portal/plans/"


@pytest.fixture
def plan(customer, owner, today):
    """1000.00, 200.00 down, 4 monthly installments of 200.00 due from 2026-02-15; 250.00 paid on 2026-02-20."""
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
    return plan


@pytest.fixture
def client(api_client, customer, today):
    return bearer(api_client, customer)


def _row(number, due, paid, status, paid_on=None):
    return {
        "number": number,
        "due_date": due,
        "amount_due": "200.00",
        "principal": "200.00",
        "interest": "0.00",
        "late_fee": "0.00",
        "amount_paid": paid,
        "principal_paid": paid,
        "interest_paid": "0.00",
        "late_fee_paid": "0.00",
        "amount_remaining": f"{Decimal('200.00') - Decimal(paid):.2f}",
        "status": status,
        "paid_on": paid_on,
    }


def test_the_list_shows_each_plan_with_what_is_next(client, plan):
    response = client.get(PLANS)

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": str(plan.pk),
                "reference": "P-000001",
                "status": "active",
                "origin": "counter",
                "items": [],
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
                "due_date": "2026-05-15",
                "amount_paid": "450.00",
                "late_fees": "0.00",
                "remaining_balance": "550.00",
                "installments_paid": 1,
                "next_due_date": "2026-03-15",
                "next_amount_due": "150.00",
                "status_reason": "",
                "created_at": "2026-03-01T12:00:00Z",
            }
        ],
    }


def test_the_list_never_shows_the_staff_notes(client, plan):
    InstallmentPlan.objects.filter(pk=plan.pk).update(notes="Slow payer: call his brother.")

    body = client.get(PLANS).content.decode()

    assert "brother" not in body and "notes" not in body


def test_the_plan_shows_its_schedule_what_was_paid_on_each_row_and_its_payments(client, customer, plan):
    reported = report(customer=customer, plan=plan)

    response = client.get(f"{PLANS}{plan.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["reference"], body["amount_paid"], body["remaining_balance"]) == ("P-000001", "450.00", "550.00")
    assert body["installments"] == [
        _row(1, "2026-02-15", "200.00", "paid", "2026-02-20"),
        _row(2, "2026-03-15", "50.00", "partially_paid"),
        _row(3, "2026-04-15", "0.00", "pending"),
        _row(4, "2026-05-15", "0.00", "pending"),
    ]
    assert [(p["payment_number"], p["amount"], p["status"], p["origin"]) for p in body["payments"]] == [
        (3, "150.00", "pending", "portal"),
        (2, "250.00", "completed", "counter"),
        (1, "200.00", "completed", "counter"),
    ]
    pending, counter, down = body["payments"]
    assert pending == {
        "id": str(reported.pk),
        "plan": str(plan.pk),
        "plan_reference": "P-000001",
        "payment_number": 3,
        "amount": "150.00",
        "payment_date": "2026-02-28",
        "payment_method": "bank_transfer",
        "reference": "TRF-2231",
        "status": "pending",
        "is_down_payment": False,
        "origin": "portal",
        "has_proof": True,
        "failure_reason": "",
        "balance_after": None,
        "next_due_date_after": None,
        "next_amount_due_after": None,
        "created_at": "2026-03-01T12:00:00Z",
        "allocations": [],
    }
    assert counter["allocations"] == [
        {"installment_number": 1, "kind": "principal", "amount": "200.00"},
        {"installment_number": 2, "kind": "principal", "amount": "50.00"},
    ]
    assert (counter["balance_after"], counter["next_due_date_after"], counter["next_amount_due_after"]) == (
        "550.00",
        "2026-03-15",
        "150.00",
    )
    assert down["is_down_payment"] is True
    assert down["allocations"] == [{"installment_number": None, "kind": "down_payment", "amount": "200.00"}]


def test_an_overdue_row_shows_overdue(client, customer, owner, today):
    plan = plan_make(actor=owner, customer=customer)

    rows = client.get(f"{PLANS}{plan.pk}/").json()["installments"]

    assert [row["status"] for row in rows] == ["overdue", "pending", "pending", "pending"]


def test_the_list_filters_by_status(client, customer, owner, plan):
    owner.merchant.requires_approval = True
    owner.merchant.save(update_fields=["requires_approval"])
    application = plan_make(actor=owner, customer=customer)
    plan_reject(actor=owner, plan=application, reason="No guarantor.")

    active = client.get(PLANS, {"status": "active"}).json()
    refused = client.get(PLANS, {"status": "rejected"}).json()
    everything = client.get(PLANS).json()
    bad = client.get(PLANS, {"status": "lost"})

    assert [row["id"] for row in active["results"]] == [str(plan.pk)]
    assert [(row["id"], row["status_reason"]) for row in refused["results"]] == [(str(application.pk), "No guarantor.")]
    assert refused["results"][0]["next_due_date"] is None
    assert everything["count"] == 2
    assert bad.status_code == 400 and list(bad.json()) == ["status"]


def test_a_kwd_plan_speaks_three_places(api_client, merchant, customer, owner, today):
    merchant.currency = "KWD"
    merchant.save(update_fields=["currency"])
    plan = plan_make(
        actor=owner,
        customer=customer,
        total_amount=Decimal("100.000"),
        down_payment=Decimal("10.000"),
        number_of_installments=3,
    )

    body = bearer(api_client, customer).get(f"{PLANS}{plan.pk}/").json()

    assert (body["total_amount"], body["remaining_balance"], body["next_amount_due"]) == ("100.000", "90.000", "30.000")
    assert [row["amount_remaining"] for row in body["installments"]] == ["30.000", "30.000", "30.000"]


def test_the_list_reads_a_bounded_number_of_queries(client, customer, owner, today, django_assert_max_num_queries):
    for _ in range(5):
        plan_make(actor=owner, customer=customer)

    with django_assert_max_num_queries(8):
        response = client.get(PLANS)

    assert response.json()["count"] == 5


# Applying -----------------------------------------------------------------------------------------------------


APPLICATION = {
    "description": "Washing machine",
    "total_amount": "900.00",
    "down_payment": "100.00",
    "number_of_installments": 4,
    "installment_frequency": "monthly",
}


def test_applying_makes_a_pending_plan_of_origin_portal(client, customer, today):
    response = client.post(f"{PLANS}apply/", APPLICATION, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    plan = InstallmentPlan.objects.get(pk=body["id"])
    assert (plan.customer, plan.status, plan.origin, plan.created_by) == (customer, "pending", "portal", None)
    assert (body["status"], body["origin"], body["start_date"], body["total_payable"]) == (
        "pending",
        "portal",
        "2026-03-01",
        "900.00",
    )
    assert body["items"] == [
        {
            "product": None,
            "description": "Washing machine",
            "quantity": 1,
            "unit_price": "900.00",
            "line_total": "900.00",
        }
    ]
    assert [(row["due_date"], row["amount_due"]) for row in body["installments"]] == [
        ("2026-04-01", "200.00"),
        ("2026-05-01", "200.00"),
        ("2026-06-01", "200.00"),
        ("2026-07-01", "200.00"),
    ]
    assert (body["next_due_date"], body["payments"]) == (None, [])


def test_applying_for_the_shops_products_takes_their_price(client, merchant, customer, today):
    fridge = ProductFactory(merchant=merchant, name="Fridge", price=Decimal("450.00"))
    body = {
        "items": [{"product": str(fridge.pk), "quantity": 2}],
        "number_of_installments": 3,
        "installment_frequency": "monthly",
        "start_date": "2026-03-10",
    }

    response = client.post(f"{PLANS}apply/", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["items"] == [
        {
            "product": str(fridge.pk),
            "description": "Fridge",
            "quantity": 2,
            "unit_price": "450.00",
            "line_total": "900.00",
        }
    ]
    assert (response.json()["total_amount"], response.json()["installment_amount"]) == ("900.00", "300.00")


def test_a_customer_cannot_set_a_products_price(client, merchant, customer, today, row_counts):
    fridge = ProductFactory(merchant=merchant, name="Fridge", price=Decimal("450.00"))
    before = row_counts()
    body = {
        "items": [{"product": str(fridge.pk), "quantity": 1, "unit_price": "1.00"}],
        "number_of_installments": 3,
        "installment_frequency": "monthly",
    }

    response = client.post(f"{PLANS}apply/", body, format="json")

    assert (response.status_code, response.json()) == (400, {"items": {"0": {"unit_price": ["Unknown field."]}}})
    assert row_counts() == before


def test_another_merchants_product_is_no_such_product(client, other_merchant, customer, today, row_counts):
    theirs = ProductFactory(merchant=other_merchant, name="Kettle", price=Decimal("40.00"))
    before = row_counts()
    body = {"items": [{"product": str(theirs.pk)}], "number_of_installments": 2, "installment_frequency": "monthly"}

    response = client.post(f"{PLANS}apply/", body, format="json")

    assert (response.status_code, response.json()) == (400, {"items": ["Item 1: no such product."]})
    assert row_counts() == before


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"number_of_installments": None}, {"number_of_installments": ["This field may not be null."]}),
        ({"installment_frequency": "daily"}, {"installment_frequency": ['"daily" is not a valid choice.']}),
        (
            {"total_amount": "9e2"},
            {"total_amount": ["Enter a decimal number such as 1200.50, without exponent, spaces or separators."]},
        ),
        ({"description": ""}, {"description": ["Describe what you want to buy, or choose a product."]}),
        ({"down_payment": "1000.00"}, None),
        ({"customer": "someone-else"}, {"customer": ["Unknown field."]}),
    ],
)
def test_a_bad_application_is_a_400_naming_the_field_and_saves_nothing(
    client, customer, today, row_counts, change, errors
):
    before = row_counts()
    body = {**APPLICATION, **change}

    response = client.post(f"{PLANS}apply/", body, format="json")

    assert response.status_code == 400
    if errors is not None:
        assert response.json() == errors
    else:
        assert list(response.json()) == ["down_payment"]
    assert row_counts() == before


def test_applying_is_in_the_audit_trail_as_the_customers_own_act(client, customer, today):
    response = client.post(f"{PLANS}apply/", APPLICATION, format="json")

    plan_id = response.json()["id"]
    entries = Entry.objects.filter(object_type="installments.installmentplan", object_id=plan_id)
    assert [(e.operation, e.source, e.action, e.actor_id, e.actor_customer_id) for e in entries] == [
        ("insert", "portal", "plan.apply", None, customer.pk)
    ]
    item = PlanItem.objects.get(plan_id=plan_id)
    assert Entry.objects.filter(object_type="installments.planitem", object_id=str(item.pk)).values_list(
        "source", "actor_customer_id"
    ).get() == ("portal", customer.pk)


# The payoff quote ------------------------------------------------------------------------------------------------


def test_the_payoff_quote_is_what_closes_the_plan_on_that_date(client, api_client, customer, owner, plan, today):
    flat = plan_make(
        actor=owner,
        customer=customer,
        finance_charge_method="flat",
        interest_rate=Decimal("12"),
        down_payment=Decimal("0"),
    )

    response = client.get(f"{PLANS}{plan.pk}/payoff/", {"date": "2026-03-20"})
    default = client.get(f"{PLANS}{flat.pk}/payoff/")

    assert (response.status_code, response.json()) == (
        200,
        {
            "date": "2026-03-20",
            "principal": "550.00",
            "interest": "0.00",
            "fees": "0.00",
            "rebate": "0.00",
            "amount": "550.00",
            "rule": "none",
            "rebate_max": "0.00",
            "interest_not_yet_due": "0.00",
        },
    )
    # 1000.00 financed at 12% flat for 4 months: 40.00 of interest, none paid; the date defaults to today.
    assert default.json() == {
        "date": "2026-03-01",
        "principal": "1000.00",
        "interest": "40.00",
        "fees": "0.00",
        "rebate": "0.00",
        "amount": "1040.00",
        "rule": "none",
        "rebate_max": "0.00",
        "interest_not_yet_due": "30.00",
    }
    # The staff endpoint quotes the same.
    api_client.credentials()
    api_client.force_authenticate(owner)
    staff = api_client.get(f"/api/installments/plans/{flat.pk}/payoff/", {"date": "2026-03-01"})
    assert staff.json() == default.json()


def test_a_bad_payoff_date_is_a_400_naming_date(client, plan):
    assert client.get(f"{PLANS}{plan.pk}/payoff/", {"date": "soon"}).json() == {
        "date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
    }
    before_start = client.get(f"{PLANS}{plan.pk}/payoff/", {"date": "2026-01-01"})
    assert (before_start.status_code, list(before_start.json())) == (400, ["date"])


def test_a_plan_not_being_paid_has_no_payoff_quote(client, customer):
    application = client.post(f"{PLANS}apply/", APPLICATION, format="json").json()

    response = client.get(f"{PLANS}{application['id']}/payoff/")

    assert (response.status_code, list(response.json())) == (409, ["status"])


# The live preview and the shop's products ------------------------------------------------------------------------


def test_the_preview_is_the_schedule_an_application_would_get_and_saves_nothing(client, today, row_counts):
    before = row_counts()

    response = client.post(f"{PLANS}preview/", {**APPLICATION, "start_date": "2026-03-10"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "currency": "USD",
        "total_amount": "900.00",
        "down_payment": "100.00",
        "financed": "800.00",
        "finance_charge": "0.00",
        "total_payable": "900.00",
        "cash_price": "900.00",
        "amount_financed": "800.00",
        "total_of_payments": "800.00",
        "credit_price": "900.00",
        "apr": "0.00",
        "apr_label": "APR",
        "installment_amount": "200.00",
        "number_of_installments": 4,
        "due_date": "2026-07-10",
        "installments": [
            {"number": n, "due_date": due, "amount_due": "200.00", "principal": "200.00", "interest": "0.00"}
            for n, due in enumerate(["2026-04-10", "2026-05-10", "2026-06-10", "2026-07-10"], start=1)
        ],
    }
    assert row_counts() == before


def test_a_preview_without_a_price_names_the_total(client, today):
    body = {"number_of_installments": 3, "installment_frequency": "monthly"}

    response = client.post(f"{PLANS}preview/", body, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"total_amount": ["Give the total amount or the items sold."]},
    )


def test_the_shops_active_products_are_listed_by_name(client, merchant, other_merchant):
    fridge = ProductFactory(merchant=merchant, name="Fridge", sku="FR-1", price=Decimal("450.00"))
    cooker = ProductFactory(merchant=merchant, name="Cooker", sku="CK-1", price=Decimal("300.50"))
    ProductFactory(merchant=merchant, name="Old radio", sku="RD-0", price=Decimal("20.00"), is_active=False)
    ProductFactory(merchant=other_merchant, name="Kettle", sku="KT-1", price=Decimal("40.00"))

    response = client.get("/api/portal/products/")
    found = client.get("/api/portal/products/", {"search": "fr"})

    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {"id": str(cooker.pk), "name": "Cooker", "sku": "CK-1", "price": "300.50"},
            {"id": str(fridge.pk), "name": "Fridge", "sku": "FR-1", "price": "450.00"},
        ],
    }
    assert [row["name"] for row in found.json()["results"]] == ["Fridge"]


def test_an_unknown_query_parameter_is_named_in_a_400(client, plan):
    """A customer's app that misspells a filter is told, rather than answered as if it had asked nothing."""
    typo = client.get(PLANS, {"stauts": "active"})
    nameless = client.get("/api/portal/products/?=x")
    known = client.get(PLANS, {"status": "active", "page": 1, "page_size": 5})
    payoff = client.get(f"{PLANS}{plan.pk}/payoff/", {"date": "2026-03-01", "dat": "x"})

    assert (typo.status_code, typo.json()["stauts"]) == (400, ["Unknown query parameter."])
    assert (nameless.status_code, nameless.json()["query"]) == (400, ["Unknown query parameter."])
    assert (known.status_code, known.json()["count"]) == (200, 1)
    assert (payoff.status_code, payoff.json()["dat"]) == (400, ["Unknown query parameter."])
    assert client.get(f"{PLANS}{plan.pk}/payoff/", {"date": "2026-03-01"}).status_code == 200
