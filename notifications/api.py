"""The signed-in user's in-app notifications: ``GET /api/notifications/`` (``?unread=true``) and
``POST /api/notifications/{id}/read/``. Another user's notification is a 404. The merchant's channels and policy:
``GET``/``PATCH /api/notification-settings/`` (everyone reads; the owner changes)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications.filters import NotificationFilter
from notifications.models import Notification
from notifications.selectors import notification_list, notification_settings_get
from notifications.serializers import NotificationSerializer, NotificationSettingsSerializer
from notifications.services import notification_mark_read, notification_settings_update
from taqsit.api import MerchantSettingsView
from taqsit.filters import FilterBackend
from taqsit.serializers import NoBodySerializer


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    queryset = Notification.objects.none()  # the schema's model; requests use get_queryset()
    filter_backends = [FilterBackend]
    filterset_class = NotificationFilter

    def get_queryset(self):
        return notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        notification = notification_mark_read(user=request.user, notification=self.get_object())
        return Response(NotificationSerializer(notification, context=self.get_serializer_context()).data)


class NotificationSettingsView(MerchantSettingsView):
    """The merchant's messages to customers: the channels (SMS, WhatsApp, e-mail), which of WhatsApp and SMS a
    phone gets by default, receipts, the staff digest, quiet hours and overdue alert days."""

    @extend_schema(responses=NotificationSettingsSerializer)
    def get(self, request):
        policy = notification_settings_get(merchant=self._merchant(request))
        return Response(NotificationSettingsSerializer(policy).data)

    @extend_schema(request=NotificationSettingsSerializer, responses=NotificationSettingsSerializer)
    def patch(self, request):
        merchant = self._merchant(request)
        serializer = NotificationSettingsSerializer(
            notification_settings_get(merchant=merchant), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        policy = notification_settings_update(actor=request.user, merchant=merchant, **serializer.validated_data)
        return Response(NotificationSettingsSerializer(policy).data)
