"""The owner's webhooks: ``/api/webhooks/`` (endpoints: CRUD, ``rotate-secret``) and ``/api/webhooks/deliveries/``
(each delivery with its attempts; ``redeliver`` sends one again). Owner only; another merchant's is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from installments.api import ERRORS
from taqsit.api import TenantViewSetMixin
from taqsit.permissions import Action
from taqsit.serializers import NoBodySerializer
from webhooks.filters import DeliveryFilter
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import delivery_list, endpoint_list
from webhooks.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)
from webhooks.services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_secret_rotate,
    endpoint_update,
)


@extend_schema_view(
    create=extend_schema(
        request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointSecretSerializer, **ERRORS}
    ),
    update=extend_schema(request=WebhookEndpointInputSerializer, responses={200: WebhookEndpointSerializer, **ERRORS}),
    partial_update=extend_schema(
        request=WebhookEndpointUpdateSerializer, responses={200: WebhookEndpointSerializer, **ERRORS}
    ),
    destroy=extend_schema(responses={204: None, **ERRORS}),
)
class WebhookEndpointViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The merchant's webhook endpoints. The secret is in the answer of create and rotate-secret only."""

    queryset = WebhookEndpoint.objects.order_by("created_at", "pk")
    serializer_class = WebhookEndpointSerializer
    read_permission = Action.STAFF_MANAGE
    write_permission = Action.STAFF_MANAGE
    filterset_fields = ["is_active"]
    search_fields = ["url", "description"]
    ordering_fields = ["created_at", "url"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return endpoint_list(merchant=getattr(self.request.user, "merchant", None))

    def create(self, request, *args, **kwargs):
        """Register an endpoint; the answer carries its secret, shown only this once."""
        serializer = WebhookEndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_create(actor=request.user, **serializer.validated_data)
        return Response(WebhookEndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        endpoint = self.get_object()
        input_class = WebhookEndpointUpdateSerializer if partial else WebhookEndpointInputSerializer
        serializer = input_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_update(actor=request.user, endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def perform_destroy(self, instance) -> None:
        endpoint_delete(actor=self.request.user, endpoint=instance)

    @extend_schema(request=None, responses={200: WebhookEndpointSecretSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret, shown only this once; deliveries are signed with it from now on."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        endpoint = endpoint_secret_rotate(actor=request.user, endpoint=self.get_object())
        return Response(WebhookEndpointSecretSerializer(endpoint).data)


class WebhookDeliveryViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Deliveries, newest first, each with its event's body and every attempt (time, answer code, duration, error,
    the answer's first bytes). Filter with ``?endpoint=`` and ``?status=``."""

    queryset = WebhookDelivery.objects.order_by("-sequence")
    serializer_class = WebhookDeliverySerializer
    read_permission = Action.STAFF_MANAGE
    write_permission = Action.STAFF_MANAGE
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return delivery_list(merchant=getattr(self.request.user, "merchant", None))

    @extend_schema(request=None, responses={200: WebhookDeliverySerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send the delivery again ("send again"): pending, due now, with a fresh day of retries."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        delivery = delivery_redeliver(actor=request.user, delivery=self.get_object())
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data)
