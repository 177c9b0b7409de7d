"""A database that cannot be reached is an outage, not a bug: every request then answers 503 Service Unavailable
with ``Retry-After``, at once, instead of a 500.

PostgreSQL stopped, restarting, or a connection cut mid-transaction: Django raises ``OperationalError`` or
``InterfaceError`` wherever the first query happens (a middleware loading the session user, a view, DRF's
authentication). The API's exception handler turns the ones raised in its views into a 503 (taqsit/api_errors.py);
``server_error``, the project's handler500, catches the rest. The transaction the error interrupted is rolled
back by PostgreSQL, so nothing half-written stays (tests/resilience/test_postgres_restart.py).
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

DATABASE_ERRORS = (OperationalError, InterfaceError)
# Seconds a client should wait before retrying: a restart of PostgreSQL takes a few.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The database is unavailable; try again in a moment."


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 with Retry-After (JSON for the API, a page otherwise) when the database is out of reach,
    else Django's own 500 page. The 503 page is rendered without the request: its context processors would query
    the database again."""
    if not isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
