"""The signature of a delivery: ``Taqsit-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

The receiver recomputes the HMAC over the time and the raw body with the endpoint's secret, compares in constant
time, and refuses a time further than the tolerance from its clock (a replayed old delivery). docs/api.md,
"Webhooks", shows the same check for integrators.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Taqsit-Signature"
EVENT_ID_HEADER = "Taqsit-Event-Id"
EVENT_TYPE_HEADER = "Taqsit-Event-Type"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of generated secrets, not a secret)


def secret_generate() -> str:
    """A new endpoint secret: 32 random bytes, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of ``Taqsit-Signature`` for ``body`` sent now (or at ``timestamp``)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(
    *, secret: str, body: bytes, header: str, tolerance: int = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its time is within ``tolerance`` seconds of now."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))
