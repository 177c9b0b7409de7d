"""The borrower API (/api/portal/): what every endpoint shares (``PortalAPIMixin``), and its log-in endpoints.

Every endpoint but the log-in ones needs a customer's ``portal_access`` token (portal/authentication.py); no
staff credential is accepted here. Limits apply per customer and per address, stricter on the log-in endpoints.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from customers.portal_links import portal_is_open, portal_link_resolve
from installments.models import Installment, InstallmentPlan, Product
from installments.selectors import overdue_cutoff, plan_payoff_quote
from installments.serializers import PayoffQuoteSerializer, SchedulePreviewSerializer, schedule_preview_data
from installments.services import application_terms, plan_apply, plan_preview
from notifications.models import Notification
from payments.models import Payment, PaymentAllocation
from payments.services.report import payment_report
from portal.auth import customer_audit_values
from portal.authentication import CustomerJWTAuthentication, PortalPrincipal, customer_for_claims
from portal.inbox import notification_mark_read_by_customer
from portal.selectors import customer_notifications, customer_payments, customer_plans
from portal.serializers import (
    PortalApplySerializer,
    PortalCodeRequestSerializer,
    PortalCodeTokenSerializer,
    PortalDetailSerializer,
    PortalLinkLoginSerializer,
    PortalMeSerializer,
    PortalNotificationSerializer,
    PortalPaymentReportSerializer,
    PortalPaymentSerializer,
    PortalPayoffQuerySerializer,
    PortalPlanDetailSerializer,
    PortalPlanSerializer,
    PortalProductSerializer,
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
from portal.tokens import MERCHANT_CLAIM, PortalRefreshToken, portal_tokens_for
from taqsit import audit
from taqsit.api import SettingsRateThrottle
from taqsit.dates import merchant_today
from taqsit.filters import FilterBackend, FilterSet, SearchFilter, StrictBooleanFilter
from taqsit.models import Merchant
from taqsit.serializers import NoBodySerializer
from taqsit.tenancy import request_merchant_set

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

    # Query parameters an action takes beyond its filters' and its pages' (the payoff's ``date``).
    query_parameters_by_action: dict[str, tuple[str, ...]] = {}

    def _query_parameters_allowed(self) -> set[str]:
        """What the schema documents for this view: its filter set's fields, the search and ordering
        parameters, the pages', the action's own, and ``format`` (DRF's renderer choice)."""
        allowed = {"format", *self.query_parameters_by_action.get(getattr(self, "action", None), ())}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            allowed.update(filterset_class.base_filters)
        for backend in getattr(self, "filter_backends", ()):
            if getattr(self, "search_fields", None) and hasattr(backend, "search_param"):
                allowed.add(backend.search_param)
            if getattr(self, "ordering_fields", None) and hasattr(backend, "ordering_param"):
                allowed.add(backend.ordering_param)
        paginator = getattr(self, "paginator", None)
        for name in ("page_query_param", "page_size_query_param", "limit_query_param", "offset_query_param"):
            if getattr(paginator, name, None):
                allowed.add(getattr(paginator, name))
        return allowed

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            # A customer's app that sends a parameter we do not know (a typo of ``status``) is told, rather than
            # answered as if it had not asked.
            unknown = sorted(set(request.query_params) - self._query_parameters_allowed())
            if unknown:
                message = _("Unknown query parameter.")
                raise ValidationError({name or "query": [message] for name in unknown})
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
        request_merchant_set(request, link.merchant_id)
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
        # The token (signed by us) names the merchant the customer is read for.
        request_merchant_set(request, refresh.get(MERCHANT_CLAIM))
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
        customer = self.customer
        if serializer.validated_data:  # an empty body changes nothing
            customer = portal_customer_language_set(customer=customer, **serializer.validated_data)
        return Response(PortalMeSerializer(customer).data)


# The customer's own data: plans (apply, payoff quote), payments (report a transfer) and messages. Every queryset
# is the logged-in customer's at their merchant: anyone else's row is a 404, as one that does not exist.

NOT_FOUND = OpenApiResponse(description="No such object among yours.")


class PortalPlanFilter(FilterSet):
    class Meta:
        model = InstallmentPlan
        fields = ["status"]


class PortalPaymentFilter(FilterSet):
    plan = django_filters.UUIDFilter(field_name="plan_id")

    class Meta:
        model = Payment
        fields = ["plan", "status"]


class PortalNotificationFilter(FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: only unread; false: only read. Default: all."
    )

    class Meta:
        model = Notification
        fields = ["unread"]


def _customer_plans(customer) -> QuerySet[InstallmentPlan]:
    """The customer's plans at their merchant (``portal.selectors``), with their items and schedules."""
    installments = Prefetch("installments", queryset=Installment.objects.order_by("number"))
    return customer_plans(customer=customer).prefetch_related("items", installments)


def _customer_payments(customer) -> QuerySet[Payment]:
    """The customer's payments at their merchant (``portal.selectors``), with their allocations and proofs."""
    allocations = Prefetch(
        "allocations", queryset=PaymentAllocation.objects.select_related("installment").order_by("id")
    )
    return customer_payments(customer=customer).select_related("proof").prefetch_related(allocations)


def _customer_notifications(customer) -> QuerySet[Notification]:
    """The messages the customer's merchant sent them (``portal.selectors``), with what each is about."""
    return customer_notifications(customer=customer).select_related("installment", "payment")


def _application(validated: dict) -> dict:
    """An application's terms as ``plan_apply`` and ``application_terms`` take them: each item a product of the
    shop and a quantity (its price is the shop's), or none."""
    terms = dict(validated)
    items = [{"product": item["product"], "quantity": item["quantity"]} for item in terms.pop("items", None) or []]
    return {**terms, "items": items or None}


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="The customer's plans at this shop"),
    retrieve=extend_schema(
        tags=[TAG],
        summary="A plan with its schedule and payments",
        responses={200: PortalPlanDetailSerializer, 404: NOT_FOUND},
    ),
)
class PortalPlanViewSet(PortalAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The customer's plans (their loans): each with where it stands and what falls due next; one with its whole
    schedule, what was paid on each row, and its payments."""

    queryset = InstallmentPlan.objects.none()  # the schema's model; requests use get_queryset()
    serializer_class = PortalPlanSerializer
    filter_backends = [FilterBackend]
    query_parameters_by_action = {"payoff": ("date",)}
    filterset_class = PortalPlanFilter

    def get_queryset(self):
        customer = self.customer
        if customer is None:
            return InstallmentPlan.objects.none()
        queryset = _customer_plans(customer)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(Prefetch("payments", queryset=_customer_payments(customer)))
        return queryset

    def get_serializer_class(self):
        return PortalPlanDetailSerializer if self.action == "retrieve" else PortalPlanSerializer

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if self.customer is not None:
            context["overdue_cutoff"] = overdue_cutoff(self.customer.merchant)
        return context

    def _plan_response(self, plan: InstallmentPlan, code: int = status.HTTP_200_OK) -> Response:
        self.action = "retrieve"
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PortalPlanDetailSerializer(plan, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        tags=[TAG],
        summary="Apply for a plan",
        request=PortalApplySerializer,
        responses={201: PortalPlanDetailSerializer},
    )
    @action(detail=False, methods=["post"])
    def apply(self, request):
        """Apply for a new plan: the shop's products (``items``) or a ``description`` and ``total_amount``, the
        down payment, the number of installments and their frequency. The plan is ``pending`` (the shop's approval
        queue) until the shop approves or rejects it; the customer is told either way."""
        serializer = PortalApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_apply(customer=self.customer, **_application(serializer.validated_data))
        return self._plan_response(plan, status.HTTP_201_CREATED)

    @extend_schema(
        tags=[TAG],
        summary="The schedule an application would get",
        request=PortalApplySerializer,
        responses={200: SchedulePreviewSerializer},
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The schedule the terms of an application would get (the live preview the shop's clerk has), by the
        rules ``apply/`` follows; nothing is saved."""
        serializer = PortalApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        merchant = self.customer.merchant
        terms = application_terms(merchant=merchant, **_application(serializer.validated_data))
        preview = plan_preview(merchant=merchant, **terms)
        if preview is None:
            raise ValidationError({"total_amount": [_("Give the total amount or the items sold.")]})
        return Response(schedule_preview_data(preview, currency=merchant.currency))

    @extend_schema(
        tags=[TAG],
        summary="What closes the plan on a date",
        parameters=[PortalPayoffQuerySerializer],
        responses={
            200: PayoffQuoteSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(description="The plan is not being paid (pending, completed, rejected...)."),
        },
    )
    @action(detail=True, methods=["get"])
    def payoff(self, request, pk=None):
        """What closes the plan if paid on ``date`` (default: the shop's today): unpaid principal and interest,
        late fees, less a rebate; ``amount`` is the sum to pay."""
        plan = self.get_object()
        query = PortalPayoffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("date") or merchant_today(plan.merchant)
        quote = plan_payoff_quote(plan=plan, on=on)
        return Response(PayoffQuoteSerializer(quote, context={"currency": quote.currency}).data)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="The customer's payments"),
    retrieve=extend_schema(
        tags=[TAG], summary="One of the customer's payments", responses={200: PortalPaymentSerializer, 404: NOT_FOUND}
    ),
)
class PortalPaymentViewSet(PortalAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The customer's payment history, and the transfers they report."""

    queryset = Payment.objects.none()  # the schema's model; requests use get_queryset()
    serializer_class = PortalPaymentSerializer
    filter_backends = [FilterBackend]
    filterset_class = PortalPaymentFilter
    # A report carries a file; a JSON body (no file) is read to be refused naming ``proof``.
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        customer = self.customer
        return Payment.objects.none() if customer is None else _customer_payments(customer)

    @extend_schema(
        tags=[TAG],
        summary="Report a transfer",
        request={"multipart/form-data": PortalPaymentReportSerializer},
        responses={201: PortalPaymentSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Report a payment made by bank transfer or mobile wallet, with a photo or PDF of its proof (multipart).
        It is ``pending`` until the shop confirms it (then allocated, and a receipt is sent) or cannot (``failed``,
        with the reason). A refused report saves nothing."""
        serializer = PortalPaymentReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        plan = _customer_plans(self.customer).filter(pk=data.pop("plan")).first()
        if plan is None:
            return Response({"plan": [_("No such plan.")]}, status=status.HTTP_400_BAD_REQUEST)
        payment = payment_report(customer=self.customer, plan=plan, **data)
        payment = self.get_queryset().get(pk=payment.pk)
        serializer = PortalPaymentSerializer(payment, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary="The messages the shop sent the customer"),
    retrieve=extend_schema(
        tags=[TAG], summary="One message", responses={200: PortalNotificationSerializer, 404: NOT_FOUND}
    ),
)
class PortalNotificationViewSet(
    PortalAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every reminder, overdue alert, decision and receipt the shop sent the customer, with its read state."""

    queryset = Notification.objects.none()  # the schema's model; requests use get_queryset()
    serializer_class = PortalNotificationSerializer
    filter_backends = [FilterBackend]
    filterset_class = PortalNotificationFilter

    def get_queryset(self):
        customer = self.customer
        return Notification.objects.none() if customer is None else _customer_notifications(customer)

    @extend_schema(
        tags=[TAG],
        summary="Mark a message read",
        request=None,
        responses={200: PortalNotificationSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark the message read (no body); marking it again keeps the first read time."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        notification = notification_mark_read_by_customer(customer=self.customer, notification_id=pk)
        return Response(PortalNotificationSerializer(notification, context=self.get_serializer_context()).data)


@extend_schema_view(list=extend_schema(tags=[TAG], summary="The shop's products"))
class PortalProductViewSet(PortalAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The products the customer's shop sells on installment (active ones, by name): what ``items`` of an
    application name."""

    queryset = Product.objects.none()  # the schema's model; requests use get_queryset()
    serializer_class = PortalProductSerializer
    filter_backends = [SearchFilter]
    search_fields = ["name", "sku"]

    def get_queryset(self):
        customer = self.customer
        if customer is None:
            return Product.objects.none()
        return Product.objects.filter(merchant_id=customer.merchant_id, is_active=True).order_by("name", "id")


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
        merchant = _open_merchant(request, data["merchant"])
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
        merchant = _open_merchant(request, data["merchant"])
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
        merchant = _open_merchant(request, data.pop("merchant"))
        portal_register_request(merchant=merchant, **data)
        return Response({"detail": code_sent_message()}, status=status.HTTP_202_ACCEPTED)


def _open_merchant(request, merchant_id) -> Merchant:
    """The merchant named by a log-in request; one unknown, inactive or with its portal off is refused as unknown
    (its portal is not a place customers can know). The rest of the request runs for it (row-level security)."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None or not portal_is_open(merchant):
        raise ValidationError({"merchant": [_("No shop with an open customer portal has this id.")]})
    request_merchant_set(request, merchant.pk)
    return merchant
