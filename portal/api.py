"""The borrower API (/api/portal/): what every endpoint shares (``PortalAPIMixin``), and its log-in endpoints.

Every endpoint but the log-in ones needs a customer's ``portal_access`` token (portal/authentication.py); no
staff credential is accepted here. Limits apply per customer and per address, stricter on the log-in endpoints.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from customers.portal_links import portal_link_resolve
from portal.auth import customer_audit_values
from portal.authentication import CustomerJWTAuthentication, PortalPrincipal, customer_for_claims
from portal.serializers import (
    PortalLinkLoginSerializer,
    PortalMeSerializer,
    PortalRefreshSerializer,
    PortalTokenPairSerializer,
)
from portal.services import portal_customer_language_set
from portal.tokens import PortalRefreshToken, portal_tokens_for
from taqsit import audit
from taqsit.api import SettingsRateThrottle

TAG = "portal"


class IsPortalCustomer(permissions.BasePermission):
    """A customer logged in to the portal (a ``PortalPrincipal``), never a member of staff."""

    message = _lazy("Log in to the portal with a code or your personal link.")

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, PortalPrincipal)


class PortalCustomerThrottle(SettingsRateThrottle):
    """Requests per customer."""

    scope = "portal_customer"

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if not isinstance(user, PortalPrincipal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.customer.pk}


class PortalIPThrottle(SettingsRateThrottle):
    """Requests per client address."""

    scope = "portal_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PortalAuthIPThrottle(PortalIPThrottle):
    """Log-in attempts (codes, tokens, links, registrations, refreshes) per client address."""

    scope = "portal_auth_ip"


class PortalAuthDestinationThrottle(SettingsRateThrottle):
    """Log-in attempts per phone or e-mail address, whatever address they come from."""

    scope = "portal_auth_destination"

    def get_cache_key(self, request, view) -> str | None:
        data = getattr(request, "data", None)
        if not isinstance(data, Mapping):
            return None
        destination = str(data.get("phone") or data.get("email") or "").strip().lower()
        if not destination:
            return None
        ident = hashlib.sha256(destination.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PortalAPIMixin:
    """The base of every borrower-API view: the customer's token only, the limits, and the audit context
    (source ``portal``, the customer as the actor, their merchant) around whatever the view writes.

    ``self.customer`` is the logged-in customer; ``get_serializer_context`` gives their merchant's currency."""

    authentication_classes = [CustomerJWTAuthentication]
    permission_classes = [IsPortalCustomer]
    throttle_classes = [PortalCustomerThrottle, PortalIPThrottle]

    @property
    def customer(self):
        user = getattr(self.request, "user", None)
        return user.customer if isinstance(user, PortalPrincipal) else None

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if isinstance(request.user, PortalPrincipal):
            self._portal_audit = contextlib.ExitStack()
            self._portal_audit.enter_context(audit.context(**customer_audit_values(request.user.customer)))

    def finalize_response(self, request, response, *args, **kwargs):
        scope = getattr(self, "_portal_audit", None)
        if scope is not None:
            self._portal_audit = None
            scope.close()
        return super().finalize_response(request, response, *args, **kwargs)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context() if hasattr(super(), "get_serializer_context") else {}
        customer = self.customer
        if customer is not None:
            context["currency"] = customer.merchant.currency
        return context


class PortalAPIView(PortalAPIMixin, APIView):
    """An APIView of the borrower API."""


class PortalAuthAPIView(PortalAPIView):
    """A log-in endpoint: open to anyone, with the stricter limits."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [PortalAuthIPThrottle, PortalAuthDestinationThrottle]


class PortalLinkTokenView(PortalAuthAPIView):
    """Exchange a portal link's token (the part after /portal/l/) for an access and a refresh token."""

    @extend_schema(
        tags=[TAG],
        request=PortalLinkLoginSerializer,
        responses={200: PortalTokenPairSerializer, 400: OpenApiResponse(description="Expired or not valid")},
    )
    def post(self, request):
        serializer = PortalLinkLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = portal_link_resolve(serializer.validated_data["token"])
        if link is None:
            raise ValidationError({"token": [_("This link has expired or is not valid: ask the shop for a new one.")]})
        return Response(portal_tokens_for(link.customer))


class PortalTokenRefreshView(PortalAuthAPIView):
    """A new access token and a new refresh token (the one sent is blacklisted: rotation)."""

    @extend_schema(
        tags=[TAG],
        request=PortalRefreshSerializer,
        responses={200: PortalTokenPairSerializer, 401: OpenApiResponse(description="Expired, revoked or used")},
    )
    def post(self, request):
        serializer = PortalRefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refused = Response(
            {"detail": _("This refresh token has expired or was already used: log in again.")},
            status=status.HTTP_401_UNAUTHORIZED,
        )
        try:
            refresh = PortalRefreshToken(serializer.validated_data["refresh"])
        except TokenError:
            return refused
        customer = customer_for_claims(refresh)
        if customer is None:
            return refused
        refresh.blacklist()
        return Response(portal_tokens_for(customer))


class PortalMeView(PortalAPIView):
    """The logged-in customer and their shop; the customer may change their language."""

    @extend_schema(tags=[TAG], responses=PortalMeSerializer)
    def get(self, request):
        return Response(PortalMeSerializer(self.customer).data)

    @extend_schema(tags=[TAG], request=PortalMeSerializer, responses=PortalMeSerializer)
    def patch(self, request):
        serializer = PortalMeSerializer(self.customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = portal_customer_language_set(customer=self.customer, **serializer.validated_data)
        return Response(PortalMeSerializer(customer).data)
