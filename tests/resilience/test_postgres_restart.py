"""PostgreSQL restarted under load: while it is down every request fails fast and cleanly with a 503 (Retry-After,
no 500, no hang); once it is back requests succeed again; no payment is half-written or lost.

gunicorn as the Dockerfile runs it (3 sync workers, persistent connections with health checks) on the test's own
PostgreSQL. Eight API clients post payments, each with its own Idempotency-Key, retrying a 503 with the same key,
as a till would; a clerk's browser reloads the dashboard. Meanwhile the server is stopped with
``pg_ctl stop -m fast`` (sessions terminated mid-transaction) and started again a few seconds later.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest

from tests.resilience.ledger import ledger_violations
from tests.resilience.servers import DATABASE, Http, app_env, seed, wait_for

pytestmark = pytest.mark.resilience

CLIENTS = 8
DOWN_SECONDS = 4
# A 503 must come at once: a request that waits longer than this for an answer is a hang.
ANSWER_TIMEOUT = 15
RETRY_PAUSE = 0.2


class Till(threading.Thread):
    """One API client: payments of 5.00 with keys of its own, each retried after a 503 until recorded."""

    def __init__(self, index: int, base: str, token: str, plan_ids: list[str], stop: threading.Event) -> None:
        super().__init__(name=f"till-{index}", daemon=True)
        self.index = index
        self.client = Http(base, timeout=ANSWER_TIMEOUT)
        self.client.token = token
        self.plan_ids = plan_ids
        self.stop = stop
        self.recorded: dict[str, dict] = {}  # key -> the payment the 201 named
        self.answers: list[tuple[float, int, float, str, object]] = []  # (when, status, seconds, key, answer)
        self.errors: list[str] = []

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            key = f"till-{self.index}-{number}"
            body = {"plan": self.plan_ids[(self.index + number) % len(self.plan_ids)], "amount": "5.00"}
            deadline = time.monotonic() + 60
            while True:  # the same key until it is recorded, whatever the database does meanwhile
                started = time.monotonic()
                try:
                    answer = self.client.post(
                        "/api/installments/payments/", json_body=body, headers={"Idempotency-Key": key}
                    )
                except OSError as exc:  # a timeout or a dropped connection: neither may happen
                    self.errors.append(f"{key}: {type(exc).__name__}: {exc}")
                    return
                self.answers.append((started, answer.status, time.monotonic() - started, key, answer))
                if answer.status == 201:
                    self.recorded[key] = answer.json
                    break
                if answer.status != 503 or time.monotonic() > deadline:
                    self.errors.append(f"{key}: {answer}")
                    return
                time.sleep(RETRY_PAUSE)
            number += 1


def test_postgres_restarted_under_load_gives_503s_then_recovers_with_no_half_written_payment(
    postgres, processes, workdir
):
    env = app_env(postgres, workdir)
    plans = {"count": 10, "start_days_ago": 45, "total": "100000.00", "down": "1000.00", "installments": 10}
    data = seed(env, {"merchants": [{"name": "Restart Shop", "clerks": 2, "plans": [plans]}]})
    merchant = data["merchants"][0]
    plan_ids = [plan["id"] for plan in merchant["plans"]]
    base = processes.gunicorn(env, workers=3)
    tokens = []
    for clerk in merchant["clerks"]:
        client = Http(base)
        client.jwt_login(clerk, data["password"])
        tokens.append(client.token)
    browser = Http(base, timeout=ANSWER_TIMEOUT)
    browser.page_login(merchant["clerks"][0], data["password"])

    stop = threading.Event()
    tills = [Till(index, base, tokens[index % len(tokens)], plan_ids, stop) for index in range(CLIENTS)]
    for till in tills:
        till.start()

    def recorded() -> int:
        """The payments recorded so far; a till that met anything but a 201 or a 503 stops the test at once."""
        errors = [error for till in tills for error in till.errors]
        assert errors == [], f"{errors}\n{processes.logs()}"
        return sum(len(till.recorded) for till in tills)

    try:
        wait_for(lambda: recorded() >= 30, timeout=60, what="payments before the restart", logs=processes.logs)
        down_at = time.monotonic()
        postgres.stop()  # -m fast: open sessions are terminated, their transactions rolled back
        while_down = []
        for path in ("/", "/plans/"):
            while_down.append(browser.get(path))
        health, ready = browser.get("/healthz"), browser.get("/readyz")
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
        before_up = recorded()
        postgres.start()
        up_at = time.monotonic()
        wait_for(
            lambda: recorded() >= before_up + 30, timeout=60, what="payments after the restart", logs=processes.logs
        )
        after_restart = [browser.get(path) for path in ("/", "/plans/")]
    finally:
        stop.set()
        for till in tills:
            till.join(timeout=90)
    assert not any(till.is_alive() for till in tills)
    logs = processes.logs()
    errors = [error for till in tills for error in till.errors]
    assert errors == [], (errors, logs)

    answers = [answer for till in tills for answer in till.answers]
    statuses = defaultdict(int)
    for _when, status, _seconds, _key, _answer in answers:
        statuses[status] += 1
    assert set(statuses) == {201, 503}, (dict(statuses), logs)
    unavailable = [entry for entry in answers if entry[1] == 503]
    # The 503s came while the server was down (or being stopped), each at once, with a retry hint.
    assert all(down_at - 1 <= when <= up_at for when, *_rest in unavailable), logs
    assert max(seconds for _when, _status, seconds, _key, _answer in unavailable) < 5
    for *_rest, answer in unavailable:
        assert answer.headers["Retry-After"].isdigit(), answer
        assert answer.json == {"detail": "The database is unavailable; try again in a moment."}, answer
    assert len(unavailable) >= CLIENTS, "every till should have met the outage"
    # The pages and the probes while it was down: a 503 page, the process alive, not ready.
    for page in while_down:
        assert page.status == 503, page
        assert page.headers["Retry-After"].isdigit()
        assert "text/html" in page.headers["Content-Type"]
    assert (health.status, ready.status, ready.json["failed"]) == (200, 503, ["database"])
    assert [page.status for page in after_restart] == [200, 200]

    # Every key recorded exactly one payment, the one its 201 named; nothing half-written.
    keys = {key: body for till in tills for key, body in till.recorded.items()}
    with postgres.connect(DATABASE) as conn:
        assert ledger_violations(conn) == {}
        rows = conn.execute(
            "SELECT idempotency_key, id::text, amount FROM payments_payment WHERE NOT is_down_payment"
        ).fetchall()
        unanswered = conn.execute("SELECT COUNT(*) FROM taqsit_idempotencyrecord WHERE status_code IS NULL")
        assert unanswered.fetchone()[0] == 0
        paid = conn.execute("SELECT SUM(amount_paid) FROM installments_installmentplan").fetchone()[0]
    assert {key: payment_id for key, payment_id, _amount in rows} == {key: body["id"] for key, body in keys.items()}
    assert paid == Decimal("1000.00") * len(plan_ids) + Decimal("5.00") * len(keys)
