"""Helpers for the borrower API's tests: a client carrying a customer's portal token."""

from __future__ import annotations

from portal.tokens import portal_tokens_for


def bearer(api_client, customer):
    """``api_client`` sending ``customer``'s portal access token (as a link or a code log-in gives it)."""
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {portal_tokens_for(customer)['access']}")
    return api_client
