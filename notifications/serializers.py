from drf_spectacular.utils import extend_schema_field
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


@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "21:00"})
class LocalTimeField(serializers.TimeField):
    """A time of day on the merchant's clock, "HH:MM": not an instant, so without an offset."""

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class NotificationSettingsSerializer(StrictModelSerializer):
    """The merchant's channels and notification policy (``phone_channel``: which of WhatsApp and SMS a customer's
    phone gets when the customer chose none and the merchant uses both)."""

    quiet_hours_start = LocalTimeField(
        allow_null=True, required=False, help_text="In the merchant's time zone; null with quiet_hours_end: none."
    )
    quiet_hours_end = LocalTimeField(allow_null=True, required=False)

    class Meta:
        model = NotificationSettings
        fields = list(SETTINGS_FIELDS)
