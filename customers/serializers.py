from rest_framework import serializers

from customers.models import Customer
from taqsit.serializers import StrictModelSerializer


class CustomerSerializer(StrictModelSerializer):
    phone = serializers.CharField(
        max_length=32, help_text="E.164 (+14155550123), or a local number of the merchant's country."
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "national_id",
            "address",
            "language",
            "notes",
            "sms_opt_out",
            "email_opt_out",
            "preferred_channel",
            "origin",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "origin", "created_at", "updated_at"]
        validators = []


class PortalLinkSerializer(serializers.Serializer):
    """A portal link just issued: its address, its token (shown once) and when it expires."""

    url = serializers.CharField(read_only=True, help_text="SITE_URL + /portal/l/<token>/ (relative if unset).")
    token = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
