"""Customers over the API: CRUD (no delete: a customer's history stays) and their plans and payments."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from customers.filters import CustomerFilter
from customers.models import Customer
from customers.serializers import CustomerSerializer
from customers.services import customer_create, customer_update
from installments.api import PlanViewSet
from installments.selectors import overdue_cutoff, plan_list
from installments.serializers import PlanSerializer
from payments.api import PaymentViewSet
from payments.selectors import payment_list
from payments.serializers import PaymentSerializer
from taqsit.api import TenantViewSetMixin, nested_list_options
from taqsit.permissions import Action


class CustomerViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    write_permission = Action.CUSTOMER_WRITE
    filterset_class = CustomerFilter
    search_fields = ["name", "phone", "national_id", "email"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = customer_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = customer_update(
            actor=self.request.user, customer=serializer.instance, **serializer.validated_data
        )

    @extend_schema(responses=PlanSerializer(many=True))
    @action(detail=True, methods=["get"], **nested_list_options(PlanViewSet))
    def plans(self, request, pk=None):
        """The customer's plans, with the filters, search and ordering of the plan list."""
        customer = self.get_parent()
        queryset = plan_list(merchant=customer.merchant, customer=customer).prefetch_related(
            "items", PlanViewSet.installments_prefetch
        )
        context = {"overdue_cutoff": overdue_cutoff(customer.merchant)}
        return self.nested_list_response(queryset, PlanSerializer, context)

    @extend_schema(responses=PaymentSerializer(many=True))
    @action(detail=True, methods=["get"], **nested_list_options(PaymentViewSet))
    def payments(self, request, pk=None):
        """The customer's payments, with the filters, search and ordering of the payment list."""
        customer = self.get_parent()
        return self.nested_list_response(payment_list(merchant=customer.merchant, customer=customer), PaymentSerializer)
