"""Helpers for the page tests (test_views*.py): a signed-in test client and a few ready-made plans.

Plain functions, not fixtures, so every app's page tests can import them without touching the shared conftest.
"""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from installments.models import InstallmentPlan
from installments.tests.factories import plan_make
from taqsit.models import User


def signed_in(client: Client, settings, user: User | None) -> Client:
    """``client`` logged in as ``user`` (anonymous for None), over plain HTTP as in development."""
    # The suite runs with the production settings: no redirect to HTTPS for the test client.
    settings.SECURE_SSL_REDIRECT = False
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def plan_overdue(*, actor: User, customer, **overrides) -> InstallmentPlan:
    """``plan_make``'s plan (1000.00, 200.00 down, 4 x 200.00 monthly from 2026-01-15): with the ``today``
    fixture (2026-03-01) its first installment, due 2026-02-15, is 14 days overdue."""
    return plan_make(actor=actor, customer=customer, **overrides)


def html(response) -> str:
    return response.content.decode()


MONEY_200 = Decimal("200.00")
