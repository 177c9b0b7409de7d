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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []
