"""An integrator's day, over HTTP with real JWTs: sign up, staff, a customer, a sale on installment that needs a
manager's approval, payments (one retried with the same Idempotency-Key), the summary, the collections list, a
refund, token rotation and logout."""

import pytest
from rest_framework.test import APIClient

from taqsit.models import Merchant, User
from taqsit.services import merchant_update

pytestmark = pytest.mark.django_db

PASSWORD = "Counter-Pass-2026"


def signed_in(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json() if response.content else {}


def test_an_integrators_day(api_client, today):
    anonymous = api_client

    # Sign up: a merchant and its owner, then a token pair by username and password.
    registered = ok(
        anonymous.post(
            "/api/auth/register/",
            {"merchant_name": "Dar Al Aqsat", "username": "layla", "email": "layla@example.com", "password": PASSWORD},
            format="json",
        ),
        201,
    )
    assert registered["user"]["role"] == "owner"
    tokens = ok(anonymous.post("/api/auth/token/", {"username": "layla", "password": PASSWORD}, format="json"))
    owner = signed_in(tokens["access"])
    me = ok(owner.get("/api/auth/me/"))
    assert (me["username"], me["role"], me["merchant"]["name"], me["merchant"]["currency"]) == (
        "layla",
        "owner",
        "Dar Al Aqsat",
        "USD",
    )
    assert ok(anonymous.get("/api/auth/me/"), 401) == {"detail": "Authentication credentials were not provided."}

    # The one step the API has no endpoint for (merchant settings are a page): new plans need approval.
    merchant_update(actor=User.objects.get(username="layla"), merchant=Merchant.objects.get(), requires_approval=True)

    # A customer and a product.
    customer = ok(owner.post("/api/customers/", {"name": "Omar Saleh", "phone": "(415) 555-0199"}, format="json"), 201)
    assert customer["phone"] == "+14155550199"
    product = ok(owner.post("/api/products/", {"name": "TV 55", "sku": "TV-55", "price": "450"}, format="json"), 201)
    assert product["price"] == "450.00"

    # The schedule first (nothing saved), then the plan itself: an application waiting for a manager.
    terms = {
        "items": [{"product": product["id"], "quantity": 2}],
        "down_payment": "100.00",
        "number_of_installments": 4,
        "installment_frequency": "monthly",
        "start_date": "2025-11-15",
    }
    preview = ok(owner.post("/api/installments/plans/preview/", terms, format="json"))
    assert preview == {
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
        "due_date": "2026-03-15",
        "installments": [
            {"number": n, "due_date": due, "amount_due": "200.00", "principal": "200.00", "interest": "0.00"}
            for n, due in enumerate(["2025-12-15", "2026-01-15", "2026-02-15", "2026-03-15"], start=1)
        ],
    }
    assert ok(owner.get("/api/installments/plans/"))["count"] == 0

    plan = ok(owner.post("/api/installments/plans/", {"customer": customer["id"], **terms}, format="json"), 201)
    assert (plan["reference"], plan["status"], plan["total_amount"], plan["amount_paid"]) == (
        "P-000001",
        "pending",
        "900.00",
        "0.00",
    )
    plan_url = f"/api/installments/plans/{plan['id']}/"

    # The owner hires a manager, who signs in and approves: the plan is active, the down payment recorded.
    hired = ok(
        owner.post(
            "/api/users/",
            {"username": "yusuf", "email": "yusuf@example.com", "password": PASSWORD, "role": "manager"},
            format="json",
        ),
        201,
    )
    assert hired["role"] == "manager"
    manager_tokens = ok(anonymous.post("/api/auth/token/", {"username": "yusuf", "password": PASSWORD}, format="json"))
    manager = signed_in(manager_tokens["access"])
    assert ok(manager.get("/api/users/"), 403) == {"detail": "Your role does not allow this."}
    approved = ok(manager.post(f"{plan_url}approve/"))
    assert (approved["status"], approved["amount_paid"], approved["remaining_balance"]) == (
        "active",
        "100.00",
        "800.00",
    )

    # A partial payment at the counter; the till retries it with the same key: one payment is recorded.
    payment = {"plan": plan["id"], "amount": "150.00", "payment_date": "2026-02-28", "payment_method": "cash"}
    first = owner.post("/api/installments/payments/", payment, format="json", headers={"Idempotency-Key": "till-1-7"})
    retry = owner.post("/api/installments/payments/", payment, format="json", headers={"Idempotency-Key": "till-1-7"})
    assert (first.status_code, first["Idempotent-Replayed"], retry.status_code, retry["Idempotent-Replayed"]) == (
        201,
        "false",
        201,
        "true",
    )
    assert retry.json() == first.json()
    assert (first.json()["payment_number"], first.json()["allocations"]) == (
        2,
        [{"installment_number": 1, "kind": "principal", "amount": "150.00", "is_reversal": False}],
    )
    second = ok(
        owner.post(
            "/api/installments/payments/",
            {"plan": plan["id"], "amount": "250.00", "payment_method": "card", "reference": "POS-88"},
            format="json",
        ),
        201,
    )
    assert (second["payment_number"], second["payment_date"], [line["amount"] for line in second["allocations"]]) == (
        3,
        "2026-03-01",
        ["50.00", "200.00"],
    )
    history = ok(owner.get(f"{plan_url}payments/"))
    assert [(line["payment_number"], line["amount"]) for line in history["results"]] == [
        (3, "250.00"),
        (2, "150.00"),
        (1, "100.00"),
    ]

    # Where the plan stands, and the collections list.
    assert ok(owner.get(f"{plan_url}summary/")) == {
        "plan_id": plan["id"],
        "reference": "P-000001",
        "currency": "USD",
        "total_amount": "900.00",
        "down_payment": "100.00",
        "finance_charge": "0.00",
        "total_payable": "900.00",
        "amount_paid": "500.00",
        "late_fees": "0.00",
        "remaining_balance": "400.00",
        "installments_paid": 2,
        "total_installments": 4,
        "next_payment_due": "2026-02-15",
        "next_amount_due": "200.00",
        "overdue_amount": "200.00",
        "status": "active",
        "cash_price": "900.00",
        "amount_financed": "800.00",
        "total_of_payments": "800.00",
        "credit_price": "900.00",
        "apr": "0.00",
        "apr_label": "APR",
    }
    overdue = ok(owner.get("/api/installments/plans/overdue/"))
    assert [(line["reference"], line["customer_name"]) for line in overdue["results"]] == [("P-000001", "Omar Saleh")]
    collections = ok(owner.get("/api/installments/installments/?status=overdue&due_before=2026-03-01"))
    assert [
        (line["plan_reference"], line["number"], line["due_date"], line["status"]) for line in collections["results"]
    ] == [("P-000001", 3, "2026-02-15", "overdue")]

    # The card payment is refunded by the manager: the money goes back on the schedule.
    refunded = ok(
        manager.post(f"/api/installments/payments/{second['id']}/refund/", {"reason": "Card dispute."}, format="json")
    )
    assert refunded["status"] == "refunded"
    summary = ok(owner.get(f"{plan_url}summary/"))
    assert (
        summary["amount_paid"],
        summary["remaining_balance"],
        summary["installments_paid"],
        summary["next_payment_due"],
        summary["next_amount_due"],
        summary["overdue_amount"],
    ) == ("250.00", "650.00", 0, "2025-12-15", "50.00", "450.00")
    assert ok(
        manager.post(f"/api/installments/payments/{second['id']}/refund/", {"reason": "Again."}, format="json"), 409
    ) == {"status": ["Payment 3 is refunded."]}

    # Token rotation: the new refresh token works, the old one is blacklisted.
    rotated = ok(anonymous.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"))
    assert set(rotated) == {"access", "refresh"}
    assert ok(anonymous.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"), 401) == {
        "detail": "Token is blacklisted",
        "code": "token_not_valid",
    }
    owner = signed_in(rotated["access"])
    assert ok(owner.get("/api/auth/me/"))["username"] == "layla"

    # Logout: the refresh token no longer refreshes.
    assert ok(owner.post("/api/auth/logout/", {"refresh": rotated["refresh"]}, format="json"), 204) == {}
    assert ok(anonymous.post("/api/auth/token/refresh/", {"refresh": rotated["refresh"]}, format="json"), 401) == {
        "detail": "Token is blacklisted",
        "code": "token_not_valid",
    }
