"""The borrower API's bodies."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.models import Customer
from taqsit.models import Language
from taqsit.serializers import StrictModelSerializer, StrictSerializer


class PortalTokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="A portal_access JWT: send it as Authorization: Bearer <access>.")
    refresh = serializers.CharField(help_text="A portal_refresh JWT, for /api/portal/auth/token/refresh/.")


class PortalLinkLoginSerializer(StrictSerializer):
    token = serializers.CharField(max_length=300, help_text="The token of a portal link (after /portal/l/).")


class PortalRefreshSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=1000)


class PortalMeSerializer(StrictModelSerializer):
    merchant_name = serializers.CharField(source="merchant.name", read_only=True)
    currency = serializers.CharField(source="merchant.currency", read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "phone", "email", "language", "merchant", "merchant_name", "currency"]
        read_only_fields = ["id", "name", "phone", "email", "merchant"]


class PortalDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class _DestinationMixin:
    """A ``phone`` or an ``email`` (one of them): read as ``destination``."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        phone, email = attrs.pop("phone", ""), attrs.pop("email", "")
        if bool(phone) == bool(email):
            raise serializers.ValidationError({"phone": [_("Give a phone number or an e-mail address (one of them).")]})
        attrs["destination"] = phone or email
        return attrs


class PortalCodeRequestSerializer(_DestinationMixin, StrictSerializer):
    merchant = serializers.UUIDField(help_text="The shop's id (its portal's address is /portal/m/<merchant>/).")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class PortalCodeTokenSerializer(_DestinationMixin, StrictSerializer):
    merchant = serializers.UUIDField()
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    code = serializers.CharField(max_length=6, min_length=6)
    register = serializers.BooleanField(
        default=False, help_text="True to finish a self-registration (auth/register/) with its code."
    )


class PortalRegisterSerializer(StrictSerializer):
    merchant = serializers.UUIDField()
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    national_id = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        help_text="The language of the code and the portal; the shop's if left out.",
    )
