"""One error format for the whole API: DRF's field-error body, whatever raised.

A service's Django ``ValidationError`` becomes a 400 naming each bad field (a 422 for a reused idempotency
key, a 409 when the object's state forbids the request); ``PermissionDenied`` a 403; another merchant's
object (``DoesNotExist``) a 404; a constraint the database enforced last a 409. Never a 500 for input. A
database out of reach is a 503 with Retry-After (taqsit/errors.py).
"""

from __future__ import annotations

import logging

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from taqsit.error_codes import CONFLICT_CODES, UNPROCESSABLE_CODES
from taqsit.errors import DATABASE_ERRORS, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE
from taqsit.request_limits import too_many_fields_message

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = UNAVAILABLE_MESSAGE
    default_code = "database_unavailable"
    wait = RETRY_AFTER_SECONDS  # DRF's handler sends it as Retry-After


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def validation_detail(exc: DjangoValidationError) -> dict:
    """Django's ValidationError as DRF's body (DRF's own ``as_serializer_error``): {field: [messages]} with each
    message's code, Django's non-field errors under DRF's key."""
    detail = as_serializer_error(exc)
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value for key, value in detail.items()
    }


def translate(exc: Exception) -> Exception:
    """Map domain exceptions to DRF's; leave everything else as it is."""
    if isinstance(exc, DjangoValidationError):
        detail = validation_detail(exc)
        codes = {getattr(message, "code", None) for messages in detail.values() for message in messages}
        if codes & UNPROCESSABLE_CODES:
            return Unprocessable(detail)
        if codes & CONFLICT_CODES:
            return Conflict(detail)
        return exceptions.ValidationError(detail)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        # A form body the API's own parser read (PUT, PATCH): the same refusal as the middleware's, as JSON.
        logger.warning("request refused: %s", exc)
        return exceptions.ParseError(too_many_fields_message(exc))
    if isinstance(exc, RequestDataTooBig):
        logger.warning("request refused: %s", exc)
        return exceptions.ParseError(str(exc))
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return exceptions.NotFound()
    if isinstance(exc, DATABASE_ERRORS):
        logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        return DatabaseUnavailable()
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error surfaced to the API: %s", exc)
        return Conflict(
            {api_settings.NON_FIELD_ERRORS_KEY: ["The change conflicts with existing data; reload and retry."]}
        )
    return exc


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    exc = translate(exc)
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        # A 400 body is always an object: errors that name no field go under DRF's non-field key.
        exc.detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
    return exception_handler(exc, context)
