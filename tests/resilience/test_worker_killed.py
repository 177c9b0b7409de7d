"""A Celery worker SIGKILLed in the middle of the daily job, then the job run again: no late fee and no message
is missing or doubled, compared with an uninterrupted run on an identical copy of the data.

Five merchants with weekly plans started on each of the last 24 days (so rows are overdue, due today, due in
three days, overdue for 1 and 7 days), a fixed late fee. The data set is copied (``CREATE DATABASE ... TEMPLATE``)
and the copy gets the daily jobs uninterrupted (``manage.py run_daily_jobs``): the reference.

On the original, beat's dispatch hands each merchant's day to a worker (Redis broker, one process). The third
merchant's run is made to stop half-way, for real: the test holds a row lock on one of its installments, as a
clerk's payment transaction does. The run marks the merchant's overdue rows and commits its late fees, inserts
its reminders, and waits on that lock at COMMIT (the reminder's foreign key to the row is checked at commit).
The worker's whole process group is then SIGKILLed: two merchants done, one half done, two not started. When the
lock goes, the dead worker's COMMIT goes through: its reminders are in the database though the worker never
learned it (the in-doubt outcome of a crash). A new worker is started and beat's dispatch run again (its next
tick): every day is finished; fees, messages and statuses equal the reference exactly (nothing re-charged or
re-queued, nothing left out), and every message is delivered once (e-mail to a file outbox, SMS to the log).
"""

from __future__ import annotations

import pytest

from tests.resilience.servers import DATABASE, WORKER_ARGS, app_env, manage, outbox_ids, seed, wait_for

pytestmark = pytest.mark.resilience

MERCHANTS = 5
VICTIM = 2  # the third merchant in id order, the order beat hands them out
REFERENCE = "reference"
DISPATCH = "from dailyrun.jobs import daily_runs_dispatch; print(daily_runs_dispatch())"

# What the daily jobs decide, compared between the interrupted run and the reference (ids are the same: the
# reference is a copy of the database).
OUTCOME = {
    "late fees": "SELECT installment_id, period, amount FROM installments_latefee",
    "installments": "SELECT id, status, late_fee FROM installments_installment",
    "plans": "SELECT id, status, late_fees FROM installments_installmentplan",
    "messages": "SELECT installment_id, user_id, kind, channel, day FROM notifications_notification",
    "days run": "SELECT merchant_id, day, finished_at IS NOT NULL FROM notifications_dailyjobrun",
}


def _outcome(conn) -> dict[str, list]:
    return {name: sorted(conn.execute(query).fetchall(), key=repr) for name, query in OUTCOME.items()}


def _count(conn, query: str, *params) -> int:
    return conn.execute(query, params).fetchone()[0]


