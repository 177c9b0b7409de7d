"""``python -m bench.run``: every benchmark on the bench database, each against its baseline, results as JSON.

Writes bench/results/daily_job.json, payments_http.json, dashboard_collections.json, plan_preview.json and
stats_growth.json (machine, data sizes, figures, baseline, ratio, targets, date) and prints a summary. The bench
database (``taqsit_bench``, made by ``python -m bench.generate``) is only read: every benchmark that writes works on
a fresh file copy of it, dropped afterwards.

Settings from the environment: BENCH_DATABASE, BENCH_ONLY (comma-separated: daily_job, reads, stats, payments),
BENCH_RUNS (calls per read figure, 50), BENCH_JOB_ROUNDS (2), BENCH_USERS (16), BENCH_HTTP_SECONDS (60),
BENCH_PGBENCH_TRANSACTIONS (per client, 1500), BENCH_GUNICORN_WORKERS (3, as in production), BENCH_CPU_PAYMENTS
(payments posted in-process for the CPU figure, 300), BENCH_REDIS_URL (a Redis database for the payment runs'
cache and broker, as in production; none: the application's defaults), BENCH_PORTS (gunicorn's port range).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

BENCHMARKS = ("daily_job", "reads", "stats", "payments")


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _context(srv, database: str) -> dict:
    from bench import common, db

    with srv.connect(database, autocommit=True) as conn:
        machine = common.machine_info(conn)
    meta = db.database_comment(srv, database) or {}
    return {
        "date": common.now_iso(),
        "machine": machine,
        "database": database,
        "data": {key: meta.get(key) for key in ("scale", "merchants", "customers", "plans", "rows", "generated_at")},
    }


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def daily_job(srv, database: str) -> dict:
    from bench import daily_job as job

    print("Daily overdue-and-fees job (installments/jobs.py) vs bare SQL", flush=True)
    return job.run(template=database, rounds=_env_int("BENCH_JOB_ROUNDS", 2), scenarios=list(job.SCENARIOS))


def _module_on_copy(srv, database: str, module: str, **env: str) -> dict:
    """``python -m <module>`` in a child process on a fresh copy of ``database`` (dropped after): the JSON it
    prints last."""
    from bench import db

    copy = f"{database}_{module.rsplit('.', 1)[-1]}"
    db.database_create(srv, copy, template=database)
    try:
        result = subprocess.run(
            [sys.executable, "-m", module],
            env=db.django_env(copy, LOG_LEVEL="WARNING", **env),
            cwd=db.ROOT,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        db.database_drop(srv, copy)
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed (its errors are above)")
    return json.loads(result.stdout.strip().splitlines()[-1])


def reads(srv, database: str) -> dict:
    print("Dashboard statistics, collections list, plan preview (in-process)", flush=True)
    return _module_on_copy(
        srv,
        database,
        "bench.reads",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        BENCH_RUNS=str(_env_int("BENCH_RUNS", 50)),
    )


def stats(srv, database: str) -> dict:
    """The largest merchant's statistics from the summary rows against the full computation (bench/stats_growth.py),
    on a copy: the overdue rows are moved on to today's cutoff first, as the day's run does."""
    print("Statistics from the summary rows vs the full computation (in-process)", flush=True)
    return _module_on_copy(srv, database, "bench.stats_growth")


def payments(srv, database: str) -> dict:
    from bench import payments as pay

    print("Payments over HTTP (gunicorn + locust) vs pgbench with the service's SQL", flush=True)
    return pay.run(
        template=database,
        users=_env_int("BENCH_USERS", 16),
        duration=_env_int("BENCH_HTTP_SECONDS", 60),
        workers=_env_int("BENCH_GUNICORN_WORKERS", 3),
        pgbench_transactions=_env_int("BENCH_PGBENCH_TRANSACTIONS", 1500),
        cpu_payments=_env_int("BENCH_CPU_PAYMENTS", 300),
    )


def main() -> int:
    database = os.environ.setdefault("BENCH_DATABASE", "taqsit_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from bench import common, db

    srv = db.server()
    if not db.database_exists(srv, database):
        print(f"{database} does not exist: run python -m bench.generate (or make bench) first.", file=sys.stderr)
        return 2
    only = [name for name in (os.environ.get("BENCH_ONLY") or ",".join(BENCHMARKS)).split(",") if name]
    summary = []
    for name in only:
        context = _context(srv, database)
        load_before = _load()
        started = time.perf_counter()
        result = {"daily_job": daily_job, "reads": reads, "stats": stats, "payments": payments}[name](srv, database)
        elapsed = round(time.perf_counter() - started, 1)
        run_info = {"benchmark_wall_s": elapsed, "load_average_before": load_before, "load_average_after": _load()}
        if name == "daily_job":
            path = common.results_write("daily_job", {"benchmark": "daily_job", **context, **run_info, **result})
            for scenario, figures in result.items():
                summary.append(
                    (f"daily job ({scenario})", f"{figures['job']['wall_s']:.2f} s, {figures['installments_per_s']:,}"
                     f" inst/s, {figures['peak_rss_mb']} MB", f"{figures['baseline']['wall_s']:.2f} s",
                     f"x{figures['ratio']}")
                )  # fmt: skip
        elif name == "reads":
            entries = result.pop("entries")
            dashboard = [entry for entry in entries if not entry["name"].startswith("preview")]
            preview = [entry for entry in entries if entry["name"].startswith("preview")]
            for file_name, group in (("dashboard_collections", dashboard), ("plan_preview", preview)):
                path = common.results_write(
                    file_name, {"benchmark": file_name, **context, **run_info, **result, "entries": group}
                )
            for entry in entries:
                summary.append(
                    (entry["name"], f"p50 {entry['p50_ms']:.1f} ms, p99 {entry['p99_ms']:.1f} ms",
                     f"p50 {entry['baseline']['p50_ms']:.1f} ms", f"x{entry['ratio_p50']} (p50)")
                )  # fmt: skip
        elif name == "stats":
            path = common.results_write("stats_growth", {"benchmark": "stats_growth", **context, **run_info, **result})
            summary.append(
                ("statistics (summary rows)", f"p50 {result['summary']['p50_ms']:.1f} ms, what is overdue by customer "
                 f"{result['overdue_statement']['p50_ms']:.1f} ms", f"p50 {result['full']['p50_ms']:.1f} ms",
                 f"x{round(result['summary']['p50_ms'] / result['full']['p50_ms'], 4)}")
            )  # fmt: skip
        else:
            path = common.results_write(
                "payments_http", {"benchmark": "payments_http", **context, **run_info, **result}
            )
            http, base = result["http"], result["baseline"]
            summary.append(
                ("payment in-process (CPU)", f"{result['in_process']['cpu_ms_per_payment']} ms of CPU per payment",
                 "-", "-")
            )  # fmt: skip
            summary.append(
                ("payments over HTTP", f"{http['throughput_rps']}/s, p50 {http['p50_ms']:.1f} ms, p99 "
                 f"{http['p99_ms']:.1f} ms", f"pgbench {base['throughput_tps']} tps", f"x{result['ratio_throughput']}")
            )  # fmt: skip
        print(f"  -> {path} ({elapsed} s)", flush=True)
    print("\nbenchmark | figure | baseline | ratio")
    for row in summary:
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
