"""The codes a refusal carries (``ValidationError(..., code=ErrorCode.X)``), one list for every app.

The API's exception handler reads them to choose the status: a conflict with the object's state is a 409, a
reused idempotency key with another body a 422, anything else a 400 (taqsit/api_errors.py).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # Django's own codes, used by our validators the way Django's are.
    INVALID = "invalid"
    REQUIRED = "required"
    MAX_VALUE = "max_value"
    INVALID_CURRENCY = "invalid_currency"
    INVALID_AMOUNT = "invalid_amount"
    # The object's state forbids the request (409).
    INVALID_STATUS = "invalid_status"
    HAS_PAYMENTS = "has_payments"
    HAS_MONEY = "has_money"
    PORTAL_OFF = "portal_off"  # the merchant's customer portal is turned off
    # The same request cannot be answered twice or differently (422).
    IDEMPOTENCY_MISMATCH = "idempotency_mismatch"
    # Money rules (400).
    OVERPAYMENT = "overpayment"
    UNALLOCATED = "unallocated"
    DUPLICATE = "duplicate"


CONFLICT_CODES = frozenset(
    {ErrorCode.INVALID_STATUS, ErrorCode.HAS_PAYMENTS, ErrorCode.HAS_MONEY, ErrorCode.PORTAL_OFF}
)
UNPROCESSABLE_CODES = frozenset({ErrorCode.IDEMPOTENCY_MISMATCH})
