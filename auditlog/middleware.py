"""The audit context of a request: source (web, api or admin by path), request id, client address and who acts.

Placed right after AuthenticationMiddleware. Who acts is named when the request's user is first looked at (the
session's user: a page checks it before it writes) and again whenever ``request.user`` is assigned: DRF assigns
the user it authenticated (a JWT) to the underlying request, and so does ``auth.login``; for that the request's
class is swapped for one that says so. A request that never looks at its user (a probe) costs no query here.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable

from django.contrib.auth.middleware import get_user
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from taqsit import audit
from taqsit.net import client_ip

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,64}$")


class _AuditedRequest:
    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        if name == "user":
            audit.actor_set(value)


@functools.cache
def _audited_class(request_class: type) -> type:
    return type(f"Audited{request_class.__name__}", (_AuditedRequest, request_class), {})


def source_of(path: str) -> audit.Source:
    # The customers' side first: /api/portal/ is the borrower API, not the staff's.
    if path.startswith(("/portal/", "/api/portal/")):
        return audit.Source.PORTAL
    if path.startswith("/api/"):
        return audit.Source.API
    if path.startswith("/admin/"):
        return audit.Source.ADMIN
    return audit.Source.WEB


def request_id_of(request: HttpRequest) -> str:
    """The id the request-id middleware gave the request (a trusted proxy's or its own), else a new one; never
    what the client sent."""
    value = getattr(request, "request_id", None)
    if value and _REQUEST_ID_RE.match(str(value)):
        return str(value)
    return uuid.uuid4().hex


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = source_of(request.path_info)
        # The client's address: REMOTE_ADDR, or through the TRUSTED_PROXIES in front (taqsit/net.py); the part of
        # X-Forwarded-For a client can write is never taken.
        values = {
            "source": source,
            "request_id": request_id_of(request),
            "ip": audit.ip_clean(client_ip(request)),
            "method": request.method,
            "path": request.path[:200],
            **audit.actor_values(None),
        }
        with audit.context(**values):
            if hasattr(request, "user"):
                request.user = SimpleLazyObject(functools.partial(_session_user, request))
            request.__class__ = _audited_class(request.__class__)
            return self.get_response(request)


def _session_user(request: HttpRequest):
    """AuthenticationMiddleware's lazy user (the session's, cached on the request), named as the actor."""
    user = get_user(request)
    audit.actor_set(user)
    return user