def test_a_worker_killed_mid_job_then_run_again_misses_and_doubles_nothing(postgres, redis, processes, workdir):
    outbox = workdir / "outbox"
    env = app_env(postgres, workdir, redis)
    # Weekly plans of 6 x 100.00 started 1, 2, ... 24 days ago: every kind of row the daily jobs look at.
    plans = [
        {
            "count": 24,
            "start_days_ago": 1,
            "step": 1,
            "frequency": "weekly",
            "total": "600.00",
            "down": "0.00",
            "installments": 6,
        }
    ]
    spec = {"merchants": [{"name": f"Shop {n}", "late_fee_amount": "5.00", "plans": plans} for n in range(MERCHANTS)]}
    data = seed(env, spec)
    today = data["merchants"][0]["today"]
    postgres.database_create(REFERENCE, template=DATABASE)
    reference_env = {**env, "DATABASE_URL": postgres.url(REFERENCE), "TAQSIT_VAR_DIR": str(workdir / "var-ref")}
    del reference_env["REDIS_URL"]  # its messages are queued and handed to a broker no worker reads
    manage("run_daily_jobs", env=reference_env)
    with postgres.connect(REFERENCE) as conn:
        reference = _outcome(conn)
    assert len(reference["late fees"]) > 100
    kinds = {kind for _installment, _user, kind, _channel, _day in reference["messages"]}
    assert kinds == {"reminder_upcoming", "reminder_due_today", "overdue_alert", "staff_digest"}

    with postgres.connect(DATABASE) as conn:
        merchants = [row[0] for row in conn.execute("SELECT id FROM taqsit_merchant ORDER BY id").fetchall()]
    victim = merchants[VICTIM]
    first = processes.celery("worker-1", WORKER_ARGS, env)
    clerk = postgres.connect(DATABASE)  # holds the lock: a clerk's payment transaction, still open
    try:
        # A row the victim's reminders are about (due today): its overdue marking and late fees never touch it;
        # the transaction inserting its reminder waits for the lock at COMMIT, where PostgreSQL checks Django's
        # deferred foreign keys (their KEY SHARE lock conflicts with FOR UPDATE).
        clerk.execute(
            "SELECT id FROM installments_installment WHERE merchant_id = %s AND due_date = %s ORDER BY id LIMIT 1"
            " FOR UPDATE",
            [victim, today],
        ).fetchone()
        clerk_pid = clerk.info.backend_pid
        manage("shell", "-c", DISPATCH, env=env)  # beat's tick: one task per merchant, in id order

        def blocked_backend():
            assert first.alive(), processes.logs()
            with postgres.connect(DATABASE) as conn:
                row = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [clerk_pid]
                ).fetchone()
            return row and row[0]

        worker_pid = wait_for(
            blocked_backend, timeout=120, what="the victim's run to reach the locked row", logs=processes.logs
        )
        with postgres.connect(DATABASE) as conn:
            runs = dict(conn.execute("SELECT merchant_id, finished_at IS NOT NULL FROM notifications_dailyjobrun"))
            victim_fees = _count(conn, "SELECT COUNT(*) FROM installments_latefee WHERE merchant_id = %s", victim)
            victim_messages = _count(
                conn, "SELECT COUNT(*) FROM notifications_notification WHERE merchant_id = %s", victim
            )
        # Half-way, for real: two merchants done, the victim's fees committed but no message, two not started.
        assert runs == {merchants[0]: True, merchants[1]: True, victim: False}
        assert victim_fees == sum(1 for _i, _p, _a in reference["late fees"]) // MERCHANTS
        assert victim_messages == 0

        first.kill()  # SIGKILL to the worker's whole process group
        assert not first.alive()
    finally:
        clerk.rollback()
        clerk.close()
    # The dead worker's session finishes its COMMIT, finds nobody to answer and ends (its advisory lock on the
    # victim's daily run goes with it): the victim's customer messages are all in, its staff digest is not, and
    # its day is not finished.
    with postgres.connect(DATABASE, autocommit=True) as conn:
        wait_for(
            lambda: not conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [worker_pid]).fetchone(),
            timeout=30,
            what="the killed worker's database session to end",
        )
        victim_messages = conn.execute(
            "SELECT channel, COUNT(*) FROM notifications_notification WHERE merchant_id = %s GROUP BY channel"
            " ORDER BY channel",
            [victim],
        ).fetchall()
        finished = _count(conn, "SELECT COUNT(*) FROM notifications_dailyjobrun WHERE finished_at IS NOT NULL")
    with postgres.connect(REFERENCE) as conn:
        victim_reference = conn.execute(
            "SELECT channel, COUNT(*) FROM notifications_notification WHERE merchant_id = %s AND channel <> 'in_app'"
            " GROUP BY channel ORDER BY channel",
            [victim],
        ).fetchall()
    assert victim_messages == victim_reference
    assert finished == 2

    processes.celery("worker-2", WORKER_ARGS, env)
    manage("shell", "-c", DISPATCH, env=env)  # beat's next tick: the days still owed

    customer_messages = sum(1 for *_rest, channel, _d in reference["messages"] if channel != "in_app")
    emails = sum(1 for *_rest, channel, _d in reference["messages"] if channel == "email")

    def done():
        with postgres.connect(DATABASE) as conn:
            finished = _count(conn, "SELECT COUNT(*) FROM notifications_dailyjobrun WHERE finished_at IS NOT NULL")
            sent = _count(
                conn, "SELECT COUNT(*) FROM notifications_notification WHERE channel <> 'in_app' AND status = 'sent'"
            )
        return finished == MERCHANTS and sent == customer_messages and len(outbox_ids(outbox)) >= emails

    wait_for(done, timeout=120, interval=0.5, what="every day run and every message sent", logs=processes.logs)
    with postgres.connect(DATABASE) as conn:
        outcome = _outcome(conn)
        email_ids = conn.execute(
            "SELECT id::text FROM notifications_notification WHERE channel = 'email' ORDER BY id::text"
        ).fetchall()
        attempts = conn.execute(
            "SELECT status, attempts, COUNT(*) FROM notifications_notification WHERE channel <> 'in_app'"
            " GROUP BY status, attempts"
        ).fetchall()
    for name in OUTCOME:
        assert outcome[name] == reference[name], name
    assert attempts == [("sent", 1, customer_messages)]
    assert sorted(outbox_ids(outbox)) == [row[0] for row in email_ids]
