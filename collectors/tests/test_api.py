"""The collector's worklist over the API: what each role may do, what a bad body answers, another merchant's
rows and staff, and the figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collectors.models import Assignment, Contact, Promise
from installments.tests.factories import plan_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(owner, customer, today):
    return plan_make(actor=owner, customer=customer)


def test_a_manager_assigns_plans_in_bulk_and_the_list_shows_them(api_client, manager, clerk, owner, customer, plan):
    other = plan_make(actor=owner, customer=customer)
    api_client.force_authenticate(manager)

    response = api_client.post(
        "/api/collectors/assignments/",
        {"plans": [str(plan.pk), str(other.pk)], "collector": str(clerk.pk)},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert sorted((row["plan"], row["collector"], row["collector_name"]) for row in response.json()) == sorted(
        [(str(plan.pk), str(clerk.pk), "clerk"), (str(other.pk), str(clerk.pk), "clerk")]
    )
    listed = api_client.get("/api/collectors/assignments/", {"plan": str(plan.pk)}).json()
    assert (listed["count"], listed["results"][0]["assigned_by"]) == (1, str(manager.pk))
    response = api_client.post(
        "/api/collectors/assignments/", {"plans": [str(plan.pk)], "collector": None}, format="json"
    )
    assert (response.status_code, response.json()) == (201, [])
    assert list(Assignment.objects.values_list("plan_id", flat=True)) == [other.pk]


def test_a_collector_of_another_merchant_is_refused(api_client, manager, other_owner, plan):
    api_client.force_authenticate(manager)
    response = api_client.post(
        "/api/collectors/assignments/", {"plans": [str(plan.pk)], "collector": str(other_owner.pk)}, format="json"
    )
    assert (response.status_code, response.json()) == (400, {"collector": ["No such member of staff."]})


def test_a_clerk_records_a_contact_and_a_promise(api_client, clerk, plan):
    api_client.force_authenticate(clerk)

    contact = api_client.post(
        "/api/collectors/contacts/",
        {"plan": str(plan.pk), "kind": "visit", "outcome": "not_home", "note": "Shop closed."},
        format="json",
    )
    promise = api_client.post(
        "/api/collectors/promises/",
        {"plan": str(plan.pk), "amount": "150.00", "promised_on": "2026-03-05"},
        format="json",
    )

    assert contact.status_code == 201, contact.content
    assert {key: contact.json()[key] for key in ("kind", "outcome", "note", "contacted_at", "made_by")} == {
        "kind": "visit",
        "outcome": "not_home",
        "note": "Shop closed.",
        "contacted_at": "2026-03-01T12:00:00Z",
        "made_by": str(clerk.pk),
    }
    assert promise.status_code == 201, promise.content
    body = promise.json()
    assert {key: body[key] for key in ("amount", "promised_on", "status", "amount_counted", "collector")} == {
        "amount": "150.00",
        "promised_on": "2026-03-05",
        "status": "open",
        "amount_counted": "0.00",
        "collector": str(clerk.pk),
    }
    assert Contact.objects.get(pk=body["contact"]).outcome == "promised"


def test_a_promise_past_its_date_reads_broken_and_filters_so(api_client, clerk, plan, today):
    Promise.objects.create(
        merchant=plan.merchant,
        plan=plan,
        amount=Decimal("10.00"),
        promised_on=date(2026, 2, 27),
        made_at=plan.created_at,
        made_on=date(2026, 2, 26),
        made_by=clerk,
        collector=clerk,
    )
    api_client.force_authenticate(clerk)
    assert [row["status"] for row in api_client.get("/api/collectors/promises/").json()["results"]] == ["broken"]
    assert api_client.get("/api/collectors/promises/", {"status": "broken"}).json()["count"] == 1
    assert api_client.get("/api/collectors/promises/", {"status": "open"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"amount": "0", "promised_on": "2026-03-05"}, {"amount": ["The amount must be more than zero."]}),
        (
            {"amount": "1e2", "promised_on": "2026-03-05"},
            {"amount": ["Enter a decimal number such as 1200.50, without exponent, spaces or separators."]},
        ),
        ({"amount": "10", "promised_on": "2026-02-01"}, {"promised_on": ["The date 2026-02-01 has passed."]}),
        (
            {"amount": "10", "promised_on": "soon"},
            {"promised_on": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
        ({"amount": "10", "promised_on": "2026-03-05", "kind": "fax"}, {"kind": ['"fax" is not a valid choice.']}),
        (
            {"amount": "10", "promisedOn": "2026-03-05"},
            {"promised_on": ["This field is required."], "promisedOn": ["Unknown field. Did you mean promised_on?"]},
        ),
    ],
)
def test_a_bad_promise_is_a_400_naming_the_field(api_client, clerk, plan, body, errors):
    api_client.force_authenticate(clerk)
    response = api_client.post("/api/collectors/promises/", {"plan": str(plan.pk), **body}, format="json")
    assert (response.status_code, response.json()) == (400, errors)
    assert Promise.objects.count() == 0


def test_another_merchants_plan_is_no_such_plan(api_client, other_owner, plan):
    api_client.force_authenticate(other_owner)
    for path, body in (
        ("/api/collectors/promises/", {"amount": "10", "promised_on": "2026-03-05"}),
        ("/api/collectors/contacts/", {"kind": "call", "outcome": "reached"}),
    ):
        response = api_client.post(path, {"plan": str(plan.pk), **body}, format="json")
        assert (response.status_code, response.json()) == (400, {"plan": ["No such plan."]})
    response = api_client.post(
        "/api/collectors/assignments/", {"plans": [str(plan.pk)], "collector": str(other_owner.pk)}, format="json"
    )
    assert (response.status_code, response.json()) == (400, {"plans": [f"No such plan: {plan.pk}."]})


def test_the_figures(api_client, clerk, plan):
    api_client.force_authenticate(clerk)
    api_client.post(
        "/api/collectors/promises/",
        {"plan": str(plan.pk), "amount": "150.00", "promised_on": "2026-03-05"},
        format="json",
    )

    response = api_client.get("/api/collectors/figures/", {"week": "2026-W09", "weeks": 1})

    assert response.status_code == 200
    row = {
        "collector": str(clerk.pk),
        "collector_name": "clerk",
        "week": "2026-W09",
        "week_start": "2026-02-23",
        "promises_made": 1,
        "promises_kept": 0,
        "promises_broken": 0,
        "amount_promised": "150.00",
        "amount_recovered": "0.00",
        "contacts_made": 1,
    }
    assert response.json() == {
        "first_week": "2026-02-23",
        "last_week": "2026-02-23",
        "results": [row],
        "totals": {**row, "collector": None, "collector_name": ""},
    }
    assert api_client.get("/api/collectors/figures/", {"week": "2026-W60"}).json() == {"week": ["No such ISO week."]}
    assert api_client.get("/api/collectors/figures/", {"week": ""}).json() == {"week": ["No such ISO week."]}
    assert api_client.get("/api/collectors/figures/", {"weeks": "0"}).status_code == 400
