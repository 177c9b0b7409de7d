"""Benchmark: the daily overdue-and-fees job over every merchant, against the bare SQL that does the same marking.

The job is the application's own code: the daily run's ledger steps (dailyrun/jobs.py ``DAILY_STEPS``:
``installments_mark_overdue``, ``late_fees_apply``, ``plans_mark_defaulted``, ``plans_restore_active``, in that
order), merchant by merchant, in a job context, run in a worker process of its own so that its peak RSS is the
job's. The baseline is five SQL statements over all merchants at once (no chunks, no row locks, no ORM), sent
with psycopg. Each run starts from a fresh file copy of the bench database (``CREATE DATABASE ... TEMPLATE
taqsit_bench``), and both runs' results are compared, so the baseline provably does the same work.

Two scenarios: ``daily`` (today, the job having last run yesterday: a normal day) and ``catch_up`` (30 days on:
a month of newly overdue rows to mark and charge in one run, the heaviest day the job can have).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

WORKER_MODULE = "bench.daily_job"
SCENARIOS = {"daily": 0, "catch_up": 30}

# The baseline: the same rules as installments/jobs.py, as plain statements over every merchant. ``day`` is
# each merchant's today (its time zone) plus the scenario's offset; cutoff = day - grace days.
_CUTOFF = "((now() AT TIME ZONE m.timezone)::date + %(offset)s::integer - m.grace_days)"


def _status_move(was: str, now: str) -> str:
    """The statements' tail that moves the plans of ``moved`` (a CTE: id, merchant and totals) from status row
    ``was`` to ``now``, as installments/summaries.py ``plans_status_move`` does."""
    return f"""
        status_moved AS (  -- the statistics' summary rows follow the plans (installments/summaries.py)
            SELECT moved.merchant_id, count(*) AS plans, sum(moved.total_payable) AS total_payable,
                   sum(moved.late_fees) AS late_fees, sum(moved.amount_paid) AS amount_paid,
                   sum(moved.rebates) AS rebates, coalesce(sum(fees.unpaid), 0) AS late_fees_unpaid,
                   coalesce(sum(fees.charity), 0) AS charity_fees, coalesce(sum(fees.charity_paid), 0) AS charity_paid
              FROM moved
              LEFT JOIN (SELECT i.plan_id, sum(i.late_fee - i.late_fee_paid) AS unpaid, sum(i.charity_fee) AS charity,
                                sum(i.charity_fee_paid) AS charity_paid
                           FROM installments_installment i JOIN moved ON moved.id = i.plan_id
                          WHERE i.late_fee > 0 GROUP BY i.plan_id) fees ON fees.plan_id = moved.id
             GROUP BY moved.merchant_id
        ),
        status_totals AS (
            INSERT INTO installments_planstatustotal AS t (merchant_id, status, plans, total_payable, late_fees,
                                                           amount_paid, late_fees_unpaid, rebates, charity_fees,
                                                           charity_fees_paid)
            SELECT merchant_id, status, sign * plans, sign * total_payable, sign * late_fees, sign * amount_paid,
                   sign * late_fees_unpaid, sign * rebates, sign * charity_fees, sign * charity_paid
              FROM status_moved, (VALUES ('{was}', -1), ('{now}', 1)) AS d(status, sign)
             ORDER BY merchant_id, status
            ON CONFLICT (merchant_id, status) DO UPDATE
               SET plans = t.plans + EXCLUDED.plans, total_payable = t.total_payable + EXCLUDED.total_payable,
                   late_fees = t.late_fees + EXCLUDED.late_fees, amount_paid = t.amount_paid + EXCLUDED.amount_paid,
                   late_fees_unpaid = t.late_fees_unpaid + EXCLUDED.late_fees_unpaid,
                   rebates = t.rebates + EXCLUDED.rebates, charity_fees = t.charity_fees + EXCLUDED.charity_fees,
                   charity_fees_paid = t.charity_fees_paid + EXCLUDED.charity_fees_paid
            RETURNING 1
        )
