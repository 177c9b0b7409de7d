"""One HTTP POST of a delivery to the address checked after DNS (targets.py): the connection goes to that IP while
the Host header and the TLS server name stay the URL's, so the certificate is checked for the name. Short
timeouts, no redirects followed, no proxy from the environment, only the answer's first bytes read."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from webhooks.targets import TargetRefusedError, target_resolve

EXCERPT_BYTES = 500


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    duration_ms: int
    error: str
    excerpt: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def delivery_send(*, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST ``body`` to ``url``; never raises: what went wrong is in the result's ``error``."""
    started = time.monotonic()

    def result(status_code=None, error="", excerpt="") -> SendResult:
        elapsed = int((time.monotonic() - started) * 1000)
        return SendResult(status_code=status_code, duration_ms=elapsed, error=error[:500], excerpt=excerpt)

    try:
        target = target_resolve(url)
    except TargetRefusedError as exc:
        return result(error=str(exc))
    address = f"[{target.address}]" if ":" in target.address else target.address
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT, connect=min(settings.WEBHOOK_TIMEOUT, 3))
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST",
                f"{target.scheme}://{address}:{target.port}{target.path}",
                content=body,
                headers={**headers, "Host": host_header, "Content-Type": "application/json"},
                extensions=extensions,
            ) as response,
        ):
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            return result(
                status_code=response.status_code,
                excerpt=excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace"),
                error="" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
            )
    except httpx.HTTPError as exc:
        return result(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
