"""Logs that can be followed across a request or a task: every record carries the request id or the task id.

``RequestIdMiddleware`` (first in MIDDLEWARE) takes the ``X-Request-ID`` of the proxy or load balancer in front
(only with ``TRUSTED_PROXIES`` set: a client must not name its own request in our logs and audit trail, and the
proxy is expected to overwrite what a client sent) or makes one, keeps it in a context variable for the request,
hands it back in the response header, and writes one access line per request. ``RequestContextFilter`` (on the
console handler, settings.LOGGING) adds ``request_id``, ``task_id`` and ``task_name`` to every record, whoever
logged it. The Celery app binds the task id around each task (taqsit/celery.py), and a task sent while a request
is handled carries that request's id in its headers, so a reminder queued by a page logs with the page's request
id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger import json as jsonlogger
from pythonjsonlogger.core import RESERVED_ATTRS

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)
task_name_var: ContextVar[str | None] = ContextVar("task_name", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller may send as its id: no spaces, quotes or control characters reach a log line or a header.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,64}$")
# Probes hit these every few seconds: their access lines are DEBUG, not INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

access_logger = logging.getLogger("taqsit.request")


def request_id_get() -> str | None:
    """The id of the request (or of the request that sent the running task), if any."""
    return request_id_var.get()


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_from(value: str | None) -> str:
    """The caller's id when it is a sane token, else a new one."""
    if value and _REQUEST_ID_RE.match(value):
        return value
    return request_id_new()


class RequestIdMiddleware:
    """Binds the request id for the whole request (every middleware below it, the view, the logs) and returns it
    in ``X-Request-ID``; logs one access line with method, path, status and duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get(REQUEST_ID_HEADER) if settings.TRUSTED_PROXIES > 0 else None
        request_id = request_id_from(sent)
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            access_logger.log(
                logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``task_id`` and ``task_name`` (None outside a request or a task) to every record,
    and ``context``, the same in one short text for the plain format."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", request_id_var), ("task_id", task_id_var), ("task_name", task_name_var)):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        if record.request_id is None:
            # Django logs a 4xx/5xx response (django.request) after the middleware has returned, with the
            # request in ``extra``.
            record.request_id = getattr(getattr(record, "request", None), "request_id", None)
        parts = [f"request={record.request_id}"] if record.request_id else []
        if record.task_id:
            parts.append(f"task={record.task_id}")
        record.context = " ".join(parts) or "-"
        return True


class JsonFormatter(jsonlogger.JsonFormatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, the context ids,
    whatever ``extra`` the call passed, and ``exc_info`` as text."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        # Django hands the request object (django.request) or the socket (django.server) as ``extra``: no use
        # in a log line. ``context`` repeats the ids for the plain format.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "taskName", "request", "server_time", "context"])
        super().__init__(**kwargs)


# Celery: bound by the receivers in taqsit/celery.py -----------------------------------------------------------

_task_tokens: dict[str, tuple] = {}


def task_context_bind(*, task_id: str, task_name: str, request_id: str | None) -> None:
    """Bind the task's ids for its logs (task_prerun)."""
    _task_tokens[task_id] = (
        task_id_var.set(task_id),
        task_name_var.set(task_name),
        request_id_var.set(request_id),
    )


def task_context_unbind(*, task_id: str) -> None:
    """Forget them again (task_postrun), so the next task in the same process starts clean."""
    tokens = _task_tokens.pop(task_id, None)
    if tokens is None:
        return
    for var, token in zip((task_id_var, task_name_var, request_id_var), tokens, strict=True):
        var.reset(token)
