"""How the API reads a body: amounts strictly, every field one the endpoint takes, every address with or without
its trailing slash (issue 11, items 9, 12 and 13)."""

import re
import uuid
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.renderers import HTMLFormRenderer
from rest_framework.test import APIClient

from imports.models import ImportJob
from installments.models import InstallmentPlan, Product
from installments.serializers import ProductSerializer
from installments.tests.factories import ProductFactory, plan_make
from installments.tests.test_api import terms
from notifications.models import Notification
from notifications.tests.test_api import _notification
from payments.models import Payment
from portal.tokens import portal_tokens_for
from taqsit import api_urls
from taqsit.api import api_fallback
from taqsit.models import Merchant
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import secret_generate

pytestmark = pytest.mark.django_db

PLANS = "/api/installments/plans/"
DECIMAL = "Enter a decimal number such as 1200.50, without exponent, spaces or separators."
WHOLE = "Enter a whole number such as 12."


@pytest.fixture
def client(api_client, owner, today):
    api_client.force_authenticate(owner)
    return api_client


# Item 9: amounts are read strictly --------------------------------------------------------------------------

NOT_PLAIN_DECIMALS = ["1e2", "1E-2", "1_000", " 12", "12 ", "+12", "١٢", "NaN", "Infinity", "-Infinity", "12.", ".5"]
NOT_PLAIN_DECIMALS += ["1,200.50", "0x10", True, [12], {"amount": 12}, 1e-05]


@pytest.mark.parametrize("amount", NOT_PLAIN_DECIMALS, ids=repr)
def test_an_amount_not_written_plainly_is_a_400_naming_the_field(client, customer, row_counts, amount):
    before = row_counts()

    response = client.post(PLANS, terms(customer, total_amount=amount), format="json")

    assert (response.status_code, response.json()) == (400, {"total_amount": [DECIMAL]})
    assert row_counts() == before


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("1000.00", "1000.00"), ("1000", "1000.00"), (1000, "1000.00"), (1000.5, "1000.50"), ("0999.5", "999.50")],
    ids=repr,
)
def test_a_plain_decimal_string_or_json_number_is_taken(client, customer, amount, stored):
    response = client.post(PLANS, terms(customer, total_amount=amount), format="json")

    assert (response.status_code, response.json()["total_amount"]) == (201, stored)


@pytest.mark.parametrize("count", ["1_0", "+4", " 4", "٤", "4.0", 4.5, "4e0", True], ids=repr)
def test_a_count_not_written_plainly_is_a_400_naming_the_field(client, customer, row_counts, count):
    before = row_counts()

    response = client.post(PLANS, terms(customer, number_of_installments=count), format="json")

    assert (response.status_code, response.json()) == (400, {"number_of_installments": [WHOLE]})
    assert row_counts() == before


