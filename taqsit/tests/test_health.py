"""The probes: /healthz answers without the database; /readyz checks PostgreSQL and the broker, 503 naming what
is down, and answers within seconds even when a server accepts connections and never replies.

Outages are simulated, never caused: the database check is pointed at a closed port through a connection
handler of its own (the shared server keeps running), the broker at a redis:// URL on a closed port.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.db import connections
from django.db.utils import ConnectionHandler
from django.test import override_settings

from taqsit import health

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A TCP port below 32768 (outside Linux's ephemeral range) that refuses connections on 127.0.0.1."""
    for port in (1, 9, 19, 47, 101, 113, 2, 3):
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("no closed port found below 32768")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) and never says a word: a hung server."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def database_at(monkeypatch, *, host: str, port: int) -> None:
    """Point the readiness check's database at host:port: a handler of its own, the real one untouched."""
    settings_dict = {**connections["default"].settings_dict, "HOST": host, "PORT": str(port)}
    monkeypatch.setattr(health, "connections", ConnectionHandler({"default": settings_dict}))


@pytest.fixture
def broker_down(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_while_the_database_is_down(client, monkeypatch):
    database_at(monkeypatch, host="127.0.0.1", port=closed_port())

    assert client.get("/healthz").status_code == 200


def test_readyz_is_ok_when_the_database_and_the_broker_answer(client):
    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "broker": "ok"}, "failed": []},
    )


def test_readyz_names_the_database_when_postgresql_is_unreachable(client, monkeypatch):
    database_at(monkeypatch, host="127.0.0.1", port=closed_port())

    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "checks": {"database": "unavailable", "broker": "ok"}, "failed": ["database"]},
    )


def test_readyz_names_the_broker_when_redis_is_unreachable(client, broker_down):
    response = client.get("/readyz")

    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "checks": {"database": "ok", "broker": "unavailable"}, "failed": ["broker"]},
    )


def test_readyz_names_both_and_logs_why(client, monkeypatch, broker_down, caplog):
    database_at(monkeypatch, host="127.0.0.1", port=closed_port())

    response = client.get("/readyz")

    assert (response.status_code, response.json()["failed"]) == (503, ["broker", "database"])
    failures = sorted(r.getMessage().split(":")[0] for r in caplog.records if r.name == "taqsit.health")
    assert failures == ["Readiness check broker failed", "Readiness check database failed"]
    # The details stay in the log, not in the public answer.
    assert "Connection refused" in caplog.text
    assert "refused" not in response.content.decode()


def test_readyz_gives_up_on_servers_that_never_answer(client, monkeypatch, settings, silent_server):
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 2)
    database_at(monkeypatch, host="127.0.0.1", port=silent_server)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_server}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started

    assert (response.status_code, response.json()["failed"]) == (503, ["broker", "database"])
    assert elapsed < 15, f"/readyz took {elapsed:.1f}s"


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["taqsit.example.com", "localhost"])
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_are_not_redirected_to_https(client, path):
    """A container probe speaks plain HTTP to localhost: no redirect (SECURE_REDIRECT_EXEMPT)."""
    probe = client.get(path, HTTP_HOST="localhost:8000")
    page = client.get("/accounts/login/", HTTP_HOST="localhost:8000")

    assert probe.status_code != 301
    assert (page.status_code, page["Location"]) == (301, "https://localhost:8000/accounts/login/")
