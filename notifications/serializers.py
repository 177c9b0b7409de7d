from rest_framework import serializers

from notifications.models import Notification, NotificationSettings
from notifications.services import SETTINGS_FIELDS
from taqsit.serializers import StrictModelSerializer


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "channel", "day", "subject", "body", "is_read", "read_at", "created_at"]
        read_only_fields = fields

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationSettingsSerializer(StrictModelSerializer):
    """The merchant's channels and notification policy (``phone_channel``: which of WhatsApp and SMS a customer's
    phone gets when the customer chose none and the merchant uses both)."""

    class Meta:
        model = NotificationSettings
        fields = list(SETTINGS_FIELDS)