@pytest.mark.parametrize(
    ("url", "body", "errors"),
    [
        (PLANS, {"down_payment": "2e2"}, {"down_payment": [DECIMAL]}),
        (PLANS, {"installment_amount": "2e2", "number_of_installments": None}, {"installment_amount": [DECIMAL]}),
        (
            PLANS,
            {"finance_charge_method": "flat", "interest_rate": "1e1"},
            {"interest_rate": [DECIMAL]},
        ),
        (
            PLANS,
            {"total_amount": None, "items": [{"description": "Fridge", "quantity": "1_0", "unit_price": "5e2"}]},
            {"items": {"0": {"quantity": [WHOLE], "unit_price": [DECIMAL]}}},
        ),
        (f"{PLANS}preview/", {"total_amount": "1_000"}, {"total_amount": [DECIMAL]}),
        ("/api/products/", {"name": "Fridge", "price": "5e2"}, {"price": [DECIMAL]}),
        ("/api/installments/payments/", {"amount": "2e2"}, {"amount": [DECIMAL]}),
    ],
)
def test_every_amount_of_every_write_is_read_strictly(client, customer, url, body, errors):
    plan = plan_make(actor=client.handler._force_user, customer=customer)
    if url.startswith(PLANS):
        body = {key: value for key, value in {**terms(customer), **body}.items() if value is not None}
        if url.endswith("preview/"):
            del body["customer"]
    elif "payments" in url:
        body = {"plan": str(plan.pk), "payment_date": "2026-02-15", **body}

    response = client.post(url, body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert (InstallmentPlan.objects.count(), Product.objects.count(), Payment.objects.count()) == (1, 0, 1)


@pytest.mark.parametrize(
    ("field", "value", "errors"),
    [
        ("late_fee_amount", "1e1", {"late_fee_amount": [DECIMAL]}),
        ("late_fee_percent", "١", {"late_fee_percent": [DECIMAL]}),
        ("late_fee_cap", "NaN", {"late_fee_cap": [DECIMAL]}),
        ("grace_days", "1_0", {"grace_days": [WHOLE]}),
    ],
)
def test_the_merchants_fee_amounts_are_read_strictly(client, merchant, field, value, errors):
    before = Merchant.objects.values().get(pk=merchant.pk)

    response = client.patch("/api/merchant/", {field: value}, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert Merchant.objects.values().get(pk=merchant.pk) == before


# Item 13: every body field is one the endpoint takes ----------------------------------------------------------


def test_a_camel_case_down_payment_is_refused_not_ignored(client, customer, row_counts):
    before = row_counts()
    body = terms(customer)
    del body["down_payment"]

    response = client.post(PLANS, {**body, "downPayment": "200.00"}, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"downPayment": ["Unknown field. Did you mean down_payment?"]},
    )
    assert row_counts() == before


def test_each_unknown_field_is_named_with_the_other_errors(client, customer):
    body = {**terms(customer), "totalAmount": "1.00", "totl_amount": "2.00", "colour": "red"}
    body["installment_frequency"] = "yearly"

    response = client.post(PLANS, body, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {
            "installment_frequency": ['"yearly" is not a valid choice.'],
            "totalAmount": ["Unknown field. Did you mean total_amount?"],
            "totl_amount": ["Unknown field. Did you mean total_amount?"],
            "colour": ["Unknown field."],
        },
    )


def test_an_items_unknown_field_is_named_in_its_row(client, customer):
    items = [{"description": "Fridge", "unit_price": "600.00"}, {"description": "Oven", "unitPrice": "400.00"}]

    response = client.post(PLANS, {**terms(customer), "items": items}, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"items": {"1": {"unitPrice": ["Unknown field. Did you mean unit_price?"]}}},
    )


@pytest.mark.parametrize(
    ("url", "body", "errors"),
    [
        (
            "/api/products/",
            {"name": "Fridge", "price": "500.00", "id": str(uuid.uuid4())},
            {"id": ["This field is read-only."]},
        ),
        (
            "/api/products/",
            {"name": "Fridge", "price": "500.00", "created_at": "2026-01-01T00:00:00Z"},
            {"created_at": ["This field is read-only."]},
        ),
        (
            "/api/customers/",
            {"name": "Omar", "phone": "+14155550100", "reference": "x"},
            # The nearest writable name is offered (difflib's cutoff): the customer's preferred_channel.
            {"reference": ["Unknown field. Did you mean preferred_channel?"]},
        ),
        (
            "/api/auth/token/",
            {"user": "owner", "password": "x"},
            {"username": ["This field is required."], "user": ["Unknown field. Did you mean username?"]},
        ),
        (
            "/api/auth/token/refresh/",
            {"refresh": "x", "access": "y"},
            {"access": ["This field is read-only."]},
        ),
    ],
)
def test_read_only_and_unknown_fields_are_refused_everywhere(client, url, body, errors):
    response = client.post(url, body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    assert Product.objects.count() == 0


def test_register_names_a_camel_case_field(api_client):
    body = {"merchantName": "Shop", "username": "newowner", "email": "o@example.com", "password": "Xy-Long-Pass-1"}

    response = api_client.post("/api/auth/register/", body, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"merchant_name": ["This field is required."], "merchantName": ["Unknown field. Did you mean merchant_name?"]},
    )
    assert Merchant.objects.count() == 0


