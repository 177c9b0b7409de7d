"""``Idempotency-Key`` for API writes: the same key and body replay the first answer; another body is a 422.

The record is inserted in the same transaction as the write it guards. A concurrent request with the same key
blocks on the unique index until the first commits, then replays its answer: never a second payment. A request
that fails rolls back its record too, so it can be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from taqsit.atomic import all_or_nothing
from taqsit.error_codes import ErrorCode
from taqsit.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# The header as the OpenAPI schema documents it, on every operation that honours it.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description="Repeat a request safely: the same key and body replay the first answer (header "
    "Idempotent-Replayed: true); the same key with another body is a 422.",
)


def request_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotency_key_from(request: Request) -> str | None:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        message = _("The %(header)s header is longer than %(limit)s characters.") % {
            "header": HEADER,
            "limit": MAX_KEY_LENGTH,
        }
        raise ValidationError({"idempotency_key": message})
    return key


_CLAIM_SQL = """
INSERT INTO {table} (merchant_id, scope, key, fingerprint, user_id, created_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (merchant_id, scope, key) DO NOTHING
RETURNING id
"""


def _claim(request: Request, *, merchant, scope: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Insert the key's record and return it; None when the key is already recorded. One statement: a concurrent
    twin's INSERT waits on the unique index until the first transaction ends, then finds the key taken (or, if
    the first rolled back, takes it)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL.format(table=connection.ops.quote_name(IdempotencyRecord._meta.db_table)),
            [merchant.pk, scope, key, fingerprint, request.user.pk, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return IdempotencyRecord(
        id=row[0], merchant=merchant, scope=scope, key=key, fingerprint=fingerprint, user=request.user, created_at=now
    )


def idempotent(request: Request, *, scope: str, handler: Callable[[str | None], Response]) -> Response:
    """Run ``handler(key)`` once per (merchant, scope, key); repeats get the stored answer."""
    key = idempotency_key_from(request)
    merchant = request.user.merchant
    if key is None or merchant is None:
        return handler(key)
    fingerprint = request_fingerprint(request)
    # All or nothing: whatever fails rolls the whole request back, the key's record with it (taqsit/atomic.py).
    with transaction.atomic(), all_or_nothing():
        return _claimed_or_replayed(
            request, merchant=merchant, scope=scope, key=key, fingerprint=fingerprint, handler=handler
        )


def _claimed_or_replayed(
    request: Request, *, merchant, scope: str, key: str, fingerprint: str, handler: Callable[[str | None], Response]
) -> Response:
    record = _claim(request, merchant=merchant, scope=scope, key=key, fingerprint=fingerprint)
    if record is None:
        first = IdempotencyRecord.objects.get(merchant=merchant, scope=scope, key=key)
        if first.fingerprint != fingerprint:
            message = _("The %(header)s %(key)s was already used with a different request.") % {
                "header": HEADER,
                "key": repr(key),
            }
            raise ValidationError({"idempotency_key": ValidationError(message, code=ErrorCode.IDEMPOTENCY_MISMATCH)})
        response = Response(first.response_body, status=first.status_code)
        response[REPLAY_HEADER] = "true"
        return response
    response = handler(key)
    _answer_keep(record, response)
    response[REPLAY_HEADER] = "false"
    return response


_ANSWER_SQL = "UPDATE {table} SET status_code = %s, response_body = %s::jsonb WHERE id = %s"


def _answer_keep(record: IdempotencyRecord, response: Response) -> None:
    """Store the answer on the key's record for repeats: its JSON written once, in one UPDATE (the ORM's save
    would encode it twice and build the statement field by field on every write)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _ANSWER_SQL.format(table=connection.ops.quote_name(IdempotencyRecord._meta.db_table)),
            [response.status_code, json.dumps(response.data, cls=DjangoJSONEncoder), record.pk],
        )
