"""Every list of the API, as an integrator walks it: each ordering the schema lists, page by page, returns every row
exactly once even when many rows share the sort key; an unknown ordering is a 400 naming the allowed ones; nested
lists (a customer's plans and payments, a plan's payments) filter, search and order their own rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import pytest
from django.urls import resolve
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.test import APIRequestFactory, force_authenticate

from auditlog.models import Entry
from customers.tests.factories import CustomerFactory
from installments.api import CustomerPlanViewSet
from installments.tests.factories import ProductFactory, plan_make
from payments.api import PlanPaymentViewSet
from payments.services import payment_post, payment_refund
from taqsit.models import Role
from taqsit.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAID_ON = date(2026, 2, 20)


@pytest.fixture
def book(merchant, owner, manager, clerk, viewer, today):
    """Rows whose sort keys are mostly equal (the clock is frozen, so every ``created_at`` is too): customers
    sharing names, plans with the same terms, payments of the same amount on the same day, installments due on
    the same dates, users of the same role, products of the same price."""
    for number in range(6):
        UserFactory(merchant=merchant, role=Role.CLERK, username=f"clerk{number}")
    for number in range(7):
        ProductFactory(merchant=merchant, name=f"Fridge {number % 2}", price=Decimal("500.00"))
    customers = [CustomerFactory(merchant=merchant, name=("Same Name", "Other Name")[n % 2]) for n in range(9)]
    busy = customers[0]
    plans = [plan_make(actor=owner, customer=busy) for _ in range(7)]
    plans += [plan_make(actor=owner, customer=customer) for customer in customers[1:5]]
    long = plan_make(
        actor=owner,
        customer=busy,
        total_amount=Decimal("1200.00"),
        down_payment=Decimal("0"),
        number_of_installments=12,
    )
    for _ in range(9):
        payment_post(actor=owner, plan=long, amount=Decimal("30.00"), payment_date=PAID_ON)
    for plan in plans[::2]:
        payment_post(actor=owner, plan=plan, amount=Decimal("200.00"), payment_date=PAID_ON)
    return {"busy": busy, "plans": plans, "long": long}


def list_paths(schema: dict, *, book: dict) -> dict[str, list[str]]:
    """Every GET path whose schema lists ``ordering`` values, its path parameters filled with real ids."""
    fill = {
        "/api/customers/{id}/": str(book["busy"].pk),
        "/api/installments/plans/{id}/": str(book["long"].pk),
    }
    paths = {}
    for path, operations in schema["paths"].items():
        parameters = {parameter["name"]: parameter for parameter in operations.get("get", {}).get("parameters", [])}
        if "ordering" not in parameters or path.endswith("/export/"):  # exports have no pages: every row at once
            continue
        for prefix, pk in fill.items():
            path = path.replace(prefix, prefix.replace("{id}", pk))
        paths[path.replace("{plan_status}", "active")] = parameters["ordering"]["schema"]["enum"]
    return paths


def walk(client, url: str, *, page_size: int) -> tuple[int, list[dict]]:
    """Follow ``next`` from the first page to the last; the count the first page gave, and every row seen."""
    response = client.get(f"{url}{'&' if '?' in url else '?'}page_size={page_size}")
    assert response.status_code == 200, (url, response.content)
    count, rows = response.json()["count"], []
    while True:
        body = response.json()
        rows += body["results"]
        if body["next"] is None:
            return count, rows
        response = client.get(body["next"])
        assert response.status_code == 200, (body["next"], response.content)


def sort_key(value):
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return value


def test_every_ordering_of_every_list_returns_every_row_exactly_once(api_client, owner, book):
    api_client.force_authenticate(owner)
    paths = list_paths(api_client.get("/api/schema/?format=json").json(), book=book)

    walked = {}
    for path, values in paths.items():
        _count, everything = walk(api_client, path, page_size=200)
        expected = sorted(row["id"] for row in everything)
        page_size = max(2, len(expected) // 6)
        for value in values:
            count, rows = walk(api_client, f"{path}?ordering={value}", page_size=page_size)
            seen = [row["id"] for row in rows]
            assert (count, sorted(seen)) == (len(expected), expected), (path, value)
            field = value.lstrip("-")
            keys = [sort_key(row[field]) for row in rows if field in row]
            if keys and None not in keys:
                assert keys == sorted(keys, reverse=value.startswith("-")), (path, value)
        walked[path] = (len(expected), len(values))

    customer, plan = book["busy"].pk, book["long"].pk
    assert walked == {
        "/api/users/": (10, 6),
        "/api/customers/": (9, 4),
        f"/api/customers/{customer}/plans/": (8, 10),
        f"/api/customers/{customer}/payments/": (20, 8),
        "/api/products/": (7, 6),
        "/api/installments/plans/": (12, 10),
        f"/api/installments/plans/{plan}/payments/": (9, 8),
        "/api/installments/plans/overdue/": (5, 10),
        "/api/installments/plans/status/active/": (12, 10),
        "/api/installments/installments/": (56, 6),
        "/api/installments/payments/": (26, 8),
        "/api/audit-log/": (Entry.objects.filter(merchant=book["busy"].merchant).count(), 4),
        "/api/charity-disbursements/": (0, 6),
        # The book has no worklist, import or webhook rows yet: these lists and their orderings are walked empty.
        "/api/collectors/assignments/": (0, 4),
        "/api/collectors/contacts/": (0, 2),
        "/api/collectors/promises/": (0, 6),
        "/api/imports/": (0, 2),
        "/api/webhooks/": (0, 4),
        "/api/webhooks/deliveries/": (0, 2),
    }


@pytest.mark.parametrize(
    ("path", "ordering", "unknown", "allowed"),
    [
        ("/api/customers/", "nope", "nope", "name, -name, created_at, -created_at"),
        ("/api/customers/", "name,-phone", "-phone", "name, -name, created_at, -created_at"),
        (
            "/api/installments/installments/",
            "due_date,--due_date",
            "--due_date",
            "due_date, -due_date, amount_due, -amount_due, number, -number",
        ),
        ("/api/audit-log/", "pk", "pk", "id, -id, created_at, -created_at"),
        (
            "/api/installments/payments/export/",
            "-customer",
            "-customer",
            "payment_date, -payment_date, amount, -amount, created_at, -created_at, payment_number, -payment_number",
        ),
    ],
)
def test_an_unknown_ordering_is_a_400_naming_the_allowed_values(api_client, owner, path, ordering, unknown, allowed):
    api_client.force_authenticate(owner)

    response = api_client.get(path, {"ordering": ordering})

    assert response.status_code == 400
    assert response.json() == {
        "ordering": [f"Unknown ordering {unknown}: use one or more of {allowed}, separated by commas."]
    }


def test_a_customers_plans_are_filtered_searched_and_ordered_not_the_customer(api_client, clerk, book):
    api_client.force_authenticate(clerk)
    url = f"/api/customers/{book['busy'].pk}/plans/"
    busy_plans = sorted(plan.number for plan in [*book["plans"][:7], book["long"]])

    by_number = api_client.get(url, {"ordering": "number"}).json()["results"]
    newest_number_first = api_client.get(url, {"ordering": "-number"}).json()["results"]
    found = api_client.get(url, {"search": book["plans"][2].reference})
    by_hash = api_client.get(url, {"search": f"#{book['long'].number}"})
    long_terms = api_client.get(url, {"total_min": "1100"})
    someone_elses = api_client.get(url, {"search": book["plans"][8].reference})

    assert [int(row["reference"][2:]) for row in by_number] == busy_plans
    assert [int(row["reference"][2:]) for row in newest_number_first] == busy_plans[::-1]
    assert [row["reference"] for row in found.json()["results"]] == [book["plans"][2].reference]
    assert [row["reference"] for row in by_hash.json()["results"]] == [book["long"].reference]
    assert [row["reference"] for row in long_terms.json()["results"]] == [book["long"].reference]
    assert someone_elses.json()["count"] == 0


def test_a_plans_payments_take_the_payment_filters(api_client, owner, book):
    api_client.force_authenticate(owner)
    plan = book["long"]
    refunded = plan.payments.get(payment_number=4)
    payment_refund(actor=owner, payment=refunded, reason="Paid twice by mistake.")
    url = f"/api/installments/plans/{plan.pk}/payments/"

    only_refunded = api_client.get(url, {"status": "refunded"})
    in_order = api_client.get(url, {"ordering": "payment_number", "status": "completed"})
    bad_status = api_client.get(url, {"status": "lost"})

    assert only_refunded.status_code == 200
    assert [(row["payment_number"], row["status"]) for row in only_refunded.json()["results"]] == [(4, "refunded")]
    assert [row["payment_number"] for row in in_order.json()["results"]] == [1, 2, 3, 5, 6, 7, 8, 9]
    assert bad_status.status_code == 400
    assert list(bad_status.json()) == ["status"]


def test_a_customers_payments_take_the_payment_filters(api_client, clerk, book):
    api_client.force_authenticate(clerk)
    url = f"/api/customers/{book['busy'].pk}/payments/"

    of_one_plan = api_client.get(url, {"plan": str(book["long"].pk), "ordering": "-payment_number"})
    down_payments = api_client.get(url, {"is_down_payment": "true"})

    assert [row["payment_number"] for row in of_one_plan.json()["results"]] == [9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert down_payments.json()["count"] == 7
    assert {row["amount"] for row in down_payments.json()["results"]} == {"200.00"}


def test_plans_are_found_by_number_reference_or_customer(api_client, clerk, book):
    api_client.force_authenticate(clerk)
    plan = book["plans"][8]

    def found(term: str) -> list[str]:
        response = api_client.get("/api/installments/plans/", {"search": term})
        assert response.status_code == 200, response.content
        return sorted(row["reference"] for row in response.json()["results"])

    assert found(plan.reference) == [plan.reference]
    assert found(plan.reference.lower()) == [plan.reference]
    assert found(f"#{plan.number}") == [plan.reference]
    assert found(f"{plan.customer.phone}") == [plan.reference]
    assert found("Other Name") == sorted(p.reference for p in book["plans"] if p.customer.name == "Other Name")
    assert found("P-99999999999") == []


def test_the_audit_log_search_finds_an_actor_or_an_object(api_client, owner, manager, customer, book):
    api_client.force_authenticate(owner)
    plan = book["long"]

    by_object = api_client.get("/api/audit-log/", {"search": str(plan.pk), "page_size": 200}).json()
    by_actor = api_client.get("/api/audit-log/", {"search": "owner", "page_size": 200}).json()

    assert {row["object_id"] for row in by_object["results"]} == {str(plan.pk)}
    assert by_object["count"] == Entry.objects.filter(object_id=str(plan.pk)).count() > 0
    assert by_actor["count"] == Entry.objects.filter(actor=owner).count() > 0
    assert {row["actor_name"] for row in by_actor["results"]} == {owner.get_full_name() or owner.username}


def test_the_schema_documents_the_nested_lists_filters_search_and_ordering(api_client, owner):
    api_client.force_authenticate(owner)
    paths = api_client.get("/api/schema/?format=json").json()["paths"]

    def parameters(path: str) -> dict[str, dict]:
        return {parameter["name"]: parameter for parameter in paths[path]["get"]["parameters"]}

    customer_plans = parameters("/api/customers/{id}/plans/")
    plan_list = parameters("/api/installments/plans/")
    customer_payments = parameters("/api/customers/{id}/payments/")
    plan_payments = parameters("/api/installments/plans/{id}/payments/")
    payment_list = parameters("/api/installments/payments/")

    assert sorted(customer_plans) == sorted([*plan_list, "id"])
    assert customer_plans["ordering"]["schema"] == plan_list["ordering"]["schema"]
    assert customer_plans["status"]["schema"] == plan_list["status"]["schema"]
    assert sorted(customer_payments) == sorted(plan_payments) == sorted([*payment_list, "id"])
    assert plan_payments["ordering"]["schema"]["enum"] == [
        "payment_date",
        "-payment_date",
        "amount",
        "-amount",
        "created_at",
        "-created_at",
        "payment_number",
        "-payment_number",
    ]
    assert "search" not in parameters("/api/notifications/")


def test_the_browsable_api_renders_the_nested_lists_with_their_filters(owner, book):
    """Rendered by the browsable API's renderer itself, wherever the settings serve it (development)."""

    def render(viewset, action: str, path: str) -> str:
        handler = getattr(viewset, action)
        view = viewset.as_view({"get": action}, renderer_classes=[BrowsableAPIRenderer], detail=True, **handler.kwargs)
        request = APIRequestFactory().get(path, {"ordering": "-amount"} if action == "payments" else {})
        request.resolver_match = resolve(path)
        force_authenticate(request, user=owner)
        response = view(request, **request.resolver_match.kwargs)
        assert response.status_code == 200, response.data
        return response.render().content.decode()

    plans = render(CustomerPlanViewSet, "plans", f"/api/customers/{book['busy'].pk}/plans/")
    payments = render(PlanPaymentViewSet, "payments", f"/api/installments/plans/{book['long'].pk}/payments/")

    assert 'name="total_min"' in plans
    assert 'name="is_down_payment"' in payments
