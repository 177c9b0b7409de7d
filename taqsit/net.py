"""The client's address, for the log-in lockout, the API's throttles and the audit trail.

Without a proxy it is REMOTE_ADDR. Behind ``TRUSTED_PROXIES`` proxies (a TLS terminator in front of gunicorn, which
itself never rewrites REMOTE_ADDR), every client would share the proxy's address: the lockout would lock a user
out for everyone, the audit trail would name the proxy. Each proxy appends the address it received the request
from to X-Forwarded-For, so the client is the entry ``TRUSTED_PROXIES`` places from the right. Entries further
left were written by the client and are ignored. This is DRF's ``NUM_PROXIES`` rule, so the throttles agree.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(hops, len(forwarded))]
