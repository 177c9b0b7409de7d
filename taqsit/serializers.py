"""Serializer pieces every app's API uses: money as a decimal string in the merchant's currency."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from taqsit.models import Language, Merchant, User
from taqsit.money import DECIMAL_PLACES, MAX_DIGITS, to_money


class MoneyField(serializers.DecimalField):
    """A decimal string, rounded for output to the currency's minor unit ("200.00" in USD, "200.000" in KWD).

    Input is parsed as a Decimal with up to three places; the service refuses places the currency lacks.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        currency = self.context.get("currency") if hasattr(self, "context") else None
        if currency:
            return str(to_money(Decimal(value), currency))
        return super().to_representation(value)


class MerchantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Merchant
        fields = [
            "id",
            "name",
            "currency",
            "timezone",
            "language",
            "country",
            "reminder_days_before",
            "grace_days",
            "late_fee_method",
            "late_fee_amount",
            "late_fee_percent",
            "late_fee_cap",
            "default_after_days",
            "requires_approval",
        ]
        read_only_fields = ["id"]

    def to_representation(self, instance: Merchant) -> dict:
        data = super().to_representation(instance)
        for name in ("late_fee_amount", "late_fee_cap"):
            value = getattr(instance, name)
            data[name] = None if value is None else str(to_money(value, instance.currency))
        return data


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=True, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["id", "username", "email", "password", "role", "first_name", "last_name", "is_active", "date_joined"]
        read_only_fields = ["id", "date_joined"]
        # DESIGN.md: staff are created with a username, an e-mail, a password and a role (the model has defaults).
        extra_kwargs = {
            "username": {"validators": []},
            "email": {"required": True, "allow_blank": False},
            "role": {"required": True},
        }


class UserUpdateSerializer(UserSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})

    class Meta(UserSerializer.Meta):
        read_only_fields = ["id", "date_joined", "username"]


class MeSerializer(serializers.ModelSerializer):
    merchant = MerchantSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "merchant", "is_superuser"]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    merchant_name = serializers.CharField(max_length=200)
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    currency = serializers.CharField(max_length=3, required=False, default="USD")
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")
    language = serializers.ChoiceField(choices=Language.choices, required=False, default="en")
    country = serializers.CharField(max_length=2, required=False, default="US")


class RegisterResponseSerializer(serializers.Serializer):
    """What register answers: the new owner (with the merchant) and a token pair."""

    user = MeSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
