"""Customers over the API: CRUD (no delete: a customer's history stays). Their plans and payments
(``/customers/{id}/plans/``, ``/customers/{id}/payments/``) are served by installments and payments."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from customers.filters import CustomerFilter
from customers.models import Customer
from customers.serializers import CustomerSerializer
from customers.services import customer_create, customer_update
from taqsit.api import TenantViewSetMixin
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
