"""The borrower API's bodies."""

from __future__ import annotations

from rest_framework import serializers

from customers.models import Customer
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
