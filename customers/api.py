"""Customers over the API: CRUD (no delete: a customer's history stays). Their plans and payments
(``/customers/{id}/plans/``, ``/customers/{id}/payments/``) are served by installments and payments."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.filters import CustomerFilter
from customers.models import Customer
from customers.portal_links import portal_link_issue, portal_links_revoke
from customers.serializers import CustomerSerializer, PortalLinkSerializer
from customers.services import customer_create, customer_update
from taqsit.api import TenantViewSetMixin
from taqsit.permissions import Action
from taqsit.serializers import NoBodySerializer


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

    # Any member of staff may give a customer a portal link, or revoke them all (the role table's READ).
    action_permissions = {"portal_link": Action.READ}

    @extend_schema(
        methods=["POST"],
        request=None,
        responses={
            201: PortalLinkSerializer,
            409: OpenApiResponse(description="The merchant's customer portal is turned off"),
        },
        description="A new personal link into the customer portal, open for PORTAL_LINK_DAYS. The token is shown "
        "once: only its hash is kept.",
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={204: None},
        description="Revoke every live portal link of the customer, and end the portal sessions and tokens "
        "obtained through them.",
    )
    @action(detail=True, methods=["post", "delete"], url_path="portal-link", serializer_class=serializers.Serializer)
    def portal_link(self, request, pk=None):
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        customer = self.get_object()
        if request.method == "DELETE":
            portal_links_revoke(customer=customer, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        issued = portal_link_issue(customer=customer, actor=request.user)
        return Response(PortalLinkSerializer(issued).data, status=status.HTTP_201_CREATED)

    def perform_create(self, serializer) -> None:
        serializer.instance = customer_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = customer_update(
            actor=self.request.user, customer=serializer.instance, **serializer.validated_data
        )
