"""Serializer pieces every app's API uses: money as a decimal string in the merchant's currency, numbers read
strictly, and bodies whose every field is one the endpoint takes.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping
from decimal import Decimal

from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from taqsit.authentication import RevocableTokenRefreshSerializer
from taqsit.models import Language, Merchant, User
from taqsit.money import DECIMAL_PLACES, MAX_DIGITS, to_money

# Plain digits with an optional point and more digits: what every client library writes for a Decimal. Python's
# Decimal() and int() also take exponents ("1e2"), underscores ("1_000"), signs, spaces, other scripts' digits
# ("١٢"), NaN and Infinity; an amount in any of those is more likely a mistake than meant.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
_INTEGER_TEXT = re.compile(r"-?[0-9]+\Z")


def _plain_number_text(data, pattern: re.Pattern) -> str | None:
    """The text of a JSON number or string if it is written plainly, else None. A JSON number arrives as int or
    float: its shortest repr is what the client wrote (an exponent stays visible as one, and is refused)."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        return str(data)
    if isinstance(data, float | Decimal):
        text = repr(data) if isinstance(data, float) else str(data)
    elif isinstance(data, str):
        text = data
    else:
        return None
    return text if pattern.match(text) else None


class StrictDecimalField(serializers.DecimalField):
    """A decimal read strictly: "1200.50" or 1200.5, never "1e2", "1_000", " 12", "+12", "١٢", "NaN"."""

    default_error_messages = {
        "invalid": _("Enter a decimal number such as 1200.50, without exponent, spaces or separators."),
    }

    def to_internal_value(self, data):
        text = _plain_number_text(data, _DECIMAL_TEXT)
        if text is None:
            self.fail("invalid")
        return super().to_internal_value(text)


class StrictIntegerField(serializers.IntegerField):
    """A whole number read strictly: 12 or "12", never "1_000", " 12", "+12", "١٢" or "12.0"."""

    default_error_messages = {"invalid": _("Enter a whole number such as 12.")}

    def to_internal_value(self, data):
        text = _plain_number_text(data, _INTEGER_TEXT)
        if text is None:
            self.fail("invalid")
        return super().to_internal_value(text)


class MoneyField(StrictDecimalField):
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


# Keys a browser's form adds to a body that are not the endpoint's fields (the browsable API's forms).
_FORM_KEYS = frozenset({"csrfmiddlewaretoken"})
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _field_suggestion(key: str, names: list[str]) -> str | None:
    """The field a mistyped key most likely meant: its snake_case spelling, else the closest name."""
    snake = _CAMEL_HUMP.sub("_", key).lower()
    if snake in names:
        return snake
    matches = difflib.get_close_matches(snake, names, n=1) or difflib.get_close_matches(key, names, n=1)
    return matches[0] if matches else None


