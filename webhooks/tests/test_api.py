"""/api/webhooks/: the owner's endpoints and deliveries; nobody else's, and nobody else."""

from __future__ import annotations

import pytest

from installments.tests.factories import plan_make
from taqsit.models import Role
from taqsit.tenancy import merchant_scope
from taqsit.tests.factories import UserFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import deliveries_deliver, endpoint_create
from webhooks.signing import SECRET_PREFIX

pytestmark = pytest.mark.django_db

URL = "/api/webhooks/"


@pytest.fixture
def client(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


def test_the_owner_registers_an_endpoint_and_sees_its_secret_once(client, receiver):
    response = client.post(
        URL, {"url": receiver.url, "events": ["payment.posted", "plan.approved"], "description": "ERP"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret
    assert body["secret"].startswith(SECRET_PREFIX)
    assert (body["url"], body["events"], body["description"], body["is_active"]) == (
        receiver.url,
        ["payment.posted", "plan.approved"],
        "ERP",
        True,
    )
    listed = client.get(URL).json()
    assert listed["count"] == 1
    assert "secret" not in listed["results"][0]
    assert "secret" not in client.get(f"{URL}{endpoint.pk}/").json()


def test_rotating_the_secret_shows_the_new_one(client, owner, receiver):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])

    response = client.post(f"{URL}{endpoint.pk}/rotate-secret/", format="json")

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["secret"] == endpoint.secret
    assert endpoint.secret != ""


def test_the_owner_edits_and_removes_an_endpoint(client, owner, receiver):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])

    patched = client.patch(f"{URL}{endpoint.pk}/", {"events": ["customer.created"], "is_active": False}, format="json")
    assert (patched.status_code, patched.json()["events"], patched.json()["is_active"]) == (
        200,
        ["customer.created"],
        False,
    )
    deleted = client.delete(f"{URL}{endpoint.pk}/")
    assert deleted.status_code == 204
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"url": "http://hooks.example.com/x", "events": ["plan.created"]}, {"url": ["The URL must use https://."]}),
        (
            {"url": "https://127.0.0.1/x", "events": ["plan.created"]},
            {"url": ["127.0.0.1 is not a public address."]},
        ),
        (
            {"url": "https://169.254.169.254/latest", "events": ["plan.created"]},
            {"url": ["169.254.169.254 is not a public address."]},
        ),
        (
            {"url": "https://localhost:8443/x", "events": ["plan.created"]},
            {"url": ["localhost is not a public address."]},
        ),
        (
            {"url": "ftp://hooks.example.com/x", "events": ["plan.created"]},
            {"url": ["The URL must start with https:// and name a host."]},
        ),
        (
            {"url": "https://hooks.example.com/x", "events": ["plan.eaten"]},
            {"events": {"0": ['"plan.eaten" is not a valid choice.']}},
        ),
        ({"url": "https://hooks.example.com/x", "events": []}, {"events": ["This list may not be empty."]}),
        ({"events": ["plan.created"]}, {"url": ["This field is required."]}),
    ],
)
def test_a_bad_endpoint_is_a_400_naming_the_field(client, settings, body, errors):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    response = client.post(URL, body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CLERK, Role.VIEWER])
def test_only_the_owner_may(api_client, merchant, owner, receiver, role):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    api_client.force_authenticate(UserFactory(merchant=merchant, role=role))

    assert api_client.get(URL).status_code == 403
    assert api_client.get(f"{URL}{endpoint.pk}/").status_code == 403
    assert api_client.post(URL, {"url": receiver.url, "events": ["plan.created"]}, format="json").status_code == 403
    assert api_client.get(f"{URL}deliveries/").status_code == 403


def test_another_merchants_endpoints_and_deliveries_are_invisible(
    api_client, merchant, owner, customer, other_owner, receiver, today
):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    plan_make(actor=owner, customer=customer)
    delivery = WebhookDelivery.objects.get()
    api_client.force_authenticate(other_owner)

    assert api_client.get(URL).json()["count"] == 0
    assert api_client.get(f"{URL}deliveries/").json()["count"] == 0
    assert api_client.get(f"{URL}deliveries/?endpoint={endpoint.pk}").json()["count"] == 0
    for method, path in [
        ("get", f"{URL}{endpoint.pk}/"),
        ("patch", f"{URL}{endpoint.pk}/"),
        ("delete", f"{URL}{endpoint.pk}/"),
        ("post", f"{URL}{endpoint.pk}/rotate-secret/"),
        ("get", f"{URL}deliveries/{delivery.pk}/"),
        ("post", f"{URL}deliveries/{delivery.pk}/redeliver/"),
    ]:
        response = getattr(api_client, method)(path, {}, format="json")
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), path
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_deliveries_show_every_attempt_and_can_be_sent_again(client, merchant, owner, customer, receiver):
    endpoint = endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    plan = plan_make(actor=owner, customer=customer)
    receiver.status = 503
    with merchant_scope(merchant.pk):
        deliveries_deliver(merchant_id=merchant.pk)
    delivery = WebhookDelivery.objects.get()

    listed = client.get(f"{URL}deliveries/?endpoint={endpoint.pk}&status=pending").json()

    assert listed["count"] == 1
    row = listed["results"][0]
    assert (row["id"], row["event_type"], row["status"], row["attempts"], row["last_status_code"]) == (
        str(delivery.pk),
        "plan.created",
        "pending",
        1,
        503,
    )
    assert row["payload"]["data"]["object"]["id"] == str(plan.pk)
    assert [(a["status_code"], a["succeeded"], a["error"], a["response_excerpt"]) for a in row["attempt_log"]] == [
        (503, False, "HTTP 503", '{"ok": false}')
    ]

    receiver.status = 200
    again = client.post(f"{URL}deliveries/{delivery.pk}/redeliver/", format="json")
    assert (again.status_code, again.json()["status"]) == (200, "pending")
    with merchant_scope(merchant.pk):
        assert deliveries_deliver(merchant_id=merchant.pk) == 1
    shown = client.get(f"{URL}deliveries/{delivery.pk}/").json()
    assert (shown["status"], [a["status_code"] for a in shown["attempt_log"]]) == ("delivered", [200, 503])
