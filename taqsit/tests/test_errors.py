"""A database out of reach answers 503 with Retry-After, in the API and on the pages, wherever the error is
raised (a view, DRF's authentication, a middleware); any other error is still Django's 500 page.

The outage is simulated by making one function raise what Django raises then (OperationalError); the real thing,
PostgreSQL stopped and started under load, is tests/resilience/test_postgres_restart.py.
"""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

pytestmark = pytest.mark.django_db

API_DETAIL = {"detail": "The database is unavailable; try again in a moment."}


def _raise(exc: Exception):
    def fail(*args, **kwargs):
        raise exc

    return fail


@pytest.fixture
def browser(clerk) -> Client:
    """A logged-in clerk's browser that sees the error pages, as a real one does (no exception re-raised)."""
    client = Client(raise_request_exception=False)
    client.force_login(clerk)
    return client


@pytest.mark.parametrize("error", [OperationalError("connection refused"), InterfaceError("connection already closed")])
def test_the_api_answers_503_with_retry_after_when_the_database_is_unavailable(api_client, clerk, monkeypatch, error):
    monkeypatch.setattr("payments.api.payment_list", _raise(error))
    api_client.force_authenticate(clerk)

    response = api_client.get("/api/installments/payments/")

    assert (response.status_code, response["Retry-After"], response.json()) == (503, "5", API_DETAIL)


def test_the_api_answers_503_when_the_database_fails_in_authentication(clerk, monkeypatch):
    monkeypatch.setattr(
        "rest_framework_simplejwt.authentication.JWTAuthentication.get_user", _raise(OperationalError("the database"))
    )
    client = Client(raise_request_exception=False)
    token = RefreshToken.for_user(clerk).access_token

    response = client.get("/api/installments/payments/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert (response.status_code, response["Retry-After"], response.json()) == (503, "5", API_DETAIL)


def test_a_page_answers_a_503_page_when_the_database_fails_in_the_view(browser, monkeypatch):
    monkeypatch.setattr("payments.views.merchant_stats", _raise(OperationalError("server closed the connection")))

    response = browser.get("/")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response["Content-Type"].startswith("text/html")
    assert "The database cannot be reached. Nothing was saved" in response.content.decode()


def test_a_page_answers_a_503_page_when_the_database_fails_in_a_middleware(browser, monkeypatch):
    # The audit middleware reads the session's user before any view runs.
    monkeypatch.setattr("taqsit.audit.actor_values", _raise(OperationalError("the database system is starting up")))

    response = browser.get("/plans/")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert "Taqsit is unavailable for a moment" in response.content.decode()


def test_any_other_error_is_still_a_500(browser, monkeypatch):
    monkeypatch.setattr("payments.views.merchant_stats", _raise(RuntimeError("a bug")))

    response = browser.get("/")

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong" in response.content.decode()
