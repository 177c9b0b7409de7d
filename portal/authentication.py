"""The borrower API's authentication: a ``portal_access`` bearer token, and nothing else.

A staff token (type ``access``), a staff session cookie or any other credential is refused here, as a portal
token is refused by the staff API (taqsit/authentication.py reads only ``access`` tokens).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

from customers.models import Customer
from customers.portal_links import portal_is_open
from portal.tokens import CUSTOMER_CLAIM, EPOCH_CLAIM, MERCHANT_CLAIM, PortalAccessToken
from taqsit.tenancy import request_merchant_set


@dataclass
class PortalPrincipal:
    """``request.user`` on the borrower API: the customer, not a Django user (no ``pk``, no role, no staff)."""

    customer: Customer
    merchant_id: object = field(init=False)
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False
    is_superuser: bool = False
    is_staff: bool = False
    pk: None = None
    id: None = None
    # No staff role: the role table (taqsit.permissions.user_can) allows a customer nothing of the staff's.
    role: None = None

    def __post_init__(self) -> None:
        self.merchant_id = self.customer.merchant_id

    @property
    def merchant(self):
        return self.customer.merchant

    def __str__(self) -> str:
        return self.customer.name


def customer_for_claims(claims) -> Customer | None:
    """The customer a portal token names, if the token still stands: same merchant, same portal epoch (not
    revoked since), the merchant active with its portal on."""
    customer = None
    with contextlib.suppress(ValueError, TypeError, Customer.DoesNotExist):
        customer = Customer.objects.select_related("merchant").get(
            pk=claims.get(CUSTOMER_CLAIM), merchant_id=claims.get(MERCHANT_CLAIM)
        )
    if customer is None or customer.portal_epoch != claims.get(EPOCH_CLAIM) or not portal_is_open(customer.merchant):
        return None
    return customer


class CustomerJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "portal"

    def get_validated_token(self, raw_token: bytes) -> PortalAccessToken:
        try:
            return PortalAccessToken(raw_token)
        except TokenError as exc:
            raise InvalidToken(
                {"detail": _("This token is not a customer's portal token, or it has expired.")}
            ) from exc

    def authenticate(self, request):
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        # The token (signed by us) names the customer's merchant: the request runs for it from here on, the
        # customer's own row included (row-level security, taqsit/tenancy.py).
        request_merchant_set(request, validated_token.get(MERCHANT_CLAIM))
        return self.get_user(validated_token), validated_token

    def get_user(self, validated_token) -> PortalPrincipal:
        customer = customer_for_claims(validated_token)
        if customer is None:
            raise AuthenticationFailed(
                _("This portal session has ended: log in again with a code or a new link."), code="portal_ended"
            )
        return PortalPrincipal(customer=customer)


class CustomerJWTScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of the borrower API: a bearer JWT of type ``portal_access``."""

    target_class = "portal.authentication.CustomerJWTAuthentication"
    name = "portalJwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A customer's portal token (POST /api/portal/auth/token/ or /api/portal/auth/link/).",
        }