"""


BASELINE_SQL = {
    "mark_overdue": f"""
        UPDATE installments_installment i SET status = 'overdue', updated_at = now()
          FROM installments_installmentplan p, taqsit_merchant m
         WHERE p.id = i.plan_id AND m.id = i.merchant_id AND p.status IN ('active', 'defaulted')
           AND i.superseded_at IS NULL AND i.amount_paid < i.amount_due AND i.status <> 'overdue'
           AND i.due_date < {_CUTOFF}""",
    "unmark_overdue": f"""
        UPDATE installments_installment i
           SET status = CASE WHEN i.amount_paid > 0 THEN 'partially_paid' ELSE 'pending' END, updated_at = now()
          FROM taqsit_merchant m
         WHERE m.id = i.merchant_id AND i.superseded_at IS NULL AND i.amount_paid < i.amount_due
           AND i.status = 'overdue' AND i.due_date >= {_CUTOFF}""",
    "late_fees": f"""
        WITH places AS (SELECT * FROM unnest(%(merchants)s::uuid[], %(places)s::integer[]) AS t(merchant_id, places)),
        candidates AS (
            SELECT i.id AS installment_id, i.plan_id, i.merchant_id, i.due_date + m.grace_days + 1 AS period,
                   CASE m.late_fee_method WHEN 'fixed' THEN m.late_fee_amount
                        ELSE LEAST(ROUND((i.amount_due - i.amount_paid) * m.late_fee_percent / 100, places.places),
                                   m.late_fee_cap) END AS amount,
                   m.late_fee_booking = 'charity' AS charity
              FROM installments_installment i
              JOIN installments_installmentplan p ON p.id = i.plan_id
              JOIN taqsit_merchant m ON m.id = i.merchant_id
              JOIN places ON places.merchant_id = m.id
             WHERE m.late_fee_method <> 'none' AND p.status IN ('active', 'defaulted')
               AND i.superseded_at IS NULL AND i.amount_paid < i.amount_due AND i.due_date < {_CUTOFF}
        ),
        inserted AS (
            INSERT INTO installments_latefee (id, merchant_id, plan_id, installment_id, period, amount, is_charity,
                                              created_at, updated_at)
            SELECT gen_random_uuid(), merchant_id, plan_id, installment_id, period, amount, charity, now(), now()
              FROM candidates WHERE amount > 0
            ON CONFLICT (installment_id, period) DO NOTHING
            RETURNING installment_id, plan_id, merchant_id, amount, is_charity
        ),
        rows AS (
            UPDATE installments_installment i
               SET late_fee = i.late_fee + inserted.amount,
                   charity_fee = i.charity_fee + CASE WHEN inserted.is_charity THEN inserted.amount ELSE 0 END,
                   updated_at = now()
              FROM inserted WHERE i.id = inserted.installment_id RETURNING i.id
        ),
        status_totals AS (
            INSERT INTO installments_planstatustotal AS t (merchant_id, status, plans, total_payable, late_fees,
                                                           amount_paid, late_fees_unpaid, rebates, charity_fees,
                                                           charity_fees_paid)
            SELECT p.merchant_id, p.status, 0, 0, SUM(inserted.amount), 0, SUM(inserted.amount), 0,
                   SUM(CASE WHEN inserted.is_charity THEN inserted.amount ELSE 0 END), 0
              FROM inserted JOIN installments_installmentplan p ON p.id = inserted.plan_id
             GROUP BY p.merchant_id, p.status
             ORDER BY p.merchant_id, p.status
            ON CONFLICT (merchant_id, status) DO UPDATE
               SET late_fees = t.late_fees + EXCLUDED.late_fees,
                   late_fees_unpaid = t.late_fees_unpaid + EXCLUDED.late_fees_unpaid,
                   charity_fees = t.charity_fees + EXCLUDED.charity_fees
            RETURNING 1
        ),
        plans AS (
            UPDATE installments_installmentplan p SET late_fees = p.late_fees + totals.amount, updated_at = now()
              FROM (SELECT plan_id, sum(amount) AS amount FROM inserted GROUP BY plan_id) totals
             WHERE p.id = totals.plan_id RETURNING p.id
        )
        SELECT count(*) FROM inserted""",
    "mark_defaulted": f"""
        WITH moved AS (
        UPDATE installments_installmentplan p
           SET status = 'defaulted', status_reason = 'Overdue past the merchant''s limit.', status_changed_at = now(),
               updated_at = now()
          FROM taqsit_merchant m
         WHERE m.id = p.merchant_id AND p.status = 'active'
           AND EXISTS (SELECT 1 FROM installments_installment i
                        WHERE i.plan_id = p.id AND i.superseded_at IS NULL AND i.amount_paid < i.amount_due
                          AND i.due_date < {_CUTOFF} - (m.default_after_days - 1))
        RETURNING p.id, p.merchant_id, p.total_payable, p.late_fees, p.amount_paid, p.rebates
        ),
{_status_move("active", "defaulted")}
        SELECT count(*) FROM moved""",
    "restore_active": f"""
        WITH moved AS (
        UPDATE installments_installmentplan p
           SET status = 'active', status_reason = 'Brought up to date.', status_changed_at = now(), updated_at = now()
          FROM taqsit_merchant m
         WHERE m.id = p.merchant_id AND p.status = 'defaulted'
           AND NOT EXISTS (SELECT 1 FROM installments_installment i
                            WHERE i.plan_id = p.id AND i.superseded_at IS NULL AND i.amount_paid < i.amount_due
                              AND i.due_date < {_CUTOFF})
        RETURNING p.id, p.merchant_id, p.total_payable, p.late_fees, p.amount_paid, p.rebates
        ),
{_status_move("defaulted", "active")}
        SELECT count(*) FROM moved""",
}

# What both runs must agree on afterwards.
OUTCOME_SQL = {
    "installments_by_status": "SELECT status, count(*) FROM installments_installment GROUP BY 1 ORDER BY 1",
    "plans_by_status": "SELECT status, count(*) FROM installments_installmentplan GROUP BY 1 ORDER BY 1",
    "late_fees": "SELECT 'count', count(*)::text FROM installments_latefee UNION ALL "
    "SELECT 'sum', sum(amount)::text FROM installments_latefee",
    "plan_late_fees": "SELECT 'sum', sum(late_fees)::text FROM installments_installmentplan",
    "status_totals": "SELECT status, concat_ws(' ', sum(plans), sum(late_fees), sum(late_fees_unpaid), "
    "sum(charity_fees), sum(total_payable)) FROM installments_planstatustotal GROUP BY 1 ORDER BY 1",
}


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def worker(offset: int) -> dict:
    """In the worker process: run the job for every active merchant; its timings and peak RSS."""
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from dailyrun.jobs import DAILY_STEPS
    from installments.models import Installment
    from taqsit import audit
    from taqsit.dates import merchant_today
    from taqsit.models import Merchant
    from taqsit.tenancy import merchant_scope, platform_scope

    # The daily run's ledger steps, taken from its own ordered list; the rest (messages, archival) are not timed.
    measured = {
        "installments_mark_overdue": "overdue",
        "late_fees_apply": "fees",
        "plans_mark_defaulted": "defaulted",
        "plans_restore_active": "restored",
    }
    ledger_steps = [(name, step) for name, step in DAILY_STEPS if name in measured]
    merchants = list(Merchant.objects.filter(is_active=True).order_by("pk"))
    with platform_scope():  # every merchant's rows: the platform role's count
        installments = Installment.objects.count()
    rss_before = _rss_mb()
    steps = dict.fromkeys(measured, 0.0)
    changed = dict.fromkeys(measured.values(), 0)
    now = timezone.now()
    started = time.perf_counter()
    with audit.context(source=audit.Source.JOB, job="bench.daily_job"):
        for merchant in merchants:
            day = merchant_today(merchant) + timedelta(days=offset)
            for name, step in ledger_steps:
                step_started = time.perf_counter()
                with merchant_scope(merchant.pk):  # as the daily run's task runs it (row-level security on)
                    result = step(merchant, day, now)
                steps[name] += time.perf_counter() - step_started
                # late_fees_apply's step answers {"count", "total"}; the others the number of rows they changed.
                changed[measured[name]] += result["count"] if isinstance(result, dict) else result
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "steps_s": {name: round(value, 3) for name, value in steps.items()},
        "changed": changed,
        "merchants": len(merchants),
        "installments": installments,
        "peak_rss_mb": _rss_mb(),
        "rss_after_setup_mb": rss_before,
    }


def baseline(conn, offset: int) -> dict:
    """The bare statements, one transaction each, over every merchant at once."""
    from taqsit.money import minor_unit

    merchants = conn.execute("SELECT id, currency FROM taqsit_merchant WHERE is_active").fetchall()
    params = {
        "offset": offset,
        "merchants": [row[0] for row in merchants],
        "places": [minor_unit(row[1]) for row in merchants],
    }
    steps, changed = {}, {}
    started = time.perf_counter()
    for name, statement in BASELINE_SQL.items():
        step = time.perf_counter()
        with conn.transaction():
            cursor = conn.execute(statement, params)
            changed[name] = cursor.fetchone()[0] if cursor.description else cursor.rowcount
        steps[name] = round(time.perf_counter() - step, 3)
    return {"wall_s": round(time.perf_counter() - started, 3), "steps_s": steps, "changed": changed}


def outcome(conn) -> dict:
    return {name: dict(conn.execute(query).fetchall()) for name, query in OUTCOME_SQL.items()}


def _worker_run(database: str, offset: int) -> dict:
    from bench import db

    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", WORKER_MODULE, "--worker", "--offset", str(offset)],
        env=db.django_env(database, LOG_LEVEL="WARNING"),
        cwd=db.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the job worker failed:\n{result.stdout}\n{result.stderr}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["process_s"] = round(time.perf_counter() - started, 3)
    return report


def run(*, template: str, rounds: int, scenarios: list[str]) -> dict:
    """Every scenario, ``rounds`` times each (job and baseline each on a fresh copy); the best round counts."""
    from bench import common, db

    srv = db.server()
    copy = f"{template}_job"
    results = {}
    for scenario in scenarios:
        offset = SCENARIOS[scenario]
        job_runs, baseline_runs = [], []
        same = True
        for round_ in range(rounds):
            copy_s = db.database_create(srv, copy, template=template)
            job = _worker_run(copy, offset)
            job["copy_s"] = round(copy_s, 2)
            with srv.connect(copy, autocommit=True) as conn:
                job_outcome = outcome(conn)
            db.database_create(srv, copy, template=template)
            with srv.connect(copy) as conn:
                base = baseline(conn, offset)
            with srv.connect(copy, autocommit=True) as conn:
                base_outcome = outcome(conn)
            same = same and job_outcome == base_outcome
            job_runs.append(job)
            baseline_runs.append(base)
            print(
                f"  {scenario} round {round_ + 1}: job {job['wall_s']:.2f} s ({job['changed']}, peak RSS "
                f"{job['peak_rss_mb']} MB), baseline SQL {base['wall_s']:.2f} s ({base['changed']}), "
                f"same outcome: {job_outcome == base_outcome}",
                flush=True,
            )
        db.database_drop(srv, copy)
        best_job = min(job_runs, key=lambda r: r["wall_s"])
        best_base = min(baseline_runs, key=lambda r: r["wall_s"])
        installments = best_job["installments"]
        results[scenario] = {
            "day_offset": offset,
            "job": best_job,
            "baseline": best_base,
            "ratio": common.ratio(best_job["wall_s"], best_base["wall_s"]),
            "installments_per_s": round(installments / best_job["wall_s"]),
            "baseline_installments_per_s": round(installments / best_base["wall_s"]),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in job_runs),
            "same_outcome": same,
            "rounds": {
                "job_wall_s": [r["wall_s"] for r in job_runs],
                "baseline_wall_s": [r["wall_s"] for r in baseline_runs],
            },
            "targets": {"ratio_at_most": 2.0, "peak_rss_mb_under": 256},
            "met": {
                "ratio": best_job["wall_s"] <= 2 * best_base["wall_s"],
                "memory": max(r["peak_rss_mb"] for r in job_runs) < 256,
            },
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {WORKER_MODULE}")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.offset)))
        return 0
    parser.error("run the benchmarks with python -m bench.run")
    return 2


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.exit(main())
