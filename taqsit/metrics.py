"""Prometheus metrics: request latency, daily job runs and durations, notifications sent and failed, payments.

prometheus-client, not django-prometheus: we want a handful of metrics with our own labels (the URL name, not
the raw path; the daily step; the channel), counted where the thing happens (the delivery path, the ledger),
and one exposition that also works for the Celery worker, which django-prometheus does not cover.

Several processes count at once (gunicorn's workers, Celery's pool): with ``PROMETHEUS_MULTIPROC_DIR`` set
(docker-compose sets it, on a tmpfs wiped at every container start) each process writes its values to files
there and an exposition adds up every process's files (prometheus_client's multiprocess mode). Without it
(``make run``, the tests) the process's own registry is served. Only counters and histograms are used, so a
dead worker's files keep counting towards the totals, as they should, and no gunicorn ``child_exit`` hook is
needed.

Who may read them: ``METRICS_TOKEN`` as a bearer token (``Authorization: Bearer <token>``), compared in
constant time; without the token the answer is 403, and with no ``METRICS_TOKEN`` configured ``/metrics`` is a
404. No address is trusted on its own: behind the reverse proxy every request comes from a private address.
The web app serves ``/metrics``; the Celery worker serves the same exposition on ``CELERY_METRICS_PORT``
(taqsit/celery.py), behind the same token.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.registry import REGISTRY

logger = logging.getLogger(__name__)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_LATENCY = Histogram(
    "taqsit_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL name, method and status code.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOB_RUNS = Counter(
    "taqsit_job_runs_total",
    "Runs of a daily job step, by step and outcome (success or failure).",
    ["job", "outcome"],
)
JOB_DURATION = Histogram(
    "taqsit_job_duration_seconds",
    "Time one daily job step took for one merchant and day.",
    ["job"],
    buckets=(0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0),
)
NOTIFICATIONS_SENT = Counter(
    "taqsit_notifications_sent_total",
    "Customer messages handed to the provider, by channel.",
    ["channel"],
)
NOTIFICATIONS_FAILED = Counter(
    "taqsit_notifications_failed_total",
    "Delivery attempts the provider refused, by channel; final=true when it was the last attempt.",
    ["channel", "final"],
)
PAYMENTS_POSTED = Counter(
    "taqsit_payments_posted_total",
    "Payments recorded (committed), by payment method and status.",
    ["method", "status"],
)


# Recording -------------------------------------------------------------------------------------------------


@contextmanager
def job_observe(job: str) -> Iterator[None]:
    """Time one run of a daily job step and count it as a success, or a failure when it raises."""
    started = time.perf_counter()
    outcome = "failure"
    try:
        yield
        outcome = "success"
    finally:
        JOB_DURATION.labels(job=job).observe(time.perf_counter() - started)
        JOB_RUNS.labels(job=job, outcome=outcome).inc()


def notification_sent(*, channel: str) -> None:
    NOTIFICATIONS_SENT.labels(channel=channel).inc()


def notification_failed(*, channel: str, final: bool) -> None:
    NOTIFICATIONS_FAILED.labels(channel=channel, final="true" if final else "false").inc()


def payment_posted(*, method: str, status: str) -> None:
    PAYMENTS_POSTED.labels(method=method, status=status).inc()


class RequestMetricsMiddleware:
    """Observes every request's latency, labelled by URL name (bounded, unlike raw paths), method and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(
            view=view_label(request),
            method=request.method if request.method in HTTP_METHODS else "other",
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
        return response


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        # Static files (whitenoise answers before URL resolution) or a 404.
        return "static" if request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}") else "unresolved"
    return match.view_name or match.route or "unnamed"


# Exposition ------------------------------------------------------------------------------------------------


def exposition() -> bytes:
    """Every metric in Prometheus' text format: all processes' values in multiprocess mode, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_access(authorization: str) -> int:
    """200 when ``authorization`` carries METRICS_TOKEN as a bearer token; 404 when no token is configured
    (metrics are off); 403 otherwise."""
    token = settings.METRICS_TOKEN
    if not token:
        return 404
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return 200
    return 403


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    access = metrics_access(request.headers.get("Authorization", ""))
    if access == 404:
        raise Http404
    if access == 403:
        return HttpResponse("Forbidden: send METRICS_TOKEN as a bearer token.\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


# The worker's own exposition -------------------------------------------------------------------------------


def metrics_wsgi_app(environ: dict, start_response: Callable) -> list[bytes]:
    """The same exposition and token check as ``/metrics``, for the Celery worker, which has no Django server."""
    access = metrics_access(environ.get("HTTP_AUTHORIZATION", ""))
    if environ.get("PATH_INFO") != "/metrics":
        access = 404
    if access != 200:
        body = {403: b"Forbidden\n", 404: b"Not found\n"}[access]
        start_response(f"{access} {body.decode().strip()}", [("Content-Type", "text/plain")])
        return [body]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")])
    return [exposition()]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        logger.debug("metrics: " + format, *args)


def metrics_server_start(*, port: int, address: str = "0.0.0.0") -> WSGIServer:  # noqa: S104 - a container's port
    """Serve ``/metrics`` on ``port`` from a daemon thread of this process; returns the server."""
    server = make_server(
        address, port, metrics_wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True).start()
    logger.info("Metrics served on port %s at /metrics", server.server_port)
    return server
