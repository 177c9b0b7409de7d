"""Benchmark: the reads that go to a read replica, served by a real streaming replica and by the primary.

A throwaway embedded PostgreSQL (the wheel's, as tests/resilience) is the primary: the bench data set is generated
into it (``bench.generate``, ``--scale``, default 0.05), then a replica is made with the wheel's own
``pg_basebackup -R`` and started on a socket named by a port in 14000-14999. A child process configured as
production is (``DATABASE_URL`` the primary, ``DATABASE_REPLICA_URLS`` the replica) times, for the largest
merchant, each read that ``taqsit/replicas.py`` sends to a replica, once on the primary and once on the replica:
the collections list (count and first page), the collections export (every overdue row, streamed), the
statistics' recomputation; and what choosing a caught-up replica costs (two LSN reads). Both servers run on this
machine: the figure is what a read costs there (the primary's CPU it frees), not a speed-up.

    python -m bench.replica_reads [--scale 0.05] [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import common, db

DATABASE = "scale_replica_bench"


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.replica_reads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_REPLICA_SCALE", "0.05")))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "30")))
    parser.add_argument("--results", default="replica_reads", help="name of the JSON under bench/results")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child(runs: int) -> dict:
    """In the app's process: each read on the primary, then on the replica, for the largest merchant."""
    import django

    django.setup()
    from django.db import connections
    from django.db.models import Count
    from django.test.utils import override_settings

    from installments.exports import installments_csv
    from installments.models import Installment
    from installments.selectors import installments_overdue
    from installments.views import COLLECTIONS_PAGE_SIZE
    from payments.stats import merchant_stats_compute
    from taqsit.dates import merchant_today
    from taqsit.models import Merchant
    from taqsit.replicas import replica_choose, replica_use
    from taqsit.tenancy import merchant_scope, platform_scope

    with platform_scope():
        top = Installment.objects.values("merchant").annotate(n=Count("pk")).order_by("-n").first()
    merchant = Merchant.objects.get(pk=top["merchant"])
    out = {"merchant": merchant.name, "merchant_installments": top["n"], "runs": runs, "entries": []}
    with merchant_scope(merchant.pk):
        today = merchant_today(merchant)
        out["overdue_rows"] = installments_overdue(merchant=merchant, today=today).count()

        def collections() -> None:
            rows = installments_overdue(merchant=merchant, today=today)
            rows.count()
            list(rows[:COLLECTIONS_PAGE_SIZE])

        def export() -> None:
            rows = installments_overdue(merchant=merchant, today=today)
            response = installments_csv(rows, merchant=merchant, today=today, name="collections")
            b"".join(response.streaming_content)

        def stats() -> None:
            merchant_stats_compute(merchant=merchant, today=today)

        def served_by(alias: str | None) -> bool:
            with connections[alias or "default"].cursor() as cursor:
                cursor.execute("SELECT pg_is_in_recovery()")
                return cursor.fetchone()[0]

        for name, function, count in (
            ("collections list (count + first page)", collections, runs),
            ("collections export (every overdue row, CSV)", export, max(3, runs // 5)),
            ("statistics recomputed", stats, max(3, runs // 5)),
        ):
            entry = {"name": name}
            # The primary: no replica to choose (the export would otherwise pick one itself).
            with override_settings(DATABASE_REPLICA_ALIASES=[]), replica_use(None):
                entry["primary"] = common.latency_summary(common.timed(function, count))
            with replica_use("replica1"):
                entry["replica"] = common.latency_summary(common.timed(function, count))
                entry["replica_in_recovery"] = served_by("replica1")
            entry["ratio_p50"] = common.ratio(entry["replica"]["p50_ms"], entry["primary"]["p50_ms"])
            out["entries"].append(entry)
            print(f"  {name}: {entry}", file=sys.stderr, flush=True)
        out["choose_caught_up_replica"] = common.latency_summary(
            common.timed(lambda: replica_choose(caught_up=True), runs)
        )
        out["chosen"] = replica_choose(caught_up=True)
    return out


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        print(json.dumps(child(args.runs)))
        return 0
    from tests.resilience.servers import Postgres, Replica

    root = Path(tempfile.mkdtemp(prefix="taqsit-replica-bench-"))
    primary = replica = None
    try:
        primary = Postgres(root)  # root/pgdata; bench.generate creates the database in it
        env = db.django_env(DATABASE, DATABASE_URL=primary.url(DATABASE), TAQSIT_VAR_DIR=str(root / "var"))
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.generate",
                "--database",
                DATABASE,
                "--scale",
                str(args.scale),
                "--results",
                "",
            ],
            cwd=db.ROOT,
            env=env,
            check=True,
        )
        generated_s = time.perf_counter() - started
        replica = Replica(primary, root / "replica")
        load_before = os.getloadavg()
        output = subprocess.run(
            [sys.executable, "-m", "bench.replica_reads", "--child", "--runs", str(args.runs)],
            cwd=db.ROOT,
            env={**env, "DATABASE_REPLICA_URLS": replica.url(DATABASE), "LOG_LEVEL": "WARNING"},
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(output.stdout.strip().splitlines()[-1])
        with primary.connect(DATABASE) as conn:
            head = common.results_head("replica_reads", conn)
        data = {
            **head,
            "scale": args.scale,
            "generate_s": round(generated_s, 1),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in os.getloadavg()],
            **result,
        }
        print(f"Results: {common.results_write(args.results, data)}")
    finally:
        if replica is not None:
            replica.cleanup()
        if primary is not None:
            primary.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
