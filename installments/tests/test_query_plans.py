"""The list queries keep a good plan when the tables' statistics are stale: 500 plans written into tables with
autovacuum off and no ANALYZE (as after a bulk import, before autovacuum comes round). The overdue plan list once
took 30 s there (nested semi joins, each rescanning the merchant's rows); the assertions are on the plans
PostgreSQL chooses (EXPLAIN), not on timings: those are in docs/performance.md."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.tests.factories import CustomerFactory
from installments.tests.factories import plan_make
from payments.services import payment_post

pytestmark = pytest.mark.django_db

TABLES = (
    "customers_customer",
    "installments_installmentplan",
    "installments_planitem",
    "installments_installment",
    "payments_payment",
    "payments_paymentallocation",
)
JOINS = frozenset({"Nested Loop", "Hash Join", "Merge Join"})
# The staff who received a payment, joined by the payment lists: a merchant's few accounts. Its row-level
# security policy has two branches (taqsit/rls.py: readable before the merchant is known), which a planner
# without statistics takes for a filter leaving almost no row, and reads the table's page or two whole.
STAFF_TABLE = "taqsit_user"


@pytest.fixture
def stale_book(merchant, owner, today, database_owner_dsn, without_test_policy):
    """500 plans of 50 customers, a fifth of them paid up to date, in tables that are not analyzed meanwhile.

    The tables start as never analyzed (no column statistics, no row estimate: what a bulk import into a new
    database leaves), whatever earlier tests of the run let autovacuum record about them. The staff table,
    which the payment lists join, is reset too. The catalogue is the owner's (a superuser's) to change: on a
    connection of its own, committed; autovacuum is turned back on after the test. The data is committed (a
    transactional test), so the test suite's own policy can go while the plans are made: they are made with
    the tenant policy alone, as in production."""
    with psycopg.connect(database_owner_dsn, autocommit=True) as owner_connection:
        for table in TABLES:
            owner_connection.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        for table in (*TABLES, "taqsit_user"):
            owner_connection.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [table])
            owner_connection.execute(
                "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = %s::regclass", [table]
            )
    customers = [CustomerFactory(merchant=merchant) for _ in range(50)]
    plans = [plan_make(actor=owner, customer=customers[number % 50]) for number in range(500)]
    for plan in plans[::5]:
        payment_post(actor=owner, plan=plan, amount=Decimal("200.00"))
    without_test_policy()
    yield {"customer": customers[0], "plan": plans[0]}
    with psycopg.connect(database_owner_dsn, autocommit=True) as owner_connection:
        for table in TABLES:
            owner_connection.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


def _plan(cursor) -> dict:
    raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def rescanned_work(plan: dict) -> list[str]:
    """Nested loops whose inner side is read again for every outer row and is not a lookup by key: a sequential
    scan, or a join (the inner of the old overdue list was itself a semi join over every plan of the merchant)."""
    found = []
    for node in nodes(plan):
        if node["Node Type"] != "Nested Loop":
            continue
        inner = next(child for child in node["Plans"] if child.get("Parent Relationship") == "Inner")
        for below in nodes(inner):
            if below.get("Relation Name") == STAFF_TABLE:
                continue
            if below["Node Type"] == "Seq Scan" or below["Node Type"] in JOINS:
                found.append(f"{node['Node Type']} {node.get('Join Type')} over {below['Node Type']}")
    return found


def list_queries(client, url: str) -> list[tuple[str, tuple]]:
    with connection.cursor() as cursor:
        # A plan gone wrong fails the test in seconds rather than hanging it (the old one ran for minutes).
        cursor.execute("SET LOCAL statement_timeout = '20s'")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
    return [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]


LISTS = {
    # The overdue lists must read the unpaid-by-due-date index (in place or as an EXISTS).
    "/api/installments/plans/overdue/": "installment_unpaid_by_due",
    "/api/installments/installments/?status=overdue": "installment_unpaid_by_due",
    "/api/installments/plans/": None,
    "/api/installments/plans/?search=P-000042": None,
    "/api/installments/plans/status/active/": None,
    "/api/installments/installments/": None,
    "/api/installments/payments/": None,
    "/api/customers/": None,
    "/api/customers/{customer}/plans/": None,
    "/api/customers/{customer}/payments/": None,
    "/api/installments/plans/{plan}/payments/": None,
}


@pytest.mark.django_db(transaction=True)  # the data committed, so the test suite's own policy can go meanwhile
def test_list_queries_do_not_depend_on_fresh_statistics(api_client, owner, stale_book):
    api_client.force_authenticate(owner)
    problems, indexes = {}, {}

    for path, index in LISTS.items():
        url = path.format(customer=stale_book["customer"].pk, plan=stale_book["plan"].pk)
        plans = []
        for sql in list_queries(api_client, url):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
                plans.append(_plan(cursor))
        problems[path] = [problem for plan in plans for problem in rescanned_work(plan)]
        if index:
            indexes[path] = index in {node.get("Index Name") for plan in plans for node in nodes(plan)}

    assert problems == {path: [] for path in LISTS}
    assert indexes == {path: True for path, index in LISTS.items() if index}
