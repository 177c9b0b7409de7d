"""Redis stopped while clerks record payments: the counter keeps working, and the messages go out once it is back.

Production's layout on throwaway servers: gunicorn, a Celery worker and Celery beat, with Redis (its own, on a
private port) as both the broker (REDIS_URL) and the cache (CACHE_URL), PostgreSQL (its own). While Redis is
down, clerks record payments through the API and the pages and read the pages, the API and the statistics (no
5xx; /readyz says the broker is unavailable), and an operator runs the daily jobs: the day's reminders are
queued in the database, and handing them to the workers fails without failing the run. Once Redis is back,
beat's periodic dispatch hands them out and the worker delivers each one exactly once (e-mail to a file outbox,
SMS to the log backend).
"""

from __future__ import annotations

import time

import pytest

from tests.resilience.ledger import ledger_violations
from tests.resilience.servers import (
    DATABASE,
    WORKER_ARGS,
    Http,
    app_env,
    form_value,
    manage,
    outbox_ids,
    seed,
    wait_for,
)

pytestmark = pytest.mark.resilience

DISPATCH_TASK = "notifications.tasks.notifications_dispatch_task"
DAILY_TASK = "notifications.tasks.daily_runs_dispatch_task"


def _beat_schedule_fast(conn) -> None:
    """Beat's dispatch of queued messages every second instead of every 5 minutes; the daily run left to the
    test (an operator's ``run_daily_jobs``), so the day runs exactly when the test says."""
    (interval,) = conn.execute(
        "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (1, 'seconds') RETURNING id"
    ).fetchone()
    updated = conn.execute(
        "UPDATE django_celery_beat_periodictask SET interval_id = %s, crontab_id = NULL, last_run_at = NULL"
        " WHERE task = %s",
        [interval, DISPATCH_TASK],
    ).rowcount
    assert updated == 1
    conn.execute("UPDATE django_celery_beat_periodictask SET enabled = FALSE WHERE task = %s", [DAILY_TASK])


def _page_pay(client: Http, plan_id: str, amount: str) -> str:
    """Record a payment at the counter page, as a clerk does; returns the receipt's path."""
    form = client.get(f"/payments/new/{plan_id}/")
    assert form.status == 200, form
    answer = client.post(
        f"/payments/new/{plan_id}/",
        form={
            "csrfmiddlewaretoken": form_value(form.text, "csrfmiddlewaretoken"),
            "token": form_value(form.text, "token"),
            "amount": amount,
            "payment_date": form_value(form.text, "payment_date"),
            "payment_method": "cash",
            "reference": "",
            "notes": "",
        },
    )
    assert answer.status == 302, answer
    return answer.headers["Location"]


