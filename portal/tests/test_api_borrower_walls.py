"""The walls around the borrower API's data: a customer sees only their own plans, payments and messages at their
merchant (anyone else's is a 404); a staff token is refused on every portal endpoint and a customer's on the staff
endpoints (401); each customer and each address has its limit (429)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.urls import URLResolver, reverse
from rest_framework_simplejwt.tokens import RefreshToken

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from notifications.models import Notification
from payments.models import Payment
from payments.tests.reports import report
from portal import api_urls
from portal.tests.borrower import bearer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _message(customer) -> Notification:
    return Notification.objects.create(
        merchant=customer.merchant,
        customer=customer,
        kind=Notification.Kind.REMINDER_UPCOMING,
        channel=Notification.Channel.SMS,
        day=date(2026, 3, 1),
        status=Notification.Status.SENT,
        body="Your installment is due soon.",
        send_after=NOW,
        sent_at=NOW,
    )


def _belongings(customer, actor) -> dict:
    """A plan with a reported transfer and a message, all ``customer``'s."""
    plan = plan_make(actor=actor, customer=customer)
    return {"plan": plan, "payment": report(customer=customer, plan=plan), "message": _message(customer)}


def _addresses(things: dict) -> list[tuple[str, str]]:
    plan, payment, message = things["plan"].pk, things["payment"].pk, things["message"].pk
    return [
        ("get", f"/api/portal/plans/{plan}/"),
        ("get", f"/api/portal/plans/{plan}/payoff/"),
        ("get", f"/api/portal/payments/{payment}/"),
        ("get", f"/api/portal/notifications/{message}/"),
        ("post", f"/api/portal/notifications/{message}/read/"),
    ]


@pytest.fixture
def neighbour(merchant):
    """Another customer of the same shop."""
    return CustomerFactory(merchant=merchant, name="Bashir Nour", phone="+14155550188")


@pytest.fixture
def stranger(other_merchant):
    """A customer of another shop, with the same phone as ``customer``: a different person to each shop."""
    return CustomerFactory(merchant=other_merchant, name="Amina Haddad", phone="+14155550123")


@pytest.mark.parametrize("whose", ["neighbour", "stranger"])
def test_another_customers_plan_payment_or_message_is_a_404_and_nothing_changes(
    api_client, request, customer, owner, other_owner, today, whose
):
    other = request.getfixturevalue(whose)
    things = _belongings(other, owner if whose == "neighbour" else other_owner)
    _belongings(customer, owner)
    client = bearer(api_client, customer)

    answers = {f"{method} {path}": getattr(client, method)(path).status_code for method, path in _addresses(things)}

    assert answers == dict.fromkeys(answers, 404)
    things["message"].refresh_from_db()
    assert things["message"].read_at is None
    # Their rows are in none of the lists either.
    for path in ("/api/portal/plans/", "/api/portal/payments/", "/api/portal/notifications/"):
        listed = {row["id"] for row in client.get(path).json()["results"]}
        assert listed.isdisjoint({str(things[key].pk) for key in things}), path


def test_another_customers_plan_is_refused_by_filters_as_one_that_exists_nowhere(
    api_client, customer, neighbour, owner, today
):
    theirs = _belongings(neighbour, owner)
    client = bearer(api_client, customer)

    response = client.get("/api/portal/payments/", {"plan": str(theirs["plan"].pk)})

    assert (response.status_code, response.json()["count"]) == (200, 0)


def _portal_routes() -> list[tuple[str, str]]:
    """Every route of the borrower API (a sample id in its address) with each method it answers."""
    sample = "6f1c1b5e-3c1e-4d43-9d6b-0f6a3c0b9f11"
    routes = []
    for pattern in api_urls.urlpatterns:
        for leaf in pattern.url_patterns if isinstance(pattern, URLResolver) else [pattern]:
            if "format" in leaf.pattern.regex.groupindex:
                continue
            kwargs = {"pk": sample} if "pk" in leaf.pattern.regex.groupindex else {}
            path = reverse(f"api:{leaf.name}", kwargs=kwargs)
            actions = getattr(leaf.callback, "actions", None)
            view_class = leaf.callback.cls if actions is not None else leaf.callback.view_class
            methods = (
                set(actions)
                if actions is not None
                else {m for m in view_class.http_method_names if hasattr(view_class, m)}
            )
            routes += [(method, path) for method in sorted(methods - {"head", "options"})]
    return routes