class StrictFieldsMixin:
    """Refuses, instead of ignoring, a body field the serializer does not take (``{"totalAmount": ["Unknown
    field. Did you mean total_amount?"]}``) or does not change ("This field is read-only."); nested serializers
    that use it check their own keys (a plan's items)."""

    # Fields of the object this serializer does not change: read-only here, not unknown.
    read_only_names: tuple[str, ...] = ()

    def to_internal_value(self, data):
        refused = self.fields_refused(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from exc
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value

    def fields_refused(self, data: Mapping) -> dict[str, list[str]]:
        writable = [name for name, field in self.fields.items() if not field.read_only]
        refused = {}
        for key in data:
            # A form (multipart, the browsable API) names a list's entries "items[0]unit_price".
            name = re.split(r"[\[.]", key, maxsplit=1)[0] if isinstance(data, QueryDict) else key
            if name in writable or name in _FORM_KEYS:
                continue
            if name in self.read_only_names or (
                name in self.fields and not isinstance(self.fields[name], serializers.HiddenField)
            ):
                refused[key] = [str(_("This field is read-only."))]
                continue
            suggestion = _field_suggestion(str(key), writable)
            if suggestion:
                refused[key] = [str(_("Unknown field. Did you mean %(name)s?") % {"name": suggestion})]
            else:
                refused[key] = [str(_("Unknown field."))]
        return refused


def _field_copy(field: serializers.Field) -> serializers.Field:
    """A copy of an unbound prototype field for one serializer to bind: its own object (``bind`` sets its name
    and parent on it), sharing the prototype's arguments and validators, which serialising only reads. DRF's
    deep copy builds every field again from its arguments, validators included: most of the cost of an answer's
    fields. A nested serializer gets its own copy of its child, bound to it."""
    clone = copy.copy(field)
    if isinstance(field, serializers.ListSerializer):
        clone.child = _field_copy(field.child)  # bound to the list already (name "", no source): re-parented
        clone.child.parent = clone
    elif isinstance(field, serializers.BaseSerializer):
        clone.__dict__.pop("fields", None)  # its own fields, built when first read
    return clone


class ModelFieldsOnceMixin:
    """For a read-only ModelSerializer whose fields never depend on the instance, the request or the context:
    ModelSerializer works its fields out from the model on every instance (a few milliseconds of introspection
    for a payment and its allocations, on every answer); here once per class, each instance getting shallow
    copies of them (``_field_copy``) to bind."""

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = super().get_fields()
            cls._fields_prototype = prototype
        return {name: _field_copy(field) for name, field in prototype.items()}


class DeclaredFieldsOnceMixin:
    """For a request serializer whose declared fields nothing changes per request (no queryset or choices set in
    ``__init__``): shallow copies of them (``_field_copy``) to bind, instead of DRF's deep copy, which builds every
    field again from its arguments on every request (the counter's payment, once a request)."""

    def get_fields(self):
        return {name: _field_copy(field) for name, field in self._declared_fields.items()}


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """The base of every serializer that reads a request body."""


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """The base of every model serializer that reads a request body: its generated number fields read strictly."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: StrictDecimalField,
        models.IntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
    }


class MerchantSerializer(StrictModelSerializer):
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
            # Issue 15: guarantors.
            "guarantor_required_above",
            "guarantor_copy_after_days",
            "portal_enabled",
            "portal_self_registration",
            "portal_transfer_reports",
            # Issue 15: murabaha terms and early settlement.
            "sale_terms",
            "late_fee_booking",
            "early_settlement_rebate",
            # The contract (issue 15): {"en": "...", "ar": "...", "es": "..."}.
            "contract_clauses",
        ]
        read_only_fields = ["id"]

    def to_representation(self, instance: Merchant) -> dict:
        data = super().to_representation(instance)
        for name in ("late_fee_amount", "late_fee_cap", "guarantor_required_above"):
            value = getattr(instance, name)
            data[name] = None if value is None else str(to_money(value, instance.currency))
        return data


class UserSerializer(StrictModelSerializer):
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


class RegisterSerializer(StrictSerializer):
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


class LogoutSerializer(StrictSerializer):
    refresh = serializers.CharField()


class NoBodySerializer(StrictSerializer):
    """The body of an action that takes none: any field in it is unknown, not silently ignored."""


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


@extend_schema_serializer(component_name="TokenObtainPair")  # the name integrators' generated clients know
class TokenObtainSerializer(StrictFieldsMixin, TokenObtainPairSerializer):
    """simplejwt's, with a username no longer than an account's: a longer one is a 400 before it is looked up
    (the log-in lockout would otherwise try to record it)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = serializers.CharField(
            write_only=True, max_length=User._meta.get_field(self.username_field).max_length
        )


@extend_schema_serializer(component_name="TokenRefresh")
class TokenRefreshRotateSerializer(StrictFieldsMixin, RevocableTokenRefreshSerializer):
    """The refresh body read strictly; refused once the user's password has changed."""