def test_payments_and_pages_work_while_redis_is_down_and_messages_go_out_after(postgres, redis, processes, workdir):
    outbox = workdir / "outbox"
    env = app_env(postgres, workdir, redis, CACHE_URL=redis.url(1))
    # Weekly plans whose rows fall on today's message days (3 days ahead, today, 1 and 7 days overdue), and
    # monthly plans the clerks pay.
    reminders = [{"count": 1, "start_days_ago": days, "frequency": "weekly"} for days in (4, 7, 8, 14)]
    paid = {"count": 4, "start_days_ago": 45, "total": "1000.00", "down": "200.00"}
    data = seed(env, {"merchants": [{"name": "Outage Shop", "clerks": 2, "plans": [*reminders, paid]}]})
    merchant = data["merchants"][0]
    paid_plans = [plan["id"] for plan in merchant["plans"][len(reminders) :]]
    with postgres.connect(DATABASE, autocommit=True) as conn:
        _beat_schedule_fast(conn)
    base = processes.gunicorn(env)
    worker = processes.celery("worker", WORKER_ARGS, env)
    beat = processes.celery("beat", ["beat", "--loglevel", "INFO"], env)
    wait_for(lambda: "ready." in worker.tail(20000), timeout=60, what="the worker to be ready", logs=processes.logs)

    api = Http(base)
    api.jwt_login(merchant["clerks"][0], data["password"])
    counter = Http(base)
    counter.page_login(merchant["clerks"][1], data["password"])
    assert api.get("/readyz").status == 200
    answer = api.post("/api/installments/payments/", json_body={"plan": paid_plans[0], "amount": "10.00"})
    assert answer.status == 201, answer
    # That payment's receipt goes out while Redis is up: the messages counted below are the outage's.
    customer_messages = (
        "SELECT id::text, channel, dispatched_at, status FROM notifications_notification"
        " WHERE channel IN ('sms', 'email') ORDER BY id"
    )

    def before_sent():
        with postgres.connect(DATABASE) as conn:
            rows = conn.execute(customer_messages).fetchall()
        return rows if rows and {row[3] for row in rows} == {"sent"} else None

    before = wait_for(before_sent, timeout=60, interval=0.5, what="the first receipt to go out", logs=processes.logs)
    before_ids = {row[0] for row in before}
    before_emails = [row[0] for row in before if row[1] == "email"]

    redis.stop()
    assert not redis.ping()

    def check(answer, *expected: int):
        assert answer.status in expected, f"{answer}\n{processes.logs()}"
        return answer

    ready = check(api.get("/readyz"), 503)
    assert ready.json["failed"] == ["broker"]
    # Clerks record payments through the API (one repeated with its key) and the counter page.
    recorded = []
    for number in range(8):
        body = {"plan": paid_plans[number % len(paid_plans)], "amount": "15.00", "payment_method": "cash"}
        answer = check(
            api.post("/api/installments/payments/", json_body=body, headers={"Idempotency-Key": f"outage-{number}"}),
            201,
        )
        recorded.append(answer.json["id"])
    repeat = check(
        api.post("/api/installments/payments/", json_body=body, headers={"Idempotency-Key": "outage-7"}), 201
    )
    assert (repeat.json["id"], repeat.headers["Idempotent-Replayed"]) == (recorded[-1], "true")
    for plan_id in paid_plans:
        receipt = _page_pay(counter, plan_id, "20.00")
        check(counter.get(receipt), 200)
    # The pages and the API a clerk reads.
    for path in ("/", "/plans/", f"/plans/{paid_plans[0]}/", "/plans/collections/", "/customers/"):
        check(counter.get(path), 200)
    summary = f"/api/installments/plans/{paid_plans[1]}/summary/"
    for path in ("/api/installments/plans/", "/api/stats/", summary, "/api/installments/payments/"):
        check(api.get(path), 200)
    # The day's run by an operator while the broker is down: the messages are queued in the database.
    started = time.monotonic()
    manage("run_daily_jobs", env=env, timeout=120)
    outage_run_seconds = time.monotonic() - started
    with postgres.connect(DATABASE) as conn:
        queued = [row[:3] for row in conn.execute(customer_messages).fetchall() if row[0] not in before_ids]
    assert len(queued) >= 8, queued
    # Nothing reached a worker, and nothing is marked as handed out: the next dispatch takes them all.
    assert {row[2] for row in queued} == {None}, queued
    assert sorted(outbox_ids(outbox)) == sorted(before_emails)
    assert outage_run_seconds < 60
    assert worker.alive() and beat.alive(), processes.logs()

    redis.start()  # the same port, empty: as a Redis that keeps nothing on disk comes back
    email_ids = sorted(row[0] for row in queued if row[1] == "email")

    def all_sent():
        with postgres.connect(DATABASE) as conn:
            statuses = conn.execute(
                "SELECT status, COUNT(*) FROM notifications_notification WHERE channel IN ('sms', 'email')"
                " GROUP BY status"
            ).fetchall()
        everything = len(queued) + len(before)
        return dict(statuses) == {"sent": everything} and len(outbox_ids(outbox)) >= len(email_ids) + len(before_emails)

    wait_for(all_sent, timeout=90, interval=0.5, what="the queued messages to be delivered", logs=processes.logs)
    time.sleep(2)  # beat keeps dispatching every second: nothing may go out twice meanwhile
    assert sorted(outbox_ids(outbox)) == sorted(email_ids + before_emails)
    with postgres.connect(DATABASE) as conn:
        attempts = conn.execute(
            "SELECT attempts, COUNT(*) FROM notifications_notification WHERE channel IN ('sms', 'email')"
            " GROUP BY attempts"
        ).fetchall()
        assert attempts == [(1, len(queued) + len(before))]
        assert ledger_violations(conn) == {}
        payments = conn.execute("SELECT COUNT(*) FROM payments_payment WHERE NOT is_down_payment").fetchone()[0]
    assert payments == 1 + 8 + len(paid_plans)
