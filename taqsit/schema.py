"""OpenAPI: every operation documents the errors the API answers with, not only its success.

drf-spectacular documents the success response of an operation (and whatever ``@extend_schema`` adds); the
errors every integrator meets (DESIGN.md, "The REST API": a 400 naming each bad field, 401 without a valid token,
403 for a role, 404 for another merchant's object or a page past the end, 409 for a state conflict, 415 for a body
in no accepted media type, 429 when throttled) are added here once, with DRF's error body, instead of on each view.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from taqsit.exports import ExportNegotiation

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
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


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
        parameters = self._nested_filter_parameters()
        if getattr(self.view, "content_negotiation_class", None) is not ExportNegotiation:
            return parameters
        # An export (taqsit.exports) reads an empty value (``?plan=``, as a link or a spreadsheet sends it) as
        # no filter, as django-filter does: say so.
        return [{**parameter, "allowEmptyValue": True} for parameter in parameters]

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

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            declared = responses.get(code)
            if declared is None or "content" not in declared:
                description = (declared or {}).get("description") or ERROR_DESCRIPTIONS[code]
                error = OpenApiResponse(response=OpenApiTypes.OBJECT, description=description)
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        for code, declared in list(responses.items()):
            if code in ERROR_DESCRIPTIONS and "content" not in declared:
                error = OpenApiResponse(response=OpenApiTypes.OBJECT, description=declared.get("description", ""))
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        return responses
