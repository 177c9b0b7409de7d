"""Benchmark: the dashboard statistics, the collections list, every list page and API list, and the plan preview,
in-process.

Run as ``python -m bench.reads`` with ``BENCH_DATABASE`` naming a copy of the bench database (bench/run.py does
it); prints one JSON object. The merchant is the largest one (most installments). Each figure is the p50/p99 of
N calls after two warm-up calls, and each has a baseline measured in the same process on the same data:

- statistics and collections: the very SQL statements the ORM sent (captured once with CaptureQueriesContext),
  sent again as text with psycopg on a connection of their own: the database's share of the work;
- ``schedule_build``: the same declining-balance arithmetic written as a bare Decimal loop (no validation);
- the preview endpoint: ``schedule_build`` itself, so the ratio is what the API layer adds.

The statistics are measured uncached (``merchant_stats_compute``: from the summary rows, what a reader after a
payment waits for), against the full computation over the book that they replaced (``merchant_stats_compute_full``,
fewer runs: it takes seconds), cached (``merchant_stats`` with the cache warm), and the dashboard page right after
money moved (the figures recomputed in the request).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

PREVIEW_TERMS = {
    "total_amount": "100000.00",
    "down_payment": "10000.00",
    "number_of_installments": 360,
    "installment_frequency": "monthly",
    "start_date": "2026-01-31",
    "finance_charge_method": "declining_balance",
    "interest_rate": "7.5",
}


def _capture(function) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    return [query["sql"] for query in captured.captured_queries]


def _raw(conn, statements: list[str]):
    def run() -> None:
        for statement in statements:
            conn.execute(statement).fetchall()

    return run


def _entry(name: str, seconds: list[float], baseline: list[float] | None, note: str, **extra) -> dict:
    from bench.common import latency_summary, ratio

    figure = latency_summary(seconds)
    entry = {"name": name, "note": note, **figure, **extra}
    if baseline is not None:
        base = latency_summary(baseline)
        entry["baseline"] = base
        entry["ratio_p50"] = ratio(figure["p50_ms"], base["p50_ms"])
        entry["ratio_p99"] = ratio(figure["p99_ms"], base["p99_ms"])
    print(
        f"  {name}: p50 {figure['p50_ms']:.1f} ms, p99 {figure['p99_ms']:.1f} ms"
        + (f" (baseline p50 {entry['baseline']['p50_ms']:.1f} ms, x{entry['ratio_p50']})" if baseline else ""),
        file=sys.stderr,
        flush=True,
    )
    return entry


def schedule_reference(financed: Decimal, rate: Decimal, n: int, start: date) -> list[tuple]:
    """The baseline of the preview: DESIGN.md's declining-balance formulas as a bare loop, nothing checked."""
    from installments.schedule import due_date_for

    unit = Decimal("0.01")
    r = rate / 100 / 12
    payment = (financed * r / (1 - (1 + r) ** -n)).quantize(unit, rounding=ROUND_HALF_UP)
    balance = financed
    rows = []
    for k in range(1, n + 1):
        interest = (balance * r).quantize(unit, rounding=ROUND_HALF_UP)
        principal = balance if k == n else payment - interest
        balance -= principal
        rows.append((k, due_date_for(start, "monthly", k), principal + interest, principal, interest))
    return rows


