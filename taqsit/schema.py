"""OpenAPI: every operation documents the errors the API answers with, not only its success.

drf-spectacular documents the success response of an operation (and whatever ``@extend_schema`` adds); the
errors every integrator meets (DESIGN.md, "The REST API": a 400 naming each bad field, 401 without a valid token,
403 for a role, 404 for another merchant's object or a page past the end, 409 for a state conflict, 415 for a body
in no accepted media type, 429 when throttled) are added here once, with DRF's error body, instead of on each view.
"""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import (
    TokenObtainPairSerializerExtension,
    TokenRefreshSerializerExtension,
)
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings

from taqsit.idempotency import HEADER as IDEMPOTENCY_HEADER
from taqsit.idempotency import REPLAY_HEADER

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: {field: [messages]} naming each bad field or filter.",
    "401": "No valid token (or, for token endpoints, bad credentials).",
    "403": "Your role does not allow this.",
    "404": "No such object for your merchant, or no such page.",
    "409": "The object's state forbids this (e.g. it has payments, or is not pending).",
    "415": "The request body is not JSON, form data or multipart.",
    "422": "The Idempotency-Key was already used with another request body.",
    "429": "Too many requests: retry after the Retry-After header's seconds.",
}
# Bodies that name fields (a 400, and a 409 or 422 raised by a service's validation) or carry one message.
FIELD_ERROR_CODES = frozenset({"400", "409", "422"})


class ErrorSerializer(serializers.Serializer):
    """An error with one message (401, 403, 404, 415, 429, 503)."""

    detail = serializers.CharField(help_text="What went wrong, in the request's language.")


class FieldErrorsSerializer(serializers.Serializer):
    """An error naming each bad field: ``{"field": ["message", ...]}``; errors of no one field under
    ``non_field_errors``; a nested field (``items``) has a list with one such object per item."""

    detail = serializers.CharField(required=False, help_text="One message, when the error names no field.")
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class FieldErrorsExtension(OpenApiSerializerExtension):
    """Any field name may appear: ``additionalProperties``, each a list of messages or, for a list of objects,
    their errors by position."""

    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["properties"][api_settings.NON_FIELD_ERRORS_KEY]["description"] = "Errors that name no one field."
        schema["additionalProperties"] = {
            "oneOf": [
                {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}},
                {"type": "object", "description": 'Errors of a list\'s items, by position: {"0": {field: [...]}}.'},
            ],
            "description": "The messages for this field; for a list of objects, errors by position.",
        }
        return schema


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class TokenObtainExtension(TokenObtainPairSerializerExtension):
    """The token endpoint's strict serializer documented as simplejwt's (username and password in; access and
    refresh out): drf-spectacular's own extension matches simplejwt's class only, not a subclass."""

    target_class = "taqsit.serializers.TokenObtainSerializer"


class TokenRefreshExtension(TokenRefreshSerializerExtension):
    """The refresh endpoint's strict, revocation-aware serializer documented as simplejwt's (rotated)."""

    target_class = "taqsit.serializers.TokenRefreshRotateSerializer"


class AutoSchema(SpectacularAutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "429"]
        if not any(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes.append("403")
        if "{" in self.path or (self.method == "GET" and self._is_list_view()):
            codes.append("404")
        if self.method in UNSAFE_METHODS:
            codes.append("409")
        if self.method in BODY_METHODS:
            codes.append("415")
        return codes

    def _get_filter_parameters(self):
        # A list or an export reads an empty value (``?plan=``, as a form, a link or a spreadsheet sends it) as no
        # filter, as django-filter does: say so.
        return [{**parameter, "allowEmptyValue": True} for parameter in self._nested_filter_parameters()]

    def _nested_filter_parameters(self):
        """A nested list (``/customers/{id}/plans/``, taqsit.api.nested_list_options) filters its rows, not the
        route's object: drf-spectacular reads the filters' field types from the view's model, so show it theirs."""
        filterset_class = getattr(self.view, "filterset_class", None)
        view_queryset = getattr(self.view, "queryset", None)
        rows = getattr(getattr(filterset_class, "_meta", None), "model", None)
        if rows is None or view_queryset is None or view_queryset.model is rows:
            return super()._get_filter_parameters()
        self.view.queryset = rows._default_manager.none()
        try:
            return super()._get_filter_parameters()
        finally:
            del self.view.queryset

    def _error_response(self, code: str, description: str, direction: str) -> dict:
        body = FieldErrorsSerializer if code in FIELD_ERROR_CODES else ErrorSerializer
        error = OpenApiResponse(response=body, description=description)
        return self._get_response_for_code(error, code, direction=direction)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            declared = responses.get(code)
            if declared is None or "content" not in declared:
                description = (declared or {}).get("description") or ERROR_DESCRIPTIONS[code]
                responses[code] = self._error_response(code, description, direction)
        for code, declared in list(responses.items()):
            if code in ERROR_DESCRIPTIONS and "content" not in declared:
                responses[code] = self._error_response(code, declared.get("description", ""), direction)
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        """An operation taking an ``Idempotency-Key`` says in each success whether it was a replay."""
        headers = super()._get_response_headers_for_code(status_code, direction)
        takes_key = any(
            getattr(parameter, "name", None) == IDEMPOTENCY_HEADER for parameter in self.get_override_parameters()
        )
        if takes_key and str(status_code).startswith("2"):
            headers[REPLAY_HEADER] = {
                "schema": {"type": "string", "enum": ["true", "false"]},
                "description": "true: this answer replays the first one given for this Idempotency-Key (nothing new "
                "was recorded); false: the request was carried out now. Absent when no key was sent.",
            }
        return headers
