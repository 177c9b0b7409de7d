"""The collector's worklist over the API (/api/collectors/): assignments (managers give plans to collectors),
contacts and promises to pay (recorded by owners, managers and clerks), and each collector's figures per week."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from collectors.filters import AssignmentFilter, ContactFilter, PromiseFilter
from collectors.models import Assignment, Contact, Promise
from collectors.selectors import collector_figures, promise_status_expression
from collectors.serializers import (
    AssignmentSerializer,
    AssignSerializer,
    ContactCreateSerializer,
    ContactSerializer,
    FiguresQuerySerializer,
    FiguresSerializer,
    PromiseCreateSerializer,
    PromiseSerializer,
)
from collectors.services import contact_record, plans_assign, promise_record
from installments.models import InstallmentPlan
from taqsit.api import RolePermission, TenantViewSetMixin
from taqsit.dates import merchant_today
from taqsit.permissions import Action

ERRORS = {
    400: OpenApiResponse(description="Invalid input: a body naming each bad field."),
    403: OpenApiResponse(description="Your role does not allow this."),
}


def _no_such_plan() -> exceptions.ValidationError:
    return exceptions.ValidationError({"plan": [_("No such plan.")]})


@extend_schema_view(
    list=extend_schema(description="Which plans are given to which collector."),
    create=extend_schema(
        request=AssignSerializer,
        responses={201: AssignmentSerializer(many=True), **ERRORS},
        description="Give open plans to a collector (owners and managers), replacing whoever had them; "
        "`collector: null` takes them from anyone (answers an empty list).",
    ),
)
class AssignmentViewSet(TenantViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Assignment.objects.select_related("collector")
    serializer_class = AssignmentSerializer
    write_permission = Action.COLLECTION_ASSIGN
    filterset_class = AssignmentFilter
    ordering_fields = ["created_at", "updated_at"]
    ordering = ["-updated_at", "id"]

    def create(self, request, *args, **kwargs):
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assigned = plans_assign(
            actor=request.user, plan_ids=body.validated_data["plans"], collector=body.validated_data["collector"]
        )
        data = AssignmentSerializer(assigned, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(description="Calls, visits and messages to customers about overdue plans, latest first."),
    retrieve=extend_schema(responses={200: ContactSerializer, 404: OpenApiResponse(description="No such contact.")}),
    create=extend_schema(request=ContactCreateSerializer, responses={201: ContactSerializer, **ERRORS}),
)
class ContactViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    write_permission = Action.COLLECTION_RECORD
    filterset_class = ContactFilter
    ordering_fields = ["contacted_at"]
    ordering = ["-contacted_at", "id"]

    def create(self, request, *args, **kwargs):
        body = ContactCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            contact = contact_record(actor=request.user, **body.validated_data)
        except InstallmentPlan.DoesNotExist:
            raise _no_such_plan() from None
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(description="Promises to pay, latest first, each found kept or broken from the payments."),
    retrieve=extend_schema(responses={200: PromiseSerializer, 404: OpenApiResponse(description="No such promise.")}),
    create=extend_schema(
        request=PromiseCreateSerializer,
        responses={
            201: PromiseSerializer,
            409: OpenApiResponse(description="The plan is closed: nothing to collect."),
            **ERRORS,
        },
        description="Record a customer's promise to pay (and the contact it was made in). The plan's current "
        "promise, if still open, is replaced.",
    ),
)
class PromiseViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Promise.objects.all()
    serializer_class = PromiseSerializer
    write_permission = Action.COLLECTION_RECORD
    filterset_class = PromiseFilter
    ordering_fields = ["made_at", "promised_on", "amount"]
    ordering = ["-made_at", "id"]

    def get_queryset(self):
        merchant = getattr(self.request.user, "merchant", None)
        # A platform admin (no merchant) reads every merchant's: judged by today in UTC.
        today = merchant_today(merchant) if merchant is not None else timezone.now().date()
        return super().get_queryset().annotate(shown=promise_status_expression(today))

    def create(self, request, *args, **kwargs):
        body = PromiseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            promise = promise_record(actor=request.user, **body.validated_data)
        except InstallmentPlan.DoesNotExist:
            raise _no_such_plan() from None
        promise = self.get_queryset().get(pk=promise.pk)
        return Response(
            PromiseSerializer(promise, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


class FiguresView(APIView):
    """Per collector and ISO week: promises made, kept and broken, amounts promised and recovered, contacts."""

    permission_classes = [permissions.IsAuthenticated, RolePermission]
    read_permission = Action.READ

    @extend_schema(parameters=[FiguresQuerySerializer], responses={200: FiguresSerializer, **ERRORS})
    def get(self, request):
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if request.query_params.get("week", None) == "":
            # A form's empty field reads as absent to DRF; the schema says a week is written out.
            raise exceptions.ValidationError({"week": [_("No such ISO week.")]})
        merchant = request.user.merchant
        if merchant is None:
            raise exceptions.NotFound()
        today = merchant_today(merchant)
        last_week = today
        if "week" in query.validated_data:
            year, week = query.validated_data["week"].split("-W")
            try:
                last_week = date.fromisocalendar(int(year), int(week), 1)
            except ValueError:
                raise exceptions.ValidationError({"week": [_("No such ISO week.")]}) from None
        figures = collector_figures(
            merchant=merchant,
            today=today,
            last_week=last_week,
            weeks=query.validated_data["weeks"],
            collector=query.validated_data.get("collector"),
        )
        context = {"currency": merchant.currency}
        return Response(FiguresSerializer(figures, context=context).data)
