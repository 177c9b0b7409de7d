"""Probes for containers and load balancers: ``/healthz`` (the process answers) and ``/readyz`` (it can work).

``/healthz`` touches nothing but the process: a database outage must not get every web container restarted.
``/readyz`` opens a fresh connection to PostgreSQL and to the Celery broker, each with a short timeout, so it
answers within a few seconds whatever is down; 200 when both work, 503 naming what failed. The failure's
details go to the log, not to the (public) response.

Both are exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT). They still go through ALLOWED_HOSTS: a probe
must send an allowed Host (docker-compose.yml allows ``localhost``, which the image's HEALTHCHECK sends).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

logger = logging.getLogger(__name__)

# Seconds each check may take to connect (and, once connected, to answer).
CHECK_TIMEOUT = 3


def database_check(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Connect afresh to the database ``alias`` (not the request's pooled connection, which may be stale or
    the very one that works) and run ``SELECT 1``; raises when that fails or takes longer than the timeout."""
    settings_dict = copy.deepcopy(connections[alias].settings_dict)
    options = settings_dict.setdefault("OPTIONS", {})
    options["connect_timeout"] = CHECK_TIMEOUT
    options["options"] = f"{options.get('options', '')} -c statement_timeout={CHECK_TIMEOUT * 1000}".strip()
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        wrapper.close()


def broker_check() -> None:
    """Connect to the Celery broker (for Redis: connect and PING) with the same short timeout."""
    transport_options = {
        **(settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}),
        "socket_connect_timeout": CHECK_TIMEOUT,
        "socket_timeout": CHECK_TIMEOUT,
    }
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT, transport_options=transport_options
    ) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=CHECK_TIMEOUT)


CHECKS: dict[str, Callable[[], None]] = {"database": database_check, "broker": broker_check}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive and serving requests; nothing else is checked."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready when the database and the broker both answer: 200, else 503 naming what failed."""
    checks = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # whatever went wrong, the probe answers
            logger.warning("Readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            checks[name] = "unavailable"
        else:
            checks[name] = "ok"
    failed = sorted(name for name, state in checks.items() if state != "ok")
    body = {"status": "unavailable" if failed else "ok", "checks": checks, "failed": failed}
    return JsonResponse(body, status=503 if failed else 200)
