"""Logs: the request id comes back in X-Request-ID and is on every log line of the request, as JSON in production;
a Celery task's lines carry its task id (and the id of the request that sent it)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from celery import shared_task

from taqsit.logs import JsonFormatter, RequestContextFilter, request_id_get, request_id_var

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING) writes, captured."""
    (handler,) = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_production_logs_are_json_with_the_context_filter():
    (handler,) = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]

    assert isinstance(handler.formatter, JsonFormatter)
    assert [type(f) for f in handler.filters] == [RequestContextFilter]


def test_the_proxys_request_id_is_echoed(client, settings):
    settings.TRUSTED_PROXIES = 1

    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a-0001")

    assert response["X-Request-ID"] == "lb-7f3a-0001"


def test_without_a_trusted_proxy_the_clients_request_id_is_not_taken(client, settings, console):
    settings.TRUSTED_PROXIES = 0

    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="forged-by-client")

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert "forged-by-client" not in console.getvalue()


@pytest.mark.parametrize(
    "sent",
    [None, "", "has spaces", 'quote"d', "x" * 65, "new\nline"],
    ids=["none", "empty", "spaces", "quote", "long", "newline"],
)
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, settings, sent):
    settings.TRUSTED_PROXIES = 1
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}

    first = client.get("/healthz", **headers)["X-Request-ID"]
    second = client.get("/healthz", **headers)["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_every_line_of_a_request_is_json_with_its_request_id(client, console, caplog, settings):
    caplog.set_level(logging.INFO)
    settings.TRUSTED_PROXIES = 1

    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404-check")

    assert response.status_code == 404
    lines = json_lines(console)
    by_logger = {line["logger"]: line for line in lines}
    # Django's own warning about the 404, and the access line, both with the request's id.
    assert by_logger["django.request"]["request_id"] == "req-404-check"
    assert by_logger["django.request"]["level"] == "WARNING"
    access = by_logger["taqsit.request"]
    assert {key: access[key] for key in ("level", "message", "request_id", "method", "path", "status")} == {
        "level": "INFO",
        "message": "GET /no-such-page/ 404",
        "request_id": "req-404-check",
        "method": "GET",
        "path": "/no-such-page/",
        "status": 404,
    }
    assert isinstance(access["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", access["time"])
    assert (access["task_id"], access["task_name"]) == (None, None)
    # caplog sees the same records, stamped by the handler's filter.
    (record,) = [r for r in caplog.records if r.name == "taqsit.request"]
    assert record.request_id == "req-404-check"
    assert request_id_get() is None, "the id does not outlive its request"


def test_probes_log_their_access_line_at_debug_only(client, console):
    client.get("/healthz")

    assert [line for line in json_lines(console) if line["logger"] == "taqsit.request"] == []


@shared_task(name="taqsit.tests.test_logs.log_something_task")
def log_something_task() -> str:
    logging.getLogger("taqsit.tests").warning("Working on it")
    return "done"


def test_a_task_logs_with_its_task_id_and_the_request_id_that_sent_it(console):
    result = log_something_task.apply(task_id="task-42", headers={"request_id": "req-sent-it"})

    assert result.get() == "done"
    (line,) = [line for line in json_lines(console) if line["logger"] == "taqsit.tests"]
    assert {key: line[key] for key in ("message", "task_id", "task_name", "request_id")} == {
        "message": "Working on it",
        "task_id": "task-42",
        "task_name": "taqsit.tests.test_logs.log_something_task",
        "request_id": "req-sent-it",
    }
    assert request_id_get() is None


def test_a_task_sent_during_a_request_carries_the_request_id():
    from taqsit.celery import request_id_send

    headers: dict = {}
    token = request_id_var.set("req-abc")
    try:
        request_id_send(headers=headers)
    finally:
        request_id_var.reset(token)
    outside: dict = {}
    request_id_send(headers=outside)

    assert (headers, outside) == ({"request_id": "req-abc"}, {})


def test_the_plain_format_shows_the_ids_for_developers():
    formatter = logging.Formatter("%(levelname)s %(name)s [%(context)s] %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("req-1")
    try:
        RequestContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    bare = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestContextFilter().filter(bare)

    assert formatter.format(record) == "INFO x [request=req-1] hello"
    assert formatter.format(bare) == "INFO x [-] hello"
