"""/metrics: only for the bearer METRICS_TOKEN; request latency and payments counted; several processes add up.

Counters live for the whole test process, so each test compares a value before and after what it does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from installments.tests.factories import plan_make
from taqsit.metrics import metrics_server_start

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-metrics-token"
PAYMENTS = "taqsit_payments_posted_total"
LATENCY_COUNT = "taqsit_http_request_duration_seconds_count"


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_are_off_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Basic {TOKEN}", "Bearer wrong-token", f"Bearer {TOKEN}x", f"Token {TOKEN}"],
    ids=["none", "empty", "basic", "wrong", "longer", "other-scheme"],
)
def test_metrics_are_refused_without_the_token(client, metrics_token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = client.get("/metrics", **headers)

    assert response.status_code == 403
    assert b"taqsit_" not in response.content


def test_metrics_are_served_with_the_token(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "taqsit_http_request_duration_seconds",
        "taqsit_job_runs",
        "taqsit_job_duration_seconds",
        "taqsit_notifications_sent",
        "taqsit_notifications_failed",
        "taqsit_payments_posted",
    } <= names


def test_request_latency_is_counted_by_url_name_method_and_status(client, metrics_token):
    labels = {"view": "healthz", "method": "GET", "status": "200"}
    missing = {"view": "unresolved", "method": "GET", "status": "404"}
    before, before_missing = value(LATENCY_COUNT, **labels), value(LATENCY_COUNT, **missing)

    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/")

    assert value(LATENCY_COUNT, **labels) - before == 2
    assert value(LATENCY_COUNT, **missing) - before_missing == 1


def test_a_payment_moves_the_payments_counter_once_committed(
    client, api_client, metrics_token, owner, customer, today, django_capture_on_commit_callbacks
):
    plan = plan_make(actor=owner, customer=customer)
    api_client.force_authenticate(owner)
    labels = {"method": "card", "status": "completed"}
    before = value(PAYMENTS, **labels)
    body = {"plan": str(plan.pk), "amount": "150.00", "payment_method": "card", "payment_date": "2026-02-20"}

    with django_capture_on_commit_callbacks(execute=True):
        first = api_client.post("/api/installments/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    with django_capture_on_commit_callbacks(execute=True):
        replay = api_client.post("/api/installments/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, replay.status_code, first.json()["amount"]) == (201, 201, "150.00")
    assert value(PAYMENTS, **labels) - before == 1, "the replay records nothing and counts nothing"
    assert scrape(client)[(PAYMENTS, (("method", "card"), ("status", "completed")))] == before + 1


def test_a_payment_rolled_back_is_not_counted(owner, customer, today, django_capture_on_commit_callbacks):
    from payments.services import payment_post

    plan = plan_make(actor=owner, customer=customer)
    before = value(PAYMENTS, method="cash", status="completed")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))

    assert len(callbacks) >= 1
    assert value(PAYMENTS, method="cash", status="completed") == before


MULTIPROCESS_SCRIPT = """
import sys
from taqsit.metrics import PAYMENTS_POSTED, exposition
if sys.argv[1] == "count":
    PAYMENTS_POSTED.labels(method="cash", status="completed").inc(int(sys.argv[2]))
else:
    sys.stdout.write(exposition().decode())
"""


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """gunicorn's workers and Celery's pool each write their own files; one exposition adds them up."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", MULTIPROCESS_SCRIPT, *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout

    run("count", "2")
    run("count", "3")
    text = run("show")

    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per counting process
    assert 'taqsit_payments_posted_total{method="cash",status="completed"} 5.0' in text


def test_the_worker_serves_the_same_metrics_behind_the_same_token(metrics_token):
    import urllib.error
    import urllib.request

    server = metrics_server_start(port=0, address="127.0.0.1")
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/metrics", timeout=5)  # noqa: S310 - our own server on loopback
        wrong_path = urllib.request.Request(f"{url}/other", headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as not_found:
            urllib.request.urlopen(wrong_path, timeout=5)  # noqa: S310
        request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status, body = response.status, response.read().decode()
    finally:
        server.shutdown()
        server.server_close()

    assert (refused.value.code, not_found.value.code, status) == (403, 404, 200)
    assert "# TYPE taqsit_payments_posted_total counter" in body
