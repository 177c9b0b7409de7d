"""What every API view shares (pagination, tenant scoping, the role table), and the auth and staff endpoints."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, throttling, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from taqsit.models import User
from taqsit.permissions import Action, user_can
from taqsit.serializers import LogoutSerializer, MeSerializer, RegisterSerializer, UserSerializer, UserUpdateSerializer
from taqsit.services import merchant_register, user_create, user_update
from taqsit.tenancy import MerchantScopedMixin


class RolePermission(permissions.BasePermission):
    """Reads need Action.READ; each viewset maps its actions to an Action in ``action_permissions``."""

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
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

    @property
    def merchant(self):
        return self.request.user.merchant

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        merchant = getattr(self.request.user, "merchant", None) if self.request else None
        if merchant is not None:
            context["currency"] = merchant.currency
        return context


class AuthIPThrottle(throttling.SimpleRateThrottle):
    """Login and registration attempts per client address."""

    scope = "auth_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthUserThrottle(throttling.SimpleRateThrottle):
    """Login attempts per username, whatever address they come from."""

    scope = "auth_user"

    def get_cache_key(self, request, view) -> str | None:
        username = str(request.data.get("username", "")).strip().lower() if hasattr(request, "data") else ""
        if not username:
            return None
        return self.cache_format % {"scope": self.scope, "ident": username}


def tokens_for(user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


class RegisterView(APIView):
    """Create a merchant and its owner; answers with the owner, the merchant and a token pair."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle]

    @extend_schema(
        request=RegisterSerializer, responses={201: MeSerializer, 400: OpenApiResponse(description="Invalid")}
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


class TokenRefreshRotateView(TokenRefreshView):
    """A new access token (and, rotated, a new refresh token; the old one is blacklisted)."""

    throttle_classes = [AuthIPThrottle]


class LogoutView(APIView):
    """Blacklist the refresh token, ending the session it belongs to."""

    @extend_schema(request=LogoutSerializer, responses={204: None, 400: OpenApiResponse(description="Invalid token")})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise TokenError("The token belongs to another user.")
            token.blacklist()
        except TokenError as exc:
            return Response({"refresh": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user, role and merchant."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


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
