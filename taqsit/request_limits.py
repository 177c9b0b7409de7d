"""Requests refused before any view reads them: a body over the size limit, too many fields, JSON nested too
deep.

Django would raise on the oversized body or the thousand fields wherever they are first read (an HTML 400 logged
at ERROR, even on the API), and Python's JSON decoder recurses once per level (a ``RecursionError``, a 500). All
are the client's mistake: the API answers its JSON 400 naming the problem, a page a plain 400, the log a WARNING.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from itertools import accumulate

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Our deepest body is a plan with items (3 levels); 32 leaves room for any client and none for an attack.
JSON_MAX_DEPTH = 32

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar); brackets inside strings do not
    count. Malformed JSON is measured all the same and left to the parser to refuse."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(0, max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0))


def _is_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type == "application/json" or content_type.endswith("+json")


def too_many_fields_message(exc: TooManyFieldsSent | TooManyFilesSent) -> str:
    if isinstance(exc, TooManyFilesSent):
        return _("The request sends more files than the %(limit)s this server takes.") % {
            "limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    return _("The request sends more fields than the %(limit)s this server takes.") % {
        "limit": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    }


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    logger.warning("request refused: %s %s: %s", request.method, request.path, message)
    if request.path_info.startswith("/api/") or _is_json(request):
        # The API's 400 body for a request it cannot read at all (DRF's ParseError has the same shape).
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


# Where a spreadsheet is uploaded (imports/urls.py, the API's imports route).
IMPORT_PATHS = ("/imports/", "/api/imports/")


class RequestLimitsMiddleware:
    """Refuses a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, more fields than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``
    in the address or a page's form, and JSON nested deeper than ``JSON_MAX_DEPTH``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.content_type == "multipart/form-data":
            # Django's own limit counts no uploaded file: a multipart body may also carry one file as large as the
            # largest the address takes (a spreadsheet to import on the imports' addresses, a proof of payment
            # elsewhere), so that a file over its limit reaches the view and is refused there, naming the field.
            imports = request.path_info.startswith(IMPORT_PATHS)
            limit += settings.IMPORT_MAX_BYTES if imports else settings.PAYMENT_PROOF_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return _refuse(
                request,
                _("The request body is %(length)s bytes; the most this server takes is %(limit)s bytes.")
                % {"length": length, "limit": limit},
            )
        try:
            request.GET  # noqa: B018 (parsed now, where its refusal can be answered)
            if request.method == "POST" and not request.path_info.startswith("/api/"):
                # A page's form; the API parses its own bodies (taqsit/api_errors.py answers the same refusal).
                request.POST  # noqa: B018
        except (TooManyFieldsSent, TooManyFilesSent) as exc:
            return _refuse(request, too_many_fields_message(exc))
        if length and _is_json(request):
            # Read now (within the limit just checked); the view's parser reads the same bytes again. Measured
            # only when it opens enough arrays and objects to be too deep: most bodies open a handful.
            body = request.body
            opened = body.count(b"[") + body.count(b"{")
            depth = json_depth(body.decode("utf-8", errors="replace")) if opened > JSON_MAX_DEPTH else 0
            if depth > JSON_MAX_DEPTH:
                return _refuse(
                    request,
                    _("The JSON body nests arrays and objects %(depth)s levels deep; the most allowed is %(limit)s.")
                    % {"depth": depth, "limit": JSON_MAX_DEPTH},
                )
        return self.get_response(request)
