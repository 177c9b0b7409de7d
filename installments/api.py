"""Products, plans (with preview, summary and lifecycle actions) and installments over the API.

Views parse and present; every rule lives in the services and selectors.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from installments.contract import contract_build
from installments.contract_files import contract_pdf_response
from installments.exports import installments_csv, plans_csv
from installments.filters import InstallmentFilter, PlanFilter, ProductFilter
from installments.models import Installment, InstallmentPlan, Product
from installments.selectors import (
    Party,
    exposure_list,
    overdue_cutoff,
    plan_is_overdue,
    plan_list,
    plan_payoff_quote,
    plan_sale_condition,
    plan_summary,
)
from installments.serializers import (
    CollectionInstallmentSerializer,
    ContractSerializer,
    ContractSignatureSerializer,
    ContractSignInputSerializer,
    ExposureQuerySerializer,
    ExposureSerializer,
    GuarantorInputSerializer,
    PayoffQuerySerializer,
    PayoffQuoteSerializer,
    PlanCreateSerializer,
    PlanSerializer,
    PlanSummarySerializer,
    PlanTermsSerializer,
    PlanUpdateSerializer,
    ProductSerializer,
    RescheduleSerializer,
    SchedulePreviewSerializer,
    schedule_preview_data,
)
from installments.services import (
    contract_sign,
    guarantor_add,
    guarantor_remove,
    plan_approve,
    plan_cancel,
    plan_create,
    plan_delete,
    plan_reject,
    plan_reschedule,
    plan_terms_build,
    plan_update,
    product_create,
    product_update,
)
from taqsit.api import NestedListViewSet, RolePermission, TenantViewSetMixin, nested_list_options
from taqsit.dates import merchant_today
from taqsit.exports import EXPORT_ACTION, export_merchant, export_schema
from taqsit.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from taqsit.permissions import Action
from taqsit.phone import phone_normalize
from taqsit.replicas import replica_reads_view
from taqsit.serializers import NoBodySerializer, ReasonSerializer

ERRORS = {
    400: OpenApiResponse(description="Invalid input: a body naming each bad field."),
    403: OpenApiResponse(description="Your role does not allow this."),
    404: OpenApiResponse(description="No such object for your merchant."),
}


class ProductViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Products sold on installment (deactivate with is_active=false; plans keep their own item lines)."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    write_permission = Action.PRODUCT_WRITE
    filterset_class = ProductFilter
    search_fields = ["name", "sku"]
    ordering_fields = ["name", "price", "created_at"]
    ordering = ["name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = product_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = product_update(
            actor=self.request.user, product=serializer.instance, **serializer.validated_data
        )


def _terms_from(data: dict) -> dict:
    terms = dict(data)
    terms["items"] = [
        {key: value for key, value in item.items() if value is not None or key == "product"}
        for item in terms.get("items") or []
    ]
    return terms


@extend_schema_view(
    list=extend_schema(responses=PlanSerializer(many=True)),
    retrieve=extend_schema(responses={200: PlanSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        request=PlanCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: PlanSerializer,
            422: OpenApiResponse(description="The Idempotency-Key was used with another body."),
            **ERRORS,
        },
    ),
    update=extend_schema(request=PlanUpdateSerializer, responses={200: PlanSerializer, **ERRORS}),
    partial_update=extend_schema(request=PlanUpdateSerializer, responses={200: PlanSerializer, **ERRORS}),
    destroy=extend_schema(
        responses={204: None, 409: OpenApiResponse(description="The plan has payments: cancel it."), **ERRORS}
    ),
)
class PlanViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Installment plans with their schedule; terms change only through reschedule."""

    installments_prefetch = Prefetch("installments", queryset=Installment.objects.order_by("number"))
    queryset = InstallmentPlan.objects.select_related("customer").prefetch_related(
        "items", "guarantors", installments_prefetch
    )
    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    search_fields = [
        "customer__name",
        "customer__phone",
        "customer__email",
        "customer__national_id",
        "notes",
        "sale_reference",
    ]
    search_number_field = "number"
    search_condition = staticmethod(plan_sale_condition)
    search_condition_help = "; or an item's serial number (spaces and case ignored)"
    ordering_fields = ["created_at", "start_date", "due_date", "total_payable", "number"]
    ordering = ["-created_at", "-number"]
    action_permissions = {
        "create": Action.PLAN_CREATE,
        "preview": Action.READ,
        "update": Action.PLAN_CREATE,
        "partial_update": Action.PLAN_CREATE,
        "destroy": Action.PLAN_DECIDE,
        "approve": Action.PLAN_DECIDE,
        "reject": Action.PLAN_DECIDE,
        "cancel": Action.PLAN_DECIDE,
        "reschedule": Action.PLAN_DECIDE,
        # Adding to an active plan takes a manager: the service decides by the plan's status.
        "guarantors": Action.PLAN_CREATE,
        "guarantor_remove": Action.PLAN_CREATE,
        # A signature drawn at the counter: whoever may create plans takes it.
        "contract_sign": Action.PLAN_CREATE,
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "payoff":
            # The quote reads the rows in one query of its own: the schedule's prefetches would be wasted.
            return queryset.select_related("merchant").prefetch_related(None)
        return queryset

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        merchant = getattr(self.request.user, "merchant", None)
        if merchant is not None:
            context["overdue_cutoff"] = overdue_cutoff(merchant)
        return context

    def _plan_response(self, plan: InstallmentPlan, code: int = status.HTTP_200_OK) -> Response:
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PlanSerializer(plan, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = PlanCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = Customer.objects.for_merchant(request.user.merchant).filter(pk=data.pop("customer")).first()
        if customer is None:
            return Response({"customer": ["No such customer."]}, status=status.HTTP_400_BAD_REQUEST)
        notes = data.pop("notes", "")

        def handler(key):
            # One layer: the API's record replays a repeat before this runs; the key stays on the row.
            plan = plan_create(
                actor=request.user,
                customer=customer,
                notes=notes,
                idempotency_key=key,
                replay=False,
                **_terms_from(data),
            )
            return self._plan_response(plan, status.HTTP_201_CREATED)

        return idempotent(request, scope="plan.create", handler=handler)

    def update(self, request, *args, **kwargs):
        plan = self.get_object()
        serializer = PlanUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        plan = plan_update(actor=request.user, plan=plan, notes=serializer.validated_data.get("notes", plan.notes))
        return self._plan_response(plan)

    def perform_destroy(self, instance) -> None:
        plan_delete(actor=self.request.user, plan=instance)

    @extend_schema(request=PlanTermsSerializer, responses={200: SchedulePreviewSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The schedule a plan with these terms would get; nothing is saved."""
        serializer = PlanTermsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        merchant = request.user.merchant
        if merchant is None:
            raise NotFound
        terms = plan_terms_build(merchant=merchant, **_terms_from(serializer.validated_data))
        return Response(schedule_preview_data(terms, currency=merchant.currency))

    @extend_schema(responses={200: PlanSummarySerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        """Where the plan stands: paid, remaining, next due."""
        plan = self.get_object()
        return Response(PlanSummarySerializer(plan_summary(plan=plan), context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[PayoffQuerySerializer],
        responses={
            200: PayoffQuoteSerializer,
            409: OpenApiResponse(description="The plan is not active or defaulted: it has no payoff quote."),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["get"])
    def payoff(self, request, pk=None):
        """What closes the plan if paid on ``date`` (default the merchant's today): unpaid principal, interest and
        late fees, less the rebate of the merchant's rule (``rule``); ``amount`` is the sum to pay."""
        plan = self.get_object()
        query = PayoffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("date") or merchant_today(plan.merchant)
        quote = plan_payoff_quote(plan=plan, on=on, rebate=query.validated_data.get("rebate"), reason=None)
        return Response(PayoffQuoteSerializer(quote, context={"currency": quote.currency}).data)

    def perform_content_negotiation(self, request, force=False):
        # The contract answers as a PDF whatever the client accepts; its refusals in JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "contract_pdf")

    @extend_schema(
        responses={
            # Spelled out in words: generated clients read no PDF body.
            200: OpenApiResponse(
                description="The contract as application/pdf, in the customer's language, with the signatures "
                "made on screen on this very text; Cache-Control: private, no-store."
            ),
            404: ERRORS[404],
        },
    )
    @action(detail=True, methods=["get"], url_path="contract.pdf", url_name="contract-pdf")
    def contract_pdf(self, request, pk=None):
        """The plan's contract as a PDF: parties, items and serials, cost of credit with the APR, the whole
        schedule, the late-fee, early-settlement and merchant's terms, and the signature lines."""
        plan = self.get_object()
        return contract_pdf_response(contract_build(plan=plan))

    @extend_schema(responses={200: ContractSerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["get"], url_path="contract/signatures")
    def contract_signatures(self, request, pk=None):
        """The contract as it reads today: its language, the SHA-256 of its text (what a signer signs) and the
        signatures kept on it, each saying whether it covers today's text (a reschedule changes the text)."""
        return Response(ContractSerializer(contract_build(plan=self.get_object())).data)

    @extend_schema(
        request=ContractSignInputSerializer,
        responses={
            201: ContractSignatureSerializer,
            409: OpenApiResponse(description="The contract's text changed since it was read, or the plan is closed."),
            **ERRORS,
        },
    )
    @contract_signatures.mapping.post
    def contract_sign(self, request, pk=None):
        """Keep a signature drawn on a touch screen (a PNG, base64) with the SHA-256 of the contract's text the
        signer read (``text_sha256`` from the GET); the contract's PDF then carries it."""
        plan = self.get_object()
        serializer = ContractSignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signature = contract_sign(actor=request.user, plan=plan, **serializer.signature())
        contract_sha = contract_build(plan=plan).text_sha256
        data = ContractSignatureSerializer(signature, context={"text_sha256": contract_sha}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @export_schema("The plans")
    @action(**EXPORT_ACTION)
    def export(self, request):
        """The plan list as CSV: same filters, search and ordering as the list, every row (no pages), streamed."""
        merchant = export_merchant(request)
        plans = self.filter_queryset(self.get_queryset())
        return plans_csv(plans, merchant=merchant, today=merchant_today(merchant))

    @extend_schema(responses=PlanSerializer(many=True))
    @action(detail=False, methods=["get"])
    def overdue(self, request):
        """Plans with at least one overdue installment."""
        merchant = request.user.merchant
        queryset = self.filter_queryset(self.get_queryset())
        queryset = queryset.filter(plan_is_overdue(merchant=merchant)) if merchant else queryset.none()
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(PlanSerializer(page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("plan_status", OpenApiTypes.STR, OpenApiParameter.PATH, enum=InstallmentPlan.Status.values)
        ],
        responses={200: PlanSerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=False, methods=["get"], url_path=r"status/(?P<plan_status>[a-z_]+)")
    def by_status(self, request, plan_status: str):
        """Plans in one status."""
        if plan_status not in InstallmentPlan.Status.values:
            raise NotFound(f"No status {plan_status!r}; one of {', '.join(InstallmentPlan.Status.values)}.")
        queryset = self.filter_queryset(self.get_queryset()).filter(status=plan_status)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(PlanSerializer(page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: PlanSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a pending application: it becomes active and its down payment is recorded."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        return self._plan_response(plan_approve(actor=request.user, plan=self.get_object()))

    @extend_schema(request=ReasonSerializer, responses={200: PlanSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a pending application, with the reason."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_reject(actor=request.user, plan=self.get_object(), reason=serializer.validated_data["reason"])
        return self._plan_response(plan)

    @extend_schema(request=ReasonSerializer, responses={200: PlanSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop collecting a plan; its payments stay."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_cancel(actor=request.user, plan=self.get_object(), reason=serializer.validated_data["reason"])
        return self._plan_response(plan)

    @extend_schema(request=GuarantorInputSerializer, responses={201: PlanSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def guarantors(self, request, pk=None):
        """Add a guarantor: to an application (pending) whoever may create plans; to an active or defaulted plan a
        manager or the owner. The plan with its guarantors is returned."""
        serializer = GuarantorInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = self.get_object()
        guarantor_add(actor=request.user, plan=plan, **serializer.validated_data)
        return self._plan_response(plan, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None, **ERRORS, 400: OpenApiResponse(description="The plan is no longer an application.")},
    )
    @action(detail=True, methods=["delete"], url_path=r"guarantors/(?P<guarantor_id>[0-9a-f-]{36})")
    def guarantor_remove(self, request, pk=None, guarantor_id=None):
        """Remove a guarantor from an application; an active (or closed) plan keeps its guarantors."""
        plan = self.get_object()
        guarantor = plan.guarantors.filter(pk=guarantor_id).first()
        if guarantor is None:
            raise NotFound("No such guarantor on this plan.")
        guarantor_remove(actor=request.user, guarantor=guarantor)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RescheduleSerializer, responses={200: PlanSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Spread the unpaid remainder over a new schedule; the old rows stay as history."""
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_reschedule(actor=request.user, plan=self.get_object(), **serializer.validated_data)
        return self._plan_response(plan)


class CustomerPlanViewSet(NestedListViewSet):
    """``/customers/{id}/plans/``: a customer's plans, served here where plans live (customers know no plans)."""

    queryset = Customer.objects.all()
    serializer_class = PlanSerializer

    @extend_schema(responses=PlanSerializer(many=True))
    @action(detail=True, methods=["get"], **nested_list_options(PlanViewSet))
    def plans(self, request, pk=None):
        """The customer's plans, with the filters, search and ordering of the plan list."""
        customer = self.get_parent()
        queryset = plan_list(merchant=customer.merchant, customer=customer).prefetch_related(
            "items", "guarantors", PlanViewSet.installments_prefetch
        )
        context = {"overdue_cutoff": overdue_cutoff(customer.merchant)}
        return self.nested_list_response(queryset, PlanSerializer, context)


class InstallmentViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Installments across plans: the collections list is ``?status=overdue``."""

    queryset = Installment.objects.current().select_related("plan", "plan__customer")
    serializer_class = CollectionInstallmentSerializer
    filterset_class = InstallmentFilter
    search_fields = ["plan__customer__name", "plan__customer__phone"]
    ordering_fields = ["due_date", "amount_due", "number"]
    ordering = ["due_date", "plan__number", "number"]

    @replica_reads_view
    def list(self, request, *args, **kwargs):
        """The list (the collections list with ``?status=overdue``) from a read replica when there is one."""
        return super().list(request, *args, **kwargs)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        merchant = getattr(self.request.user, "merchant", None)
        if merchant is not None:
            context["overdue_cutoff"] = overdue_cutoff(merchant)
        return context

    @export_schema("The installments")
    @action(**EXPORT_ACTION)
    def export(self, request):
        """The installment list as CSV (``?status=overdue`` is the collections list): same filters, search and
        ordering as the list, every row (no pages), streamed."""
        merchant = export_merchant(request)
        rows = self.filter_queryset(self.get_queryset())
        return installments_csv(rows, merchant=merchant, today=merchant_today(merchant))


class ExposureView(APIView):
    """Before a plan is created: what its customer and a would-be guarantor already owe or answer for at this
    merchant (open plans, balances, overdue, defaulted), as customer and as guarantor. A guarantor is found on
    other plans and among customers by national id, else by phone."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]

    @extend_schema(parameters=[ExposureQuerySerializer], responses={200: ExposureSerializer, **ERRORS})
    def get(self, request):
        merchant = request.user.merchant
        if merchant is None:
            raise NotFound("Platform admins have no merchant: exposure is per merchant.")
        query = ExposureQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        customer = None
        if data.get("customer"):
            customer = Customer.objects.for_merchant(merchant).filter(pk=data["customer"]).first()
            if customer is None:
                raise ValidationError({"customer": ["No such customer."]})
        phone = data["phone"].strip()
        if phone:
            try:
                phone = phone_normalize(phone, region=merchant.country)
            except DjangoValidationError as exc:
                raise ValidationError({"phone": exc.messages}) from exc
        parties = []
        if customer is not None:
            parties.append(
                Party(name=customer.name, customer=customer, national_id=customer.national_id, phone=customer.phone)
            )
        guarantor = data["national_id"].strip() or phone
        if guarantor:
            parties.append(Party(name=data["name"].strip(), national_id=data["national_id"].strip(), phone=phone))
        exposures = exposure_list(merchant=merchant, parties=parties)
        body = {
            "currency": merchant.currency,
            "customer": exposures[0] if customer is not None else None,
            "guarantor": exposures[-1] if guarantor else None,
        }
        return Response(ExposureSerializer(body, context={"currency": merchant.currency}).data)