PORTAL_ROUTES = _portal_routes()
# The log-in endpoints (link, code, token, register, refresh) are open to anyone (portal/tests/test_api_auth.py).
PUBLIC = {path for _method, path in PORTAL_ROUTES if path.startswith("/api/portal/auth/")}


def test_the_walk_covers_the_data_endpoints():
    walked = {f"{method} {path}" for method, path in PORTAL_ROUTES}

    assert {
        "get /api/portal/plans/",
        "post /api/portal/plans/apply/",
        "get /api/portal/plans/6f1c1b5e-3c1e-4d43-9d6b-0f6a3c0b9f11/payoff/",
        "get /api/portal/payments/",
        "post /api/portal/payments/",
        "post /api/portal/notifications/6f1c1b5e-3c1e-4d43-9d6b-0f6a3c0b9f11/read/",
        "get /api/portal/me/",
    } <= walked


@pytest.mark.parametrize(("method", "path"), [route for route in PORTAL_ROUTES if route[1] not in PUBLIC])
def test_a_staff_token_is_a_401_on_every_portal_endpoint(api_client, owner, customer, method, path):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}")
    before = (Payment.objects.count(), Notification.objects.filter(read_at__isnull=False).count())

    response = getattr(api_client, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="portal"'
    assert (Payment.objects.count(), Notification.objects.filter(read_at__isnull=False).count()) == before


@pytest.mark.parametrize(("method", "path"), [route for route in PORTAL_ROUTES if route[1] not in PUBLIC])
def test_no_token_is_a_401_on_every_portal_endpoint(api_client, method, path):
    assert getattr(api_client, method)(path, {}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/customers/"),
        ("get", "/api/installments/plans/"),
        ("get", "/api/installments/payments/"),
        ("post", "/api/installments/payments/"),
        ("get", "/api/stats/"),
        ("get", "/api/notifications/"),
        ("get", "/api/audit-log/"),
    ],
)
def test_a_customers_token_is_a_401_on_staff_endpoints(api_client, customer, owner, today, method, path):
    plan = plan_make(actor=owner, customer=customer)
    client = bearer(api_client, customer)
    before = Payment.objects.count()

    body = {"plan": str(plan.pk), "amount": "10.00", "payment_date": "2026-02-20"} if method == "post" else None
    response = getattr(client, method)(path, body, format="json")

    assert response.status_code == 401
    assert Payment.objects.count() == before


# Limits -----------------------------------------------------------------------------------------------------


def _limits(settings, *, customer: str, address: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "portal_customer": customer,
            "portal_ip": address,
        },
    }


def test_each_customer_has_a_limit(api_client, settings, customer, neighbour, today):
    _limits(settings, customer="3/minute", address="100/minute")
    client = bearer(api_client, customer)
    answers = [client.get("/api/portal/plans/").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    throttled = client.get("/api/portal/notifications/")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    # Another customer from the same address still gets in (under the address's own limit).
    assert bearer(api_client, neighbour).get("/api/portal/plans/").status_code == 200


def test_each_address_has_a_limit_whoever_the_customer(api_client, settings, merchant, today):
    _limits(settings, customer="100/minute", address="5/minute")
    customers = [CustomerFactory(merchant=merchant, name=f"Customer {n}") for n in range(3)]
    answers = []
    for person in customers:
        client = bearer(api_client, person)
        answers += [client.get("/api/portal/payments/").status_code for _ in range(2)]

    assert answers == [200, 200, 200, 200, 200, 429]


def test_a_refused_report_of_another_customers_plan_moves_no_money(api_client, customer, neighbour, owner, today):
    theirs = plan_make(actor=owner, customer=neighbour)
    paid = theirs.amount_paid

    response = bearer(api_client, customer).post(
        "/api/portal/payments/",
        {"plan": str(theirs.pk), "amount": "10.00", "payment_date": "2026-02-20"},
        format="json",
    )

    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.amount_paid == paid == Decimal("200.00")
