"""``GET /api/audit-log/``: owners and managers read their own merchant's trail, filtered and paginated; another
merchant's entries are invisible (a 404 on detail); clerks and viewers are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from auditlog.models import Entry
from customers.services import customer_create, customer_update
from installments.tests.factories import plan_make
from payments.services import payment_post
from taqsit import audit
from taqsit.models import Role
from taqsit.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api:audit-entry-list")


@pytest.fixture
def history(owner, manager, customer, other_owner, today):
    """This merchant: a plan and a payment by the owner (through the API), a customer edited by the manager
    (from a page); the other merchant: a customer of its own."""
    with audit.context(source="api", request_id="r-1"):
        plan = plan_make(actor=owner, customer=customer)
        payment_post(actor=owner, plan=plan, amount=Decimal("150.00"))
    with audit.context(source="web", request_id="r-2"):
        customer_update(actor=manager, customer=customer, notes="Pays on Fridays.")
    with audit.context(source="api", request_id="r-3"):
        customer_create(actor=other_owner, name="Omar Saleh", phone="+14155550199")
    return plan


def ids(response) -> list[int]:
    return [entry["id"] for entry in response.json()["results"]]


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_owners_and_managers_read_their_merchants_trail_newest_first(api_client, history, merchant, role):
    user = UserFactory(merchant=merchant, role=role, username=f"reader-{role}")
    api_client.force_authenticate(user)

    response = api_client.get(LIST, {"page_size": 200})

    assert response.status_code == 200
    mine = list(Entry.objects.filter(merchant=merchant).order_by("-id").values_list("id", flat=True))
    assert response.json()["count"] == len(mine)
    assert ids(response) == mine


@pytest.mark.parametrize("role", [Role.CLERK, Role.VIEWER])
def test_clerks_and_viewers_are_refused(api_client, history, merchant, role):
    api_client.force_authenticate(UserFactory(merchant=merchant, role=role, username=f"reader-{role}"))
    entry = Entry.objects.filter(merchant=merchant).first()

    assert api_client.get(LIST).status_code == 403
    assert api_client.get(reverse("api:audit-entry-detail", args=[entry.pk])).status_code == 403


def test_another_merchants_entries_are_invisible(api_client, history, owner, other_merchant):
    theirs = list(Entry.objects.filter(merchant=other_merchant).values_list("id", flat=True))
    assert theirs  # the other merchant, its owner and its customer
    api_client.force_authenticate(owner)

    listed = ids(api_client.get(LIST, {"page_size": 200}))
    assert set(listed).isdisjoint(theirs)
    for entry_id in theirs:
        response = api_client.get(reverse("api:audit-entry-detail", args=[entry_id]))
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    # Not by filtering for them either.
    customer = Entry.objects.get(merchant=other_merchant, object_type="customers.customer")
    assert api_client.get(LIST, {"object_id": customer.object_id}).json()["count"] == 0


def test_an_entry_says_who_did_what_from_where_and_what_changed(api_client, history, owner, manager, customer):
    api_client.force_authenticate(owner)
    entry = Entry.objects.get(object_type="customers.customer", operation="update")

    body = api_client.get(reverse("api:audit-entry-detail", args=[entry.pk])).json()

    assert body == {
        "id": entry.pk,
        "created_at": entry.created_at.isoformat().replace("+00:00", "Z"),
        "operation": "update",
        "object_type": "customers.customer",
        "object_id": str(customer.pk),
        "merchant": str(customer.merchant_id),
        "plan_id": None,
        "customer_id": str(customer.pk),
        "actor": str(manager.pk),
        "actor_name": "manager",
        "actor_customer": None,
        "role": "manager",
        "source": "web",
        "action": "customer.update",
        "request_id": "r-2",
        "ip": None,
        "context_id": str(entry.context_id),
        "context": {
            "source": "web",
            "request_id": "r-2",
            "action": "customer.update",
            "actor": str(manager.pk),
            "role": "manager",
            "merchant": str(customer.merchant_id),
        },
        "before": {"notes": ""},
        "after": {"notes": "Pays on Fridays."},
        "changes": [{"field": "notes", "before": "", "after": "Pays on Fridays."}],
    }


def test_money_is_a_decimal_string(api_client, history, owner):
    api_client.force_authenticate(owner)

    [entry] = api_client.get(LIST, {"object_type": "payments.payment", "action": "payment.post"}).json()["results"]

    assert (entry["after"]["amount"], entry["after"]["payment_number"]) == ("150.000", 2)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source": "web"}, lambda m: Entry.objects.filter(merchant=m, source="web")),
        ({"action": "payment.post"}, lambda m: Entry.objects.filter(merchant=m, action="payment.post")),
        ({"operation": "insert"}, lambda m: Entry.objects.filter(merchant=m, operation="insert")),
        (
            {"object_type": "payments.payment"},
            lambda m: Entry.objects.filter(merchant=m, object_type="payments.payment"),
        ),
        ({"created_after": "2000-01-01", "created_before": "2999-12-31"}, lambda m: Entry.objects.filter(merchant=m)),
        ({"created_after": "2999-01-01"}, lambda m: Entry.objects.none()),
        ({"created_before": "2000-01-01"}, lambda m: Entry.objects.none()),
    ],
    ids=["source", "action", "operation", "object_type", "dates", "after", "before"],
)
def test_filters(api_client, history, owner, merchant, filters, expected):
    api_client.force_authenticate(owner)

    response = api_client.get(LIST, {**filters, "page_size": 200})

    want = list(expected(merchant).order_by("-id").values_list("id", flat=True))
    assert response.status_code == 200
    assert ids(response) == want
    assert want or "created" in next(iter(filters))


def test_filters_by_actor_object_plan_and_customer(api_client, history, owner, manager, customer):
    api_client.force_authenticate(owner)
    plan = history

    by_manager = api_client.get(LIST, {"actor": str(manager.pk)}).json()
    assert [(e["object_type"], e["action"]) for e in by_manager["results"]] == [
        ("customers.customer", "customer.update")
    ]
    by_object = api_client.get(LIST, {"object_type": "installments.installmentplan", "object_id": str(plan.pk)})
    assert ids(by_object) == list(
        Entry.objects.filter(object_type="installments.installmentplan", object_id=str(plan.pk)).values_list(
            "id", flat=True
        )
    )
    by_plan = api_client.get(LIST, {"plan": str(plan.pk), "page_size": 200})
    assert ids(by_plan) == list(Entry.objects.filter(plan_id=plan.pk).values_list("id", flat=True))
    by_customer = api_client.get(LIST, {"customer": str(customer.pk), "page_size": 200}).json()
    assert {e["object_type"] for e in by_customer["results"]} == {
        "customers.customer",
        "installments.installmentplan",
    }


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"actor": "someone"}, "actor"),
        ({"source": "telegram"}, "source"),
        ({"object_type": "auth.group"}, "object_type"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"plan": "P-000001"}, "plan"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api_client, history, owner, filters, field):
    api_client.force_authenticate(owner)

    response = api_client.get(LIST, filters)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_pages(api_client, history, owner, merchant):
    api_client.force_authenticate(owner)
    total = Entry.objects.filter(merchant=merchant).count()

    first = api_client.get(LIST, {"page_size": 5}).json()
    second = api_client.get(first["next"]).json()

    assert (first["count"], len(first["results"]), first["previous"]) == (total, 5, None)
    assert [e["id"] for e in second["results"]] == list(
        Entry.objects.filter(merchant=merchant).order_by("-id").values_list("id", flat=True)[5:10]
    )


def test_the_list_costs_a_fixed_number_of_queries(api_client, history, owner, django_assert_max_num_queries):
    api_client.force_authenticate(owner)
    with django_assert_max_num_queries(2):  # the count and the page (with the actors joined)
        response = api_client.get(LIST, {"page_size": 200})
    assert response.status_code == 200
