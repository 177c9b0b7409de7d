"""Payments over the API: record (idempotent), list, notes, complete or fail a pending one, refund, void; a
completed payment is never deleted."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from installments.models import InstallmentPlan
from payments.exports import payments_csv
from payments.filters import PaymentFilter
from payments.models import CharityDisbursement, Payment
from payments.proofs import proof_response
from payments.selectors import charity_disbursement_list, payment_list, payment_with_allocations
from payments.serializers import (
    CharityDisbursementCreateSerializer,
    CharityDisbursementSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
    PaymentUpdateSerializer,
    PlanSettleSerializer,
    StatsSerializer,
)
from payments.services import (
    charity_disbursement_record,
    payment_complete,
    payment_delete,
    payment_fail,
    payment_post,
    payment_refund,
    payment_update,
    payment_void,
    plan_settle,
)
from payments.stats import merchant_stats
from taqsit.api import NestedListViewSet, RolePermission, TenantViewSetMixin, nested_list_options
from taqsit.dates import merchant_today
from taqsit.exports import EXPORT_ACTION, export_merchant, export_schema
from taqsit.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from taqsit.permissions import Action
from taqsit.serializers import NoBodySerializer, ReasonSerializer

ERRORS = {
    400: OpenApiResponse(description="Invalid input: a body naming each bad field."),
    403: OpenApiResponse(description="Your role does not allow this."),
    404: OpenApiResponse(description="No such object for your merchant."),
}


@extend_schema_view(
    list=extend_schema(responses=PaymentSerializer(many=True)),
    retrieve=extend_schema(responses={200: PaymentSerializer, 404: ERRORS[404]}),
    partial_update=extend_schema(request=PaymentUpdateSerializer, responses={200: PaymentSerializer, **ERRORS}),
    destroy=extend_schema(
        responses={204: None, 409: OpenApiResponse(description="Completed: refund or void it."), **ERRORS}
    ),
)
class PaymentViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Payment.objects.all()
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    search_fields = ["reference", "notes", "plan__customer__name"]
    ordering_fields = ["payment_date", "amount", "created_at", "payment_number"]
    ordering = ["-payment_date", "-created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "create": Action.PAYMENT_RECORD,
        "partial_update": Action.PAYMENT_RECORD,
        "destroy": Action.PAYMENT_RECORD,
        "complete": Action.PAYMENT_RECORD,
        "fail": Action.PAYMENT_RECORD,
        "refund": Action.PAYMENT_REVERSE,
        "void": Action.PAYMENT_REVERSE,
    }

    def get_queryset(self):
        merchant = getattr(self.request.user, "merchant", None)
        if merchant is None:
            return Payment.objects.none()
        return payment_list(merchant=merchant)

    def _payment_response(self, payment: Payment, code: int = status.HTTP_200_OK) -> Response:
        payment = payment_list(merchant=self.request.user.merchant).get(pk=payment.pk)
        return Response(PaymentSerializer(payment, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        request=PaymentCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: PaymentSerializer,
            409: OpenApiResponse(description="The plan takes no payments."),
            422: OpenApiResponse(description="The Idempotency-Key was used with another body."),
            **ERRORS,
        },
    )
    def create(self, request, *args, **kwargs):
        """Record a payment; completed payments are allocated to fees, interest and principal at once."""
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        merchant = request.user.merchant
        if merchant is None:
            return Response({"plan": [_("No such plan.")]}, status=status.HTTP_400_BAD_REQUEST)
        # The plan is read once, by the service's lock (for the request's merchant, whose currency and day the
        # service needs before it): not first here too.
        plan = InstallmentPlan(pk=data.pop("plan"), merchant=merchant)

        def handler(key):
            # One layer: the API's record replays a repeat before this runs; the key stays on the row for
            # the integrator's reconciliation.
            try:
                payment = payment_post(actor=request.user, plan=plan, idempotency_key=key, replay=False, **data)
            except InstallmentPlan.DoesNotExist:
                # Raised, not answered: the key's record is rolled back with the request's transaction.
                raise exceptions.ValidationError({"plan": [_("No such plan.")]}) from None
            serializer = PaymentSerializer(payment_with_allocations(payment), context=self.get_serializer_context())
            return Response(serializer.data, status=status.HTTP_201_CREATED)

        return idempotent(request, scope="payment.create", handler=handler)

    def partial_update(self, request, *args, **kwargs):
        """Change a payment's notes or reference; its amount and date are history."""
        payment = self.get_object()
        serializer = PaymentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        payment = payment_update(actor=request.user, payment=payment, **serializer.validated_data)
        return self._payment_response(payment)

    def perform_destroy(self, instance: Payment) -> None:
        payment_delete(actor=self.request.user, payment=instance)

    @export_schema("The payments")
    @action(**EXPORT_ACTION)
    def export(self, request):
        """The payment list as CSV: same filters, search and ordering as the list, every row (no pages),
        streamed; refunded and voided payments keep their line."""
        merchant = export_merchant(request)
        payments = self.filter_queryset(self.get_queryset())
        return payments_csv(payments, merchant=merchant, today=merchant_today(merchant))

    @extend_schema(
        request=None,
        responses={
            200: PaymentSerializer,
            409: OpenApiResponse(description="Not pending, or the plan is closed."),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Confirm a pending payment (a cheque or transfer cleared): allocated now, exactly as a payment recorded
        completed; refused with the remaining balance when it no longer fits it. No body."""
        payment = self.get_object()
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        payment = payment_complete(actor=request.user, payment=payment)
        return self._payment_response(payment)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: PaymentSerializer, 409: OpenApiResponse(description="Not pending."), **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def fail(self, request, pk=None):
        """Mark a pending payment failed (a cheque bounced), with the reason; nothing was allocated."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_fail(
            actor=request.user, payment=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return self._payment_response(payment)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: PaymentSerializer, 409: OpenApiResponse(description="Not completed."), **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Give a completed payment back: allocations reversed, plan re-opened."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_refund(
            actor=request.user, payment=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return self._payment_response(payment)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: PaymentSerializer, 409: OpenApiResponse(description="Already reversed."), **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Cancel a payment recorded in error: allocations reversed, marked voided."""
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_void(
            actor=request.user, payment=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return self._payment_response(payment)

    def perform_content_negotiation(self, request, force=False):
        # The proof answers with its own type whatever the client accepts (an image, a PDF); its refusals in JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "proof")

    @extend_schema(
        responses={
            # The type is the file's own; spelled out in words, as generated clients read no image or PDF body.
            200: OpenApiResponse(
                description="The file's bytes, with the type recognised from its content when it was sent: "
                "application/pdf, image/jpeg, image/png or image/webp."
            ),
            404: OpenApiResponse(description="No such payment for your merchant, or it has no proof."),
        },
    )
    @action(detail=True, methods=["get"])
    def proof(self, request, pk=None):
        """The photo or PDF of the proof a customer sent with a transfer report, with its stored type
        (``Content-Disposition``: images inline, a PDF as an attachment); 404 when the payment has none."""
        proof = self.get_object().proof_or_none
        if proof is None:
            raise exceptions.NotFound(_("This payment has no proof."))
        return proof_response(proof)


class PlanPaymentViewSet(NestedListViewSet):
    """``/installments/plans/{id}/payments/``: a plan's payments, served here where payments live."""

    queryset = InstallmentPlan.objects.all()
    serializer_class = PaymentSerializer

    @extend_schema(responses=PaymentSerializer(many=True))
    @action(detail=True, methods=["get"], **nested_list_options(PaymentViewSet))
    def payments(self, request, pk=None):
        """The plan's payments, newest first, with their allocations; the filters, search and ordering of the
        payment list."""
        plan = self.get_parent()
        return self.nested_list_response(payment_list(merchant=plan.merchant, plan=plan), PaymentSerializer)


class CustomerPaymentViewSet(NestedListViewSet):
    """``/customers/{id}/payments/``: a customer's payments, served here where payments live."""

    queryset = Customer.objects.all()
    serializer_class = PaymentSerializer

    @extend_schema(responses=PaymentSerializer(many=True))
    @action(detail=True, methods=["get"], **nested_list_options(PaymentViewSet))
    def payments(self, request, pk=None):
        """The customer's payments, with the filters, search and ordering of the payment list."""
        customer = self.get_parent()
        return self.nested_list_response(payment_list(merchant=customer.merchant, customer=customer), PaymentSerializer)


@extend_schema_view(list=extend_schema(responses=CharityDisbursementSerializer(many=True)))
class CharityDisbursementViewSet(TenantViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """``/api/charity-disbursements/``: charity fees given away (owners and managers record them)."""

    queryset = CharityDisbursement.objects.all()
    serializer_class = CharityDisbursementSerializer
    ordering_fields = ["given_on", "amount", "created_at"]
    ordering = ["-given_on", "-created_at"]
    action_permissions = {"create": Action.PAYMENT_REVERSE}

    def get_queryset(self):
        merchant = getattr(self.request.user, "merchant", None)
        if merchant is None:
            return CharityDisbursement.objects.none()
        return charity_disbursement_list(merchant=merchant)

    @extend_schema(
        request=CharityDisbursementCreateSerializer, responses={201: CharityDisbursementSerializer, **ERRORS}
    )
    def create(self, request, *args, **kwargs):
        """Record charity fees given away; refused above what is still to give."""
        serializer = CharityDisbursementCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        disbursement = charity_disbursement_record(actor=request.user, **serializer.validated_data)
        return Response(
            CharityDisbursementSerializer(disbursement, context={"currency": request.user.merchant.currency}).data,
            status=status.HTTP_201_CREATED,
        )


class PlanSettleView(APIView):
    """``POST /api/installments/plans/{id}/settle/``: pay a plan off early at its payoff quote, the rebate of the
    merchant's rule recorded as its own allocation lines; the plan completes (clerks and up; a discretionary
    rebate, managers)."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]
    write_permission = Action.PAYMENT_RECORD

    @extend_schema(
        request=PlanSettleSerializer,
        responses={
            201: PaymentSerializer,
            409: OpenApiResponse(description="The plan is not active or defaulted."),
            **ERRORS,
        },
    )
    def post(self, request, pk=None):
        merchant = request.user.merchant
        plan = InstallmentPlan.objects.for_merchant(merchant).filter(pk=pk).first() if merchant else None
        if plan is None:
            raise exceptions.NotFound()
        serializer = PlanSettleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = plan_settle(
            actor=request.user,
            plan=plan,
            on=data.get("date"),
            method=data["payment_method"],
            reference=data["reference"],
            rebate=data.get("rebate"),
            reason=data["reason"],
        )
        payment = payment_with_allocations(payment)
        context = {"request": request, "currency": merchant.currency}
        return Response(PaymentSerializer(payment, context=context).data, status=status.HTTP_201_CREATED)


class StatsView(APIView):
    """Where the merchant's money stands: the book's totals, overdue and its aging, collection rate, what falls
    due in the weeks and months ahead, the customers with the most overdue (the dashboard's figures)."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]

    @extend_schema(
        responses={200: StatsSerializer, 404: OpenApiResponse(description="A platform admin has no merchant.")}
    )
    def get(self, request):
        merchant = request.user.merchant
        if merchant is None:
            raise exceptions.NotFound(_("Platform admins have no merchant: statistics are per merchant."))
        stats = merchant_stats(merchant=merchant)
        return Response(StatsSerializer(stats, context={"currency": merchant.currency}).data)
