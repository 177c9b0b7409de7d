"""The signed-in user's in-app notifications: ``GET /api/notifications/`` (``?unread=true``) and
``POST /api/notifications/{id}/read/``. Another user's notification is a 404."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from notifications.models import Notification
from notifications.selectors import notification_list
from notifications.serializers import NotificationSerializer
from notifications.services import notification_mark_read
from taqsit.serializers import NoBodySerializer

UNREAD_PARAMETER = OpenApiParameter(
    "unread", OpenApiTypes.BOOL, description="true: only unread; false: only read. Default: all."
)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    queryset = Notification.objects.none()  # the schema's model; requests use get_queryset()
    filter_backends: list = []

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "").strip().lower()
        choice = {"true": True, "1": True, "false": False, "0": False}.get(unread)
        if unread and choice is None:
            raise ValidationError({"unread": [_("Must be true or false.")]})
        return notification_list(user=self.request.user, unread=choice)

    @extend_schema(parameters=[UNREAD_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        notification = notification_mark_read(user=request.user, notification=self.get_object())
        return Response(NotificationSerializer(notification, context=self.get_serializer_context()).data)
