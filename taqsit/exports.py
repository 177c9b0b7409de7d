"""CSV exports, streamed: the pages and the API write plans, payments and installments the same way.

A header row, then one line per row of a queryset read with ``iterator(chunk_size=...)`` (one server-side
cursor: the query count stays constant and memory flat whatever the number of rows), after a UTF-8 byte order
mark: without it Excel reads the file in the machine's code page and garbles Arabic names. Money is written plainly
in the currency's unit ("1200.50", no symbol, no grouping) next to a ``currency`` column; dates are ISO 8601.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation

from taqsit.replicas import replica_streamed

CHUNK_SIZE = 500
CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"


def csv_text(value: str | None) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) is written as text."""
    value = value or ""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer inside a streamed response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def csv_stream(
    queryset: QuerySet, *, header: Sequence[str], row: Callable[[Any], Sequence[Any]], filename: str
) -> StreamingHttpResponse:
    """A streamed CSV download of ``queryset``, one line per object written by ``row``."""
    rows = (row(obj) for obj in queryset.iterator(chunk_size=CHUNK_SIZE))
    # Read from a read replica when there is one the request may read (taqsit/replicas.py): an export tolerates
    # a few seconds of lag, and is the longest read there is.
    response = StreamingHttpResponse(replica_streamed(csv_lines(header, rows)), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ExportNegotiation(DefaultContentNegotiation):
    """An export answers CSV whatever the request's Accept header or ``?format=`` say (its streamed response
    bypasses DRF's renderers); an error (a bad filter) is the API's usual JSON body."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# The API's ``export/`` actions: ``@action(..., **EXPORT_ACTION)`` under ``@export_schema(...)``.
EXPORT_ACTION = {"detail": False, "methods": ["get"], "content_negotiation_class": ExportNegotiation}


def export_merchant(request):
    """The request's merchant; a platform admin has none, so has nothing of its own to export (a 404)."""
    if request.user.merchant is None:
        raise NotFound("Platform admins have no merchant: exports are per merchant.")
    return request.user.merchant


def export_schema(what: str):
    """``@extend_schema`` of an ``export/`` action: the list's filters, a CSV body."""
    return extend_schema(
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=f"{what} as CSV (a header row; money in the currency's unit with a currency column), "
                "streamed, with the list's filters, search and ordering and no pagination.",
            ),
            404: OpenApiResponse(description="A platform admin has no merchant."),
        },
    )
