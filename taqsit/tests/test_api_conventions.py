"""Conventions every endpoint shares: JSON errors under /api/, strict pagination parameters, OpenAPI errors."""

import pytest
import yaml

from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_client, viewer):
    api_client.force_authenticate(viewer)
    return api_client


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/customers/not.an.id/",
        "/api/installments/plans/status/Active/",
        "/api/installments/plans/status/%C2%A1/",
        "/api/no-such-thing/",
        "/api/customers/6f1c1b5e-3c1e-4d43-9d6b-0f6a3c0b9f11/nested/deeper/",
    ],
)
def test_an_address_no_route_matches_is_a_json_404(client, path, method):
    response = getattr(client, method)(path)

    assert (response.status_code, response["Content-Type"], response.json()) == (
        404,
        "application/json",
        {"detail": "Not found."},
    )


def test_an_address_without_its_trailing_slash_answers_as_the_slashed_one(client):
    CustomerFactory(merchant=client.handler._force_user.merchant, name="Omar Farouk")

    response = client.get("/api/customers")

    assert (response.status_code, [row["name"] for row in response.json()["results"]]) == (200, ["Omar Farouk"])


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("page_size=ten", {"page_size": ["A valid integer is required."]}),
        ("page_size=null", {"page_size": ["A valid integer is required."]}),
        ("page_size=2.5", {"page_size": ["A valid integer is required."]}),
        ("page_size=0", {"page_size": ["Ensure this value is greater than or equal to 1."]}),
        ("page_size=-3", {"page_size": ["Ensure this value is greater than or equal to 1."]}),
        ("page_size=2&page_size=3", {"page_size": ["Give one page size."]}),
    ],
)
def test_a_bad_page_size_is_a_400_naming_it(client, query, errors):
    response = client.get(f"/api/customers/?{query}")

    assert (response.status_code, response.json()) == (400, errors)


def test_page_size_is_capped_at_200(client, merchant):
    CustomerFactory.create_batch(201, merchant=merchant)

    body = client.get("/api/customers/?page_size=500").json()

    assert (body["count"], len(body["results"]), body["next"]) == (
        201,
        200,
        "http://testserver/api/customers/?page=2&page_size=500",
    )


@pytest.mark.parametrize("query", ["page=2", "page=abc", "page=", "page=1&page=1"])
def test_a_page_that_is_not_there_is_a_404(client, customer, query):
    response = client.get(f"/api/customers/?{query}")

    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


@pytest.fixture
def schema(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_documents_the_errors_of_every_operation(schema):
    operations = [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    public = {"/api/auth/register/", "/api/auth/token/", "/api/auth/token/refresh/"}

    for method, path, operation in operations:
        codes = set(operation["responses"])
        expected = {"400", "401", "429"}
        # The borrower API's log-in endpoints are open to anyone, as the staff's are.
        expected |= set() if path in public or path.startswith("/api/portal/auth/") else {"403"}
        expected |= {"404"} if "{" in path else set()
        expected |= {"409", "415"} if method in {"POST", "PUT", "PATCH"} else set()
        assert expected <= codes, f"{method} {path}: {sorted(codes)}"
        for code in expected:
            assert "application/json" in operation["responses"][code]["content"], f"{method} {path} {code}"


def test_the_schema_documents_idempotency_and_the_register_answer(schema):
    plan_create = schema["paths"]["/api/installments/plans/"]["post"]
    payment_create = schema["paths"]["/api/installments/payments/"]["post"]
    register = schema["paths"]["/api/auth/register/"]["post"]["responses"]["201"]["content"]["application/json"]

    for operation in (plan_create, payment_create):
        assert [parameter["name"] for parameter in operation["parameters"]] == ["Idempotency-Key"]
        assert "422" in operation["responses"]
    assert register["schema"] == {"$ref": "#/components/schemas/RegisterResponse"}
    assert schema["components"]["schemas"]["RegisterResponse"]["required"] == ["access", "refresh", "user"]


@pytest.mark.parametrize("path", ["/api/customers/", "/api/installments/payments/", "/api/users/"])
def test_a_search_term_with_a_null_character_is_a_400_naming_search(api_client, owner, path):
    api_client.force_authenticate(owner)

    response = api_client.get(f"{path}?search=a%00b")

    assert (response.status_code, response.json()) == (400, {"search": ["Null characters are not allowed."]})


@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/auth/register/", "/api/auth/token/refresh/"])
def test_a_body_that_is_not_an_object_is_a_400_on_the_public_endpoints(api_client, owner, path):
    response = api_client.post(path, [True], format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    )
