"""Pages of a signed-in user and every API answer are neither stored by the browser nor by a shared cache."""

from __future__ import annotations

import pytest

from taqsit.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"


def test_a_signed_in_users_pages_are_private_and_not_stored(client, clerk, customer):
    client.force_login(clerk)

    for path in ("/", "/customers/", f"/customers/{customer.pk}/", "/plans/", "/accounts/password/change/"):
        response = client.get(path)
        assert (path, response.status_code, response["Cache-Control"]) == (path, 200, PRIVATE)


def test_api_answers_are_private_and_not_stored_signed_in_or_not(api_client, clerk):
    token = api_client.post("/api/auth/token/", {"username": "clerk", "password": TEST_PASSWORD}, format="json")
    assert (token.status_code, token["Cache-Control"]) == (200, PRIVATE)

    access = token.json()["access"]
    for path in ("/api/auth/me/", "/api/customers/", "/api/installments/plans/"):
        response = api_client.get(path, HTTP_AUTHORIZATION=f"Bearer {access}")
        assert (path, response.status_code, response["Cache-Control"]) == (path, 200, PRIVATE)
    refused = api_client.get("/api/customers/")
    assert (refused.status_code, refused["Cache-Control"]) == (401, PRIVATE)


def test_the_anonymous_log_in_page_and_the_probes_keep_their_headers(client, db):
    never_cache = "max-age=0, no-cache, no-store, must-revalidate, private"  # Django's own, unchanged
    login = client.get("/accounts/login/")
    assert (login.status_code, login["Cache-Control"]) == (200, never_cache)
    reset = client.get("/accounts/password/reset/")
    assert (reset.status_code, reset.has_header("Cache-Control")) == (200, False)
    health = client.get("/healthz")
    assert health["Cache-Control"] == never_cache
