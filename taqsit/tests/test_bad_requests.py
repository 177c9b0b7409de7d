"""What a stranger can send without a 500: an overlong username, JSON nested a thousand deep, a NUL in a
search, a body of 10 MB. Each is the API's JSON 400 (or the page's form error) and nothing is logged at ERROR."""

import json
import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from taqsit.request_limits import JSON_MAX_DEPTH, json_depth
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db

LONG_USERNAME = "a" * 300
TOO_BIG = "The request body is {length} bytes; the most this server takes is {limit} bytes."


@pytest.fixture
def errors_logged(caplog):
    """The records logged at ERROR or above while the test ran (there must be none)."""
    caplog.set_level(logging.WARNING)
    return lambda: [f"{record.name}: {record.getMessage()}" for record in caplog.records if record.levelno >= 40]


def deep_json(depth: int, *, kind: str = "array") -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def test_an_overlong_username_on_the_token_endpoint_is_a_400_naming_it(api_client, errors_logged):
    response = api_client.post("/api/auth/token/", {"username": LONG_USERNAME, "password": "x"}, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"username": ["Ensure this field has no more than 150 characters."]},
    )
    assert errors_logged() == []


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_overlong_username_on_a_log_in_page_is_a_form_error(client, url, errors_logged):
    response = client.post(url, {"username": LONG_USERNAME, "password": "x"})

    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters (it has 300)." in html(response)
    assert "_auth_user_id" not in client.session
    assert errors_logged() == []


def test_the_lockout_counts_an_overlong_username_cut_to_its_column(db, errors_logged):
    """Any other path to authenticate() (a future form) still records the failure instead of failing."""
    request = RequestFactory().post("/accounts/login/", {"username": LONG_USERNAME, "password": "x"})

    user = authenticate(request, username=LONG_USERNAME, password="x")

    assert user is None
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [("a" * 255, 1)]
    assert errors_logged() == []


@pytest.mark.parametrize("url", ["/api/auth/register/", "/api/auth/token/", "/api/auth/token/refresh/"])
@pytest.mark.parametrize("kind", ["array", "object"])
def test_json_nested_1100_deep_is_a_400_on_the_anonymous_endpoints(api_client, url, kind, errors_logged):
    response = api_client.post(url, deep_json(1100, kind=kind), content_type="application/json")

    assert (response.status_code, response["Content-Type"], response.json()) == (
        400,
        "application/json",
        {"detail": "The JSON body nests arrays and objects 1100 levels deep; the most allowed is 32."},
    )
    assert errors_logged() == []


def test_json_nested_too_deep_is_a_400_on_a_signed_in_write(api_client, clerk, customer, errors_logged):
    api_client.force_authenticate(clerk)
    body = json.dumps({"customer": str(customer.pk), "items": json.loads(deep_json(40))})

    response = api_client.post("/api/installments/plans/", body, content_type="application/json")

    assert (response.status_code, response.json()) == (
        400,
        {"detail": "The JSON body nests arrays and objects 41 levels deep; the most allowed is 32."},
    )
    assert errors_logged() == []


def test_json_as_deep_as_allowed_still_reaches_the_view(api_client, errors_logged):
    body = deep_json(JSON_MAX_DEPTH - 1, kind="object")

    response = api_client.post("/api/auth/register/", f'{{"merchant_name": {body}}}', content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["merchant_name", "username", "email", "password"]
    assert errors_logged() == []


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("12", 0),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"note": "[[[[{{{{"}', 1),
        ('{"note": "a \\" [[[ quoted"}', 1),
        ("[[[", 3),
        ("]]][", 0),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_a_10_mb_body_is_the_apis_json_400(api_client, errors_logged):
    body = json.dumps({"username": "x" * (10 * 1024 * 1024), "password": "x"})

    response = api_client.post("/api/auth/token/", body, content_type="application/json")

    assert (response.status_code, response["Content-Type"], response.json()) == (
        400,
        "application/json",
        {"detail": TOO_BIG.format(length=len(body), limit=2621440)},
    )
    assert errors_logged() == []


def test_a_10_mb_form_on_a_page_is_a_plain_400(client, errors_logged):
    response = client.post(reverse("login"), {"username": "x" * (10 * 1024 * 1024), "password": "x"})

    assert (response.status_code, response["Content-Type"]) == (400, "text/plain; charset=utf-8")
    # A multipart form may also carry a file as large as a proof of payment (5 MB) beyond Django's 2.5 MB.
    length = int(response.wsgi_request.META["CONTENT_LENGTH"])
    assert response.content.decode() == TOO_BIG.format(length=length, limit=2621440 + 5242880)
    assert errors_logged() == []


def test_a_nul_in_the_customer_picker_is_its_error(client, settings, clerk, merchant, errors_logged):
    CustomerFactory(merchant=merchant, name="Omar Farouk")
    client = signed_in(client, settings, clerk)

    refused = client.get("/customers/picker/?q=%00")
    found = client.get("/customers/picker/?q=omar")

    assert refused.status_code == 200
    assert "Null characters are not allowed." in html(refused)
    assert "Omar Farouk" not in html(refused)
    assert "Omar Farouk" in html(found)
    assert errors_logged() == []


def test_a_nul_in_the_customer_search_is_its_error_not_every_customer(client, settings, clerk, merchant, errors_logged):
    CustomerFactory(merchant=merchant, name="Omar Farouk")
    client = signed_in(client, settings, clerk)

    response = client.get("/customers/?q=om%00ar", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "Null characters are not allowed." in html(response)
    assert "Omar Farouk" not in html(response)
    assert errors_logged() == []


def test_a_nul_in_the_collections_search_is_its_error(client, settings, clerk, errors_logged):
    response = signed_in(client, settings, clerk).get("/plans/collections/?q=%00")

    assert response.status_code == 200
    assert "Null characters are not allowed." in html(response)
    assert errors_logged() == []


@pytest.mark.parametrize("url", ["/api/customers/", "/api/installments/plans/", "/api/installments/payments/"])
def test_a_nul_in_an_api_search_is_a_400_naming_it(api_client, clerk, url, errors_logged):
    api_client.force_authenticate(clerk)

    response = api_client.get(f"{url}?search=%00")

    assert (response.status_code, response.json()) == (400, {"search": ["Null characters are not allowed."]})
    assert errors_logged() == []


def test_a_nul_in_the_admin_search_is_its_error(client, settings, superuser, errors_logged):
    response = signed_in(client, settings, superuser).get("/admin/customers/customer/?q=%00")

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    assert errors_logged() == []


FIELDS = "&".join(f"f{number}=1" for number in range(1100))
TOO_MANY = "The request sends more fields than the 1000 this server takes."


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", f"/api/customers/?{FIELDS}"), ("post", "/api/customers/"), ("patch", "/api/merchant/")],
)
def test_too_many_fields_is_the_apis_json_400(api_client, owner, method, url, errors_logged):
    api_client.force_authenticate(owner)
    form = {} if method == "get" else {"data": FIELDS, "content_type": "application/x-www-form-urlencoded"}

    response = getattr(api_client, method)(url, **form)

    assert (response.status_code, response["Content-Type"], response.json()) == (
        400,
        "application/json",
        {"detail": TOO_MANY},
    )
    assert errors_logged() == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_too_many_fields_on_a_page_is_a_plain_400(client, method, errors_logged):
    url = reverse("login")
    if method == "get":
        response = client.get(f"{url}?{FIELDS}")
    else:
        response = client.post(url, FIELDS, content_type="application/x-www-form-urlencoded")

    assert (response.status_code, response.content.decode()) == (400, TOO_MANY)
    assert errors_logged() == []
