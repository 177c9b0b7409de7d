"""Responses that hold a user's or a merchant's data are never kept by a browser or a shared cache."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PrivateNoStoreMiddleware:
    """``Cache-Control: private, no-store`` on every API answer (tokens, tenant data) and on every page served
    to a signed-in user, so Back on a shared counter computer or a proxy never shows them to the next person.

    Anonymous pages (log-in), static files (WhiteNoise answers above this) and probes keep their own headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Read after the view, and only if the view read it: a view that never looked at the user (the probes) shows
        # nothing of theirs, and reading it here would load the session, which a probe must not need (it answers
        # while the database is down). Django caches the user it loaded on the request; DRF sets the JWT's user
        # on the request's own ``user``, under /api/ anyway.
        user = getattr(request, "_cached_user", None)
        # The portal's pages show a customer's plans and payments: never kept either.
        if request.path_info.startswith(("/api/", "/portal/")) or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
        return response