def test_a_form_post_still_works_for_the_fields_that_exist(api_client, clerk):
    """Multipart, as the browsable API's form sends it (with its CSRF token)."""
    api_client.force_login(clerk)

    created = api_client.post(
        "/api/products/", {"name": "Fridge", "price": "500.00", "csrfmiddlewaretoken": "x"}, format="multipart"
    )
    refused = api_client.post("/api/products/", {"name": "Oven", "prize": "5"}, format="multipart")

    assert (created.status_code, created.json()["price"]) == (201, "500.00")
    assert (refused.status_code, refused.json()) == (
        400,
        {"price": ["This field is required."], "prize": ["Unknown field. Did you mean price?"]},
    )
    assert list(Product.objects.values_list("name", flat=True)) == ["Fridge"]


def test_the_browsable_apis_form_still_renders_the_strict_serializers():
    """The browsable API's HTML form is DRF's form renderer over the serializer (whether the browsable API is on
    outside DEBUG is another item of issue 11)."""
    form = HTMLFormRenderer().render(ProductSerializer().data)

    assert [name for name in ("name", "sku", "price", "is_active") if f'name="{name}"' in form] == [
        "name",
        "sku",
        "price",
        "is_active",
    ]
    assert 'name="id"' not in form


def _schema_writes() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch") and not path.endswith(".pdf")
    ]


def test_every_write_endpoint_refuses_an_unknown_field(client, owner, clerk, customer, today):
    """Every POST, PUT and PATCH in the schema, with a real object for each id: the unknown field is named."""
    endpoint = WebhookEndpoint.objects.create(
        merchant=owner.merchant,
        url="https://hooks.example.com/taqsit",
        events=["plan.created"],
        secret=secret_generate(),
    )
    plan = plan_make(actor=owner, customer=customer)
    job = ImportJob.objects.create(
        merchant=owner.merchant,
        kind=ImportJob.Kind.CUSTOMERS,
        file_format=ImportJob.Format.CSV,
        file="imports/checked.csv",
        size=1,
        sha256="0" * 64,
        language="en",
        created_by=owner,
        status=ImportJob.Status.READY,
    )
    ids = {
        # Deliveries before endpoints: the longer prefix first.
        "/api/webhooks/deliveries/": WebhookDelivery.objects.get(endpoint=endpoint).pk,
        "/api/webhooks/": endpoint.pk,
        "/api/imports/": job.pk,
        "/api/users/": clerk.pk,
        "/api/customers/": customer.pk,
        "/api/products/": ProductFactory(merchant=owner.merchant).pk,
        "/api/installments/plans/": plan.pk,
        "/api/installments/payments/": Payment.objects.get(plan=plan).pk,
        "/api/notifications/": _notification(owner, day=today, subject="Today").pk,
    }
    # The borrower API (/api/portal/) is called with a customer's token.
    Merchant.objects.filter(pk=customer.merchant_id).update(portal_enabled=True)
    customer.refresh_from_db()
    portal = APIClient()
    portal.credentials(HTTP_AUTHORIZATION=f"Bearer {portal_tokens_for(customer)['access']}")
    ids["/api/portal/notifications/"] = Notification.objects.create(
        merchant=customer.merchant,
        customer=customer,
        channel=Notification.Channel.SMS,
        kind=Notification.Kind.REMINDER_UPCOMING,
        day=today,
        status=Notification.Status.SENT,
        send_after=timezone.now(),
        sent_at=timezone.now(),
    ).pk
    writes = _schema_writes()
    answers = {}
    for path, method in writes:
        prefix = next(prefix for prefix in ids if path.startswith(prefix)) if "{" in path else ""
        url = re.sub(r"\{[^}]+\}", str(ids.get(prefix, "")), path)
        caller = portal if path.startswith("/api/portal/") else client
        response = getattr(caller, method)(url, {"zz_unknown": 1}, format="json")
        answers[f"{method.upper()} {path}"] = (response.status_code, response.json().get("zz_unknown"))

    assert len(writes) >= 20
    assert {operation: answer for operation, answer in answers.items() if answer != (400, ["Unknown field."])} == {}


