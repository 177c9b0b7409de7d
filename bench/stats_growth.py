"""Benchmark: the largest merchant's statistics from the summary rows against the full computation, on one bench
database (``BENCH_DATABASE``), to compare scales: ``BENCH_DATABASE=stats_bench_1 python -m bench.stats_growth``.

Prints one JSON object: wall time (p50, max) and this process's CPU time (p50) of ``merchant_stats_compute`` (30
runs), of its statement over what is overdue by customer alone, from the rows kept for today's cutoff
(``overdue_statement``) and from the rows late (``overdue_statement_read``: before the day's run), and of
``merchant_stats_compute_full`` (5 runs); what the daily run's step costs, in a transaction rolled back: keeping
them from the ledger (``overdue_rebuild``) and moving them on by one day (``overdue_advance_one_day``, from
yesterday's cutoff); the number of overdue rows and of summary rows; whether both computations agree; the load
average before and after.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import time
from datetime import timedelta


def _timed(work, runs: int) -> dict:
    work()
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "p50_ms": round(statistics.median(wall), 1),
        "max_ms": round(max(wall), 1),
        "python_cpu_p50_ms": round(statistics.median(cpu), 1),
        "runs": runs,
    }


def _rolled_back(work, *, before=None, runs: int = 5) -> dict:
    """``work``'s wall time (p50, max) over ``runs`` transactions rolled back, each after ``before``."""
    from django.db import transaction

    wall = []
    for _ in range(runs):
        with transaction.atomic():
            if before is not None:
                before()
            started = time.perf_counter()
            work()
            wall.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    return {"p50_ms": round(statistics.median(wall), 1), "max_ms": round(max(wall), 1), "runs": runs}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.db.models import Count

    from installments.models import (
        CustomerOverdueTotal,
        DueDayTotal,
        Installment,
        MerchantOverdueTotal,
        PlanStatusTotal,
    )
    from installments.overdue import overdue_totals_advance, overdue_totals_rebuild
    from installments.selectors import installments_unpaid, overdue_cutoff
    from payments import stats
    from payments.models import CollectionDayTotal
    from taqsit.dates import merchant_today
    from taqsit.models import Merchant
    from taqsit.tenancy import merchant_scope, platform_scope

    with platform_scope():
        top = Installment.objects.values("merchant_id").annotate(n=Count("pk")).order_by("-n").first()
        merchant = Merchant.objects.get(pk=top["merchant_id"])
    result = {"database": os.environ["BENCH_DATABASE"], "merchant": merchant.name, "installments": top["n"]}
    result["load"] = os.getloadavg()
    with merchant_scope(merchant.pk):
        today = merchant_today(merchant)
        cutoff = overdue_cutoff(merchant, today=today)
        # The overdue rows kept for today's cutoff, as the day's run leaves them (the generator's rebuild made them).
        result["overdue_kept"] = overdue_totals_advance(merchant=merchant, today=today)
        result["summary"] = _timed(lambda: stats.merchant_stats_compute(merchant=merchant, today=today), 30)
        result["overdue_statement"] = _timed(lambda: stats._overdue_by_customer(merchant, cutoff), 30)
        with transaction.atomic():  # before the day's run: kept for yesterday's cutoff, the rows late are read
            MerchantOverdueTotal.objects.filter(merchant=merchant).update(cutoff=cutoff - timedelta(days=1))
            result["overdue_statement_read"] = _timed(lambda: stats._overdue_by_customer(merchant, cutoff), 30)
            transaction.set_rollback(True)
        result["overdue_rebuild"] = _rolled_back(lambda: overdue_totals_rebuild(merchant=merchant, cutoff=cutoff))
        yesterday = cutoff - timedelta(days=1)
        result["overdue_advance_one_day"] = _rolled_back(
            lambda: overdue_totals_advance(merchant=merchant, today=today),
            before=lambda: overdue_totals_rebuild(merchant=merchant, cutoff=yesterday),
        )
        result["overdue_rows_passed_one_day"] = (
            installments_unpaid(merchant=merchant).filter(due_date=yesterday).count()
        )
        result["overdue_rows"] = installments_unpaid(merchant=merchant).filter(due_date__lt=cutoff).count()
        result["summary_rows"] = {
            model.__name__: model.objects.filter(merchant=merchant).count()
            for model in (PlanStatusTotal, DueDayTotal, CollectionDayTotal, CustomerOverdueTotal)
        }
        result["full"] = _timed(lambda: stats.merchant_stats_compute_full(merchant=merchant, today=today), 5)
        kept, full = (
            {**dataclasses.asdict(compute(merchant=merchant, today=today)), "computed_at": None}
            for compute in (stats.merchant_stats_compute, stats.merchant_stats_compute_full)
        )
        result["equal"] = kept == full
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