def main() -> int:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.paginator import Paginator
    from django.db.models import Count
    from rest_framework.test import APIClient

    from bench import db
    from bench.common import timed
    from installments.models import Installment, InstallmentPlan
    from installments.schedule import schedule_build
    from installments.selectors import installments_overdue
    from installments.views import COLLECTIONS_PAGE_SIZE
    from payments.stats import merchant_stats, merchant_stats_compute, merchant_stats_compute_full
    from taqsit.cache import merchant_stats_invalidate
    from taqsit.dates import merchant_today
    from taqsit.models import Merchant, Role, User
    from taqsit.tenancy import merchant_scope, platform_scope

    runs = int(os.environ.get("BENCH_RUNS", "50"))
    with platform_scope():  # the largest merchant: a count across merchants
        top = Installment.objects.values("merchant").annotate(n=Count("pk")).order_by("-n").first()
    merchant = Merchant.objects.get(pk=top["merchant"])
    owner = User.objects.get(merchant=merchant, role=Role.OWNER)
    # Everything measured below runs for that merchant, as its requests and tasks do (row-level security on);
    # held in a name so the scope lasts as long as this function.
    scope = merchant_scope(merchant.pk)
    scope.__enter__()
    today = merchant_today(merchant)
    srv = db.server()
    raw = srv.connect(os.environ["BENCH_DATABASE"], autocommit=True)
    results = {
        "merchant": merchant.name,
        "merchant_installments": top["n"],
        "overdue_rows": installments_overdue(merchant=merchant, today=today).count(),
        "runs": runs,
        "entries": [],
    }
    entries = results["entries"]
    print(f"  largest merchant: {merchant.name} ({top['n']:,} installments)", file=sys.stderr, flush=True)

    # The dashboard statistics.
    def stats_uncached():
        merchant_stats_compute(merchant=merchant, today=today)

    stats_sql = _capture(stats_uncached)
    stats_baseline = timed(_raw(raw, stats_sql), runs)
    entries.append(
        _entry(
            "stats_uncached",
            timed(stats_uncached, runs),
            stats_baseline,
            "merchant_stats_compute(): every figure of the dashboard, cache bypassed",
            queries=len(stats_sql),
        )
    )
    full_runs = max(3, runs // 10)
    entries.append(
        _entry(
            "stats_full",
            timed(lambda: merchant_stats_compute_full(merchant=merchant, today=today), full_runs),
            stats_baseline,
            f"merchant_stats_compute_full(): the same figures from the whole book ({full_runs} runs)",
        )
    )
    merchant_stats(merchant=merchant, today=today)
    entries.append(
        _entry(
            "stats_cached",
            timed(lambda: merchant_stats(merchant=merchant, today=today), runs * 10),
            stats_baseline,
            "merchant_stats() with the cache warm (local-memory cache here; Redis in production adds a round trip)",
        )
    )
    client = APIClient()
    client.force_login(owner)

    def dashboard_uncached():
        cache.clear()
        response = client.get("/")
        assert response.status_code == 200, response.status_code

    entries.append(
        _entry(
            "dashboard_page_uncached",
            timed(dashboard_uncached, runs),
            stats_baseline,
            "GET / (the dashboard page, rendered) with the cache cleared before each request",
        )
    )

    # After money moved: the version bumped as a payment's commit does, so the page computes the figures from the
    # summary rows in the request.
    def dashboard_after_a_payment():
        merchant_stats_invalidate(merchant.pk)  # outside a transaction: at once
        response = client.get("/")
        assert response.status_code == 200, response.status_code

    entries.append(
        _entry(
            "dashboard_page_after_a_payment",
            timed(dashboard_after_a_payment, runs),
            stats_baseline,
            "GET / after money moved: the figures computed from the summary rows in the request",
        )
    )

    # The collections list: what the page runs (the count for the pager, then the first page).
    def collections():
        page = Paginator(installments_overdue(merchant=merchant, today=today), COLLECTIONS_PAGE_SIZE).get_page(1)
        list(page.object_list)

    collections_sql = _capture(collections)
    collections_baseline = timed(_raw(raw, collections_sql), runs)
    entries.append(
        _entry(
            "collections_selector",
            timed(collections, runs),
            collections_baseline,
            f"installments_overdue(): the count and the first page of {COLLECTIONS_PAGE_SIZE} rows",
            queries=len(collections_sql),
        )
    )

    def collections_page():
        response = client.get("/plans/collections/")
        assert response.status_code == 200, response.status_code

    entries.append(
        _entry(
            "collections_page",
            timed(collections_page, runs),
            collections_baseline,
            "GET /plans/collections/ (the page, rendered)",
        )
    )
    api = APIClient()
    api.force_authenticate(owner)

    def collections_api():
        response = api.get("/api/installments/installments/", {"status": "overdue"})
        assert response.status_code == 200, response.status_code

    entries.append(
        _entry(
            "collections_api",
            timed(collections_api, runs),
            collections_baseline,
            "GET /api/installments/installments/?status=overdue (first page of 25, JSON)",
        )
    )

    # Every list page and API list, first page, as the merchant's owner: p50/p99 of the request and its CPU in
    # this process (the figure the machine's load moves least); baseline: the SELECTs the request sent, replayed.
    plan = InstallmentPlan.objects.filter(merchant=merchant).order_by("-last_payment_number").first()
    lists = [
        ("customers_page", client, "/customers/"),
        ("plans_page", client, "/plans/"),
        ("collections_page_cpu", client, "/plans/collections/"),
        ("audit_plan_history_page", client, f"/audit/plans/{plan.pk}/"),
        ("audit_customer_history_page", client, f"/audit/customers/{plan.customer_id}/"),
        ("customers_api", api, "/api/customers/"),
        ("plans_api", api, "/api/installments/plans/"),
        ("installments_api", api, "/api/installments/installments/"),
        ("payments_api", api, "/api/installments/payments/"),
        ("notifications_api", api, "/api/notifications/"),
        ("audit_log_api", api, "/api/audit-log/"),
    ]
    for name, http, url in lists:

        def get(http=http, url=url):
            response = http.get(url)
            assert response.status_code == 200, (url, response.status_code)

        sent = [sql for sql in _capture(get) if sql.lstrip().upper().startswith("SELECT")]
        cpu_started = time.process_time()
        seconds = timed(get, runs)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / (runs + 2)
        entries.append(
            _entry(
                f"list_{name}",
                seconds,
                timed(_raw(raw, sent), runs),
                f"GET {url} (first page), the request in-process; baseline: its {len(sent)} SELECTs replayed",
                queries=len(sent),
                cpu_mean_ms=round(cpu_ms, 3),
            )
        )

    # The plan preview: 360 monthly installments, declining balance.
    terms = dict(PREVIEW_TERMS)

    def build():
        schedule_build(
            currency="USD",
            total_amount=Decimal(terms["total_amount"]),
            down_payment=Decimal(terms["down_payment"]),
            frequency="monthly",
            start_date=date.fromisoformat(terms["start_date"]),
            number_of_installments=360,
            finance_charge_method="declining_balance",
            interest_rate=Decimal(terms["interest_rate"]),
        )

    def reference():
        schedule_reference(Decimal("90000.00"), Decimal(terms["interest_rate"]), 360, date(2026, 1, 31))

    build_times = timed(build, runs * 4)
    entries.append(
        _entry(
            "preview_schedule_build",
            build_times,
            timed(reference, runs * 4),
            "schedule_build(): 360 monthly rows, declining balance; baseline: the bare Decimal loop",
        )
    )

    def preview_api():
        response = api.post("/api/installments/plans/preview/", terms, format="json")
        assert response.status_code == 200, (response.status_code, response.content[:300])

    entries.append(
        _entry(
            "preview_api",
            timed(preview_api, runs * 2),
            build_times,
            "POST /api/installments/plans/preview/ in-process (JSON of 360 rows); baseline: schedule_build()",
        )
    )
    raw.close()
    print(json.dumps(results, default=str))
    scope.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.exit(main())