# Item 12: every address with or without its trailing slash -------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_a_post_without_the_trailing_slash_creates_the_plan(client, customer, settings, debug):
    settings.DEBUG = debug  # Django's redirect of a POST is a 500 under DEBUG

    response = client.post(PLANS.rstrip("/"), terms(customer), format="json")

    assert (response.status_code, response.json()["total_amount"]) == (201, "1000.00")
    assert InstallmentPlan.objects.filter(customer=customer).count() == 1


def _api_routes(patterns, prefix: str = "") -> list[str]:
    """Every route of the API's URL configuration as a path with sample values, the trailing slash kept."""
    routes = []
    for pattern in patterns:
        regex = prefix + pattern.pattern.regex.pattern.lstrip("^")
        if isinstance(pattern, URLResolver):
            routes += _api_routes(pattern.url_patterns, regex.rstrip("$"))
        elif isinstance(pattern, URLPattern) and pattern.callback is not api_fallback and "format" not in regex:
            route = re.sub(r"\(\?P<plan_status>[^)]*\)", "active", regex.rstrip("$").replace("\\Z", ""))
            route = re.sub(r"\(\?P<\w+>[^)]*\)", str(uuid.uuid4()), route)
            routes.append("/api/" + route.replace("\\", ""))
    return routes


def test_every_api_route_answers_with_and_without_its_trailing_slash(client):
    routes = _api_routes(api_urls.urlpatterns)
    answers = {}
    for route in routes:
        slashed = client.options(route)
        bare = client.options(route.rstrip("/"))
        answers[route] = (slashed.status_code, bare.status_code, bare.content == slashed.content)

    assert len(routes) >= 30
    assert all(route.endswith("/") for route in routes)
    # The borrower API refuses a staff member's request (401 for a staff token, 403 for the test's forced user),
    # the same with or without the slash.
    portal_refused = ((401, 401, True), (403, 403, True))
    assert {
        route: answer
        for route, answer in answers.items()
        if answer not in ((200, 200, True), (405, 405, True))
        and not (route.startswith("/api/portal/") and answer in portal_refused)
    } == {}


def test_the_schema_documents_the_slashed_addresses_only():
    paths = list(SchemaGenerator().get_schema(request=None, public=True)["paths"])

    assert [path for path in paths if not path.endswith("/") and not path.endswith(".pdf")] == []
    assert "/api/installments/plans/" in paths


def test_an_unknown_address_without_its_slash_is_still_the_json_404(client):
    response = client.post("/api/installments/plan", {}, format="json")

    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_a_decimal_in_a_plan_body_is_still_a_decimal(client, customer):
    response = client.post(PLANS, terms(customer, down_payment="200.5"), format="json")

    assert response.status_code == 201
    assert InstallmentPlan.objects.get().down_payment == Decimal("200.50")


def test_the_refusals_speak_the_clients_language(client, customer):
    body = {**terms(customer, total_amount="1e3"), "downPayment": "1"}
    del body["down_payment"]

    response = client.post(PLANS, body, format="json", HTTP_ACCEPT_LANGUAGE="es")

    assert (response.status_code, response.json()) == (
        400,
        {
            "total_amount": ["Introduzca un número decimal como 1200.50, sin exponente, espacios ni separadores."],
            "downPayment": ["Campo desconocido. ¿Quiso decir down_payment?"],
        },
    )


def test_an_idempotency_key_replays_whichever_form_of_the_address_was_sent(client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    body = {"plan": str(plan.pk), "amount": "200.00", "payment_date": "2026-02-15"}
    url = "/api/installments/payments/"

    first = client.post(url.rstrip("/"), body, format="json", headers={"Idempotency-Key": "till-1"})
    again = client.post(url, body, format="json", headers={"Idempotency-Key": "till-1"})

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert Payment.objects.filter(plan=plan).count() == 2  # the down payment and this one
