"""What every API view shares (pagination, tenant scoping, the role table), and the auth and staff endpoints."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, throttling, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from taqsit.models import User
from taqsit.permissions import Action, user_can
from taqsit.serializers import (
    LogoutSerializer,
    MerchantSerializer,
    MeSerializer,
    RegisterResponseSerializer,
    RegisterSerializer,
    TokenObtainSerializer,
    TokenRefreshRotateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from taqsit.services import merchant_register, merchant_update, user_create, user_update
from taqsit.tenancy import MerchantScopedMixin
from taqsit.throttling import FailOpenThrottleMixin


class RolePermission(permissions.BasePermission):
    """Reads need Action.READ; each viewset maps its actions to an Action in ``action_permissions``."""

    message = _lazy("Your role does not allow this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            # No handler for this method on this route: dispatch answers 405, whatever the role.
            return True
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            if request.method in permissions.SAFE_METHODS:
                required = getattr(view, "read_permission", Action.READ)
            else:
                required = getattr(view, "write_permission", None)
        return required is not None and user_can(user, required)


class TenantViewSetMixin(MerchantScopedMixin):
    """Scopes the queryset to the request's merchant (a 404 for anything else), checks the role table, and
    gives serializers the merchant's currency."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]
    # A field searched by number (taqsit.filters.SearchFilter): a plan by ``42``, ``#42`` or ``P-000042``.
    search_number_field: str | None = None
    # More to search than field lookups say (taqsit.filters.SearchFilter): ``staticmethod(term -> Q)``, and how
    # the schema describes it.
    search_condition = None
    search_condition_help = ""

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        merchant = getattr(self.request.user, "merchant", None) if self.request else None
        if merchant is not None:
            context["currency"] = merchant.currency
        return context

    def get_parent(self):
        """The object of a nested list's route (``/customers/{id}/plans/``), found without the list's filters:
        those (``?status=``, ``?search=``, ``?ordering=``) are the nested rows', not the parent's."""
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        parent = get_object_or_404(self.get_queryset(), **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        self.check_object_permissions(self.request, parent)
        return parent

    def nested_list_response(self, queryset, serializer_class, context: dict | None = None) -> Response:
        """One page of a nested list: ``queryset`` filtered, searched and ordered as the action declares."""
        page = self.paginate_queryset(self.filter_queryset(queryset))
        context = {**self.get_serializer_context(), **(context or {})}
        return self.get_paginated_response(serializer_class(page, many=True, context=context).data)


LIST_OPTIONS = (
    "filterset_class",
    "search_fields",
    "search_number_field",
    "search_condition",
    "search_condition_help",
    "ordering_fields",
    "ordering",
)


class NestedListViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    """A list of one app's rows under another app's object (``/customers/{id}/plans/``), served by the app that
    owns the rows: ``queryset`` is the parent's, and the ``@action`` takes the rows' list options."""

    # Unset here, declared by the action (nested_list_options): ``as_view`` takes only the attributes a class has.
    filterset_class = search_fields = ordering_fields = ordering = None


def nested_list_options(viewset: type) -> dict:
    """``viewset``'s filters, search and ordering, for ``@action(detail=True, **nested_list_options(...))``: a
    nested list of the same rows (a customer's plans) takes the same query parameters as their own list, and
    the schema documents them."""
    return {name: getattr(viewset, name) for name in LIST_OPTIONS if hasattr(viewset, name)}


class SettingsRateThrottle(FailOpenThrottleMixin, throttling.SimpleRateThrottle):
    """Reads its rate from the settings when a request comes (DRF binds the rates at import), so a changed
    ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``override_settings`` in tests) applies at once."""

    @property
    def THROTTLE_RATES(self) -> dict:  # noqa: N802 (DRF's attribute name)
        return api_settings.DEFAULT_THROTTLE_RATES


class AuthIPThrottle(SettingsRateThrottle):
    """Login and registration attempts per client address."""

    scope = "auth_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthUserThrottle(SettingsRateThrottle):
    """Login attempts per username, whatever address they come from."""

    scope = "auth_user"

    def get_cache_key(self, request, view) -> str | None:
        data = getattr(request, "data", None)
        # A body that is not an object (a JSON list) names no username; the view answers it with a 400.
        username = str(data.get("username", "")).strip().lower() if isinstance(data, Mapping) else ""
        if not username:
            return None
        # Hashed: a username may hold spaces or control characters no cache backend takes in a key.
        ident = hashlib.sha256(username.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


def tokens_for(user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


class RegisterView(APIView):
    """Create a merchant and its owner; answers with the owner, the merchant and a token pair."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: RegisterResponseSerializer, 400: OpenApiResponse(description="Invalid")},
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        owner = merchant_register(**serializer.validated_data)
        body = {"user": MeSerializer(owner).data, **tokens_for(owner)}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(TokenObtainPairView):
    """An access and a refresh token for a username and password."""

    throttle_classes = [AuthIPThrottle, AuthUserThrottle]
    serializer_class = TokenObtainSerializer


class TokenRefreshRotateView(TokenRefreshView):
    """A new access token (and, rotated, a new refresh token; the old one is blacklisted); refused once the
    password has changed."""

    throttle_classes = [AuthIPThrottle]
    serializer_class = TokenRefreshRotateSerializer


class LogoutView(APIView):
    """Blacklist the refresh token, ending the session it belongs to."""

    @extend_schema(request=LogoutSerializer, responses={204: None, 400: OpenApiResponse(description="Invalid token")})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise TokenError(_("The token belongs to another user."))
            token.blacklist()
        except TokenError as exc:
            return Response({"refresh": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user, role and merchant."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class MerchantSettingsView(APIView):
    """A view of the signed-in user's merchant's settings: everyone reads them, the owner changes them; a platform
    admin (no merchant) is sent to the admin with a 404."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]
    read_permission = Action.READ
    write_permission = Action.STAFF_MANAGE

    def _merchant(self, request):
        if request.user.merchant is None:
            raise exceptions.NotFound(_("Platform admins manage merchants in the admin."))
        return request.user.merchant


class MerchantView(MerchantSettingsView):
    """The signed-in user's merchant: everyone reads it; the owner changes its profile and collection policy."""

    @extend_schema(responses=MerchantSerializer)
    def get(self, request):
        return Response(MerchantSerializer(self._merchant(request)).data)

    @extend_schema(request=MerchantSerializer, responses=MerchantSerializer)
    def patch(self, request):
        merchant = self._merchant(request)
        serializer = MerchantSerializer(merchant, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        merchant = merchant_update(actor=request.user, merchant=merchant, **serializer.validated_data)
        return Response(MerchantSerializer(merchant).data)


class UserViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The merchant's staff; the owner manages them. Staff are deactivated (is_active=false), never deleted."""

    queryset = User.objects.order_by("username")
    serializer_class = UserSerializer
    read_permission = Action.STAFF_MANAGE
    write_permission = Action.STAFF_MANAGE
    filterset_fields = ["role", "is_active"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering_fields = ["username", "date_joined", "role"]

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return UserUpdateSerializer
        return UserSerializer

    def perform_create(self, serializer) -> None:
        serializer.instance = user_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = user_update(
            actor=self.request.user, user=serializer.instance, **serializer.validated_data
        )


@csrf_exempt
def api_fallback(request, *args, **kwargs) -> HttpResponse:
    """An /api/ address no route matches: the slashed address's view when only the trailing slash is missing
    (``POST /api/installments/plans`` creates a plan), else the API's JSON 404, whatever the method."""
    path = request.path_info
    if not path.endswith("/"):
        try:
            match = resolve(f"{path}/", getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and match.func is not api_fallback:
            # The view sees the slashed address, so what keys on it (an Idempotency-Key's fingerprint, the
            # pages' links) is the same whichever form the client sent.
            request.path_info, request.path = f"{path}/", f"{request.path}/"
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
