"""The borrower API's tokens: simplejwt's, with types of their own (``portal_access``, ``portal_refresh``).

simplejwt checks a token's type when it reads one, so the staff API (whose tokens are ``access`` and
``refresh``) refuses these, and the borrower API refuses the staff's. The claims name the customer, their
merchant and their portal epoch (a revocation raises it, ending every token issued before).
"""

from __future__ import annotations

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from customers.models import Customer

CUSTOMER_CLAIM = "customer_id"
MERCHANT_CLAIM = "merchant_id"
EPOCH_CLAIM = "portal_epoch"


class PortalAccessToken(AccessToken):
    token_type = "portal_access"  # noqa: S105 - a token type, not a secret
    lifetime = api_settings.ACCESS_TOKEN_LIFETIME


class PortalRefreshToken(RefreshToken):
    token_type = "portal_refresh"  # noqa: S105 - a token type, not a secret
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME
    access_token_class = PortalAccessToken

    @classmethod
    def for_customer(cls, customer: Customer) -> PortalRefreshToken:
        """A refresh token for ``customer`` (recorded as outstanding, so that rotation can blacklist it)."""
        token = cls()
        token[CUSTOMER_CLAIM] = str(customer.pk)
        token[MERCHANT_CLAIM] = str(customer.merchant_id)
        token[EPOCH_CLAIM] = customer.portal_epoch
        token.outstand()
        return token


def portal_tokens_for(customer: Customer) -> dict[str, str]:
    """``{"access", "refresh"}`` for ``customer``."""
    refresh = PortalRefreshToken.for_customer(customer)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}
