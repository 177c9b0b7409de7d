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

from customers.portal_links import portal_is_open, portal_link_resolve
from portal.auth import customer_audit_values
from portal.authentication import CustomerJWTAuthentication, PortalPrincipal, customer_for_claims
from portal.serializers import (
    PortalCodeRequestSerializer,
    PortalCodeTokenSerializer,
    PortalDetailSerializer,
    PortalLinkLoginSerializer,
    PortalMeSerializer,
    PortalRefreshSerializer,
    PortalRegisterSerializer,
    PortalTokenPairSerializer,
)
from portal.services import (
    Purpose,
    code_sent_message,
    portal_code_request,
    portal_code_verify,
    portal_customer_language_set,
    portal_register_complete,
    portal_register_request,
)
from portal.tokens import PortalRefreshToken, portal_tokens_for
from taqsit import audit
from taqsit.api import SettingsRateThrottle
from taqsit.models import Merchant

TAG = "portal"


class IsPortalCustomer(permissions.BasePermission):
    """A customer logged in to the portal (a ``PortalPrincipal``), never a member of staff."""

    message = _lazy("Log in to the portal with a code or your personal link.")

    def has_permission(self, request, view) -> bool:
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            # No handler for this method on this route: dispatch answers 405, whoever asks.
            return True
        return isinstance(request.user, PortalPrincipal)


# The limits when REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] names none for a portal scope (settings.py names them).
PORTAL_RATES = {
    "portal_customer": "600/hour",
    "portal_ip": "1200/hour",
    "portal_auth_ip": "10/minute",
    "portal_auth_destination": "5/minute",
}


class PortalRateThrottle(SettingsRateThrottle):
    @property
    def THROTTLE_RATES(self) -> dict:  # noqa: N802 (DRF's attribute name)
        return {**PORTAL_RATES, **super().THROTTLE_RATES}


class PortalCustomerThrottle(PortalRateThrottle):
    """Requests per customer."""

    scope = "portal_customer"

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if not isinstance(user, PortalPrincipal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.customer.pk}


class PortalIPThrottle(PortalRateThrottle):
    """Requests per client address."""

    scope = "portal_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PortalAuthIPThrottle(PortalIPThrottle):
    """Log-in attempts (codes, tokens, links, registrations, refreshes) per client address."""

    scope = "portal_auth_ip"


class PortalAuthDestinationThrottle(PortalRateThrottle):
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


class PortalCodeRequestView(PortalAuthAPIView):
    """Send a one-time code to a customer's phone (SMS) or e-mail address. The answer is the same whether or not
    the shop knows the phone or address; at most 3 codes per phone or address in 15 minutes."""

    @extend_schema(
        tags=[TAG],
        request=PortalCodeRequestSerializer,
        responses={202: PortalDetailSerializer, 400: OpenApiResponse(description="Invalid, or too many requests")},
    )
    def post(self, request):
        serializer = PortalCodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merchant = _open_merchant(data["merchant"])
        portal_code_request(merchant=merchant, destination=data["destination"], purpose=Purpose.LOGIN)
        return Response({"detail": code_sent_message()}, status=status.HTTP_202_ACCEPTED)


class PortalCodeTokenView(PortalAuthAPIView):
    """Exchange a one-time code for an access and a refresh token. With ``register: true``, the code of a
    registration (``auth/register/``): the customer is created then (or, if the phone is already a customer's,
    that customer is logged in)."""

    @extend_schema(
        tags=[TAG],
        request=PortalCodeTokenSerializer,
        responses={200: PortalTokenPairSerializer, 400: OpenApiResponse(description="Wrong or expired code, locked")},
    )
    def post(self, request):
        serializer = PortalCodeTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merchant = _open_merchant(data["merchant"])
        if data.get("register"):
            customer = portal_register_complete(merchant=merchant, destination=data["destination"], code=data["code"])
        else:
            customer = portal_code_verify(
                merchant=merchant, destination=data["destination"], code=data["code"], purpose=Purpose.LOGIN
            )
        return Response(portal_tokens_for(customer))


class PortalRegisterView(PortalAuthAPIView):
    """Self-registration, where the merchant allows it: the details, then a code sent to the phone; send the
    code to ``auth/token/`` with ``register: true`` (and the same phone) to finish and log in."""

    @extend_schema(
        tags=[TAG],
        request=PortalRegisterSerializer,
        responses={
            202: PortalDetailSerializer,
            400: OpenApiResponse(description="Invalid"),
            409: OpenApiResponse(description="The shop takes no registrations on its portal"),
        },
    )
    def post(self, request):
        serializer = PortalRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        merchant = _open_merchant(data.pop("merchant"))
        portal_register_request(merchant=merchant, **data)
        return Response({"detail": code_sent_message()}, status=status.HTTP_202_ACCEPTED)


def _open_merchant(merchant_id) -> Merchant:
    """The merchant named by a log-in request; one unknown, inactive or with its portal off is refused as unknown
    (its portal is not a place customers can know)."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None or not portal_is_open(merchant):
        raise ValidationError({"merchant": [_("No shop with an open customer portal has this id.")]})
    return merchant
