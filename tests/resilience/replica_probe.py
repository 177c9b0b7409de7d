"""What the app does with a streaming read replica, observed from inside one process configured as production is
(DATABASE_URL the primary, DATABASE_REPLICA_URLS the replica), on a data set loaded by tests/resilience/seed.py.

    DATABASE_URL=... DATABASE_REPLICA_URLS=... python -m tests.resilience.replica_probe '<seed output>' '<replica>'

``<replica>`` is a superuser's connection string of the replica (to pause its replay, so it lags). Prints JSON:
which connection served each read (the queries on the tenant tables seen on each alias), what it read, and
whether any statement that writes reached the replica.
"""

from __future__ import annotations

import json
import os
import sys
import time

READ_PATHS = {
    "collections_api": "/api/installments/installments/?status=overdue",
    "audit_api": "/api/audit-log/",
    "collections_page": "/plans/collections/",
    "collections_csv": "/plans/collections/export.csv",
    "payments_csv": "/api/installments/payments/export/",
}
TENANT_TABLES = ("installments_installment", "auditlog_entry", "payments_payment")
WRITES = ("INSERT", "UPDATE", "DELETE")


def _wait(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def probe(data: dict, replica_conninfo: str) -> dict:
    import psycopg
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from installments.models import Installment
    from taqsit.models import Role, User
    from taqsit.replicas import replica_choose, replica_reads
    from taqsit.tenancy import merchant_scope

    first, second = data["merchants"]
    replica_sql: list[str] = []
    out: dict = {"aliases": list(connections.settings)}

    def caught_up(merchant: dict) -> str | None:
        with merchant_scope(merchant["id"]):
            return replica_choose(caught_up=True)

    out["caught_up"] = _wait(lambda: caught_up(first), timeout=30, what="the replica to replay the seed")

    # Each merchant's rows on the replica, read as the runtime role under the merchant's setting.
    out["tenants"] = []
    for merchant in (first, second):
        with merchant_scope(merchant["id"]):
            primary_count = Installment.objects.count()
            with replica_reads() as alias:
                seen = sorted({str(m) for m in Installment.objects.values_list("merchant_id", flat=True)})
                count = Installment.objects.count()
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT pg_is_in_recovery(), current_setting('taqsit.merchant_id'), current_user")
                    in_recovery, setting, role = cursor.fetchone()
        out["tenants"].append(
            {
                "alias": alias,
                "in_recovery": in_recovery,
                "setting_is_merchant": setting == merchant["id"],
                "role": role,
                "merchants_seen": [m == merchant["id"] for m in seen],
                "count_equals_primary": count == primary_count,
                "count": count,
            }
        )

    def client(username: str) -> Client:
        browser = Client(SERVER_NAME="localhost")
        browser.force_login(User.objects.get(username=username))
        return browser

    def observe(browser: Client, method: str, path: str, **kwargs) -> dict:
        with (
            CaptureQueriesContext(connections["replica1"]) as on_replica,
            CaptureQueriesContext(connections["default"]) as on_primary,
        ):
            response = getattr(browser, method)(path, **kwargs)
            body = b"".join(response.streaming_content) if response.streaming else response.content
        replica_sql.extend(query["sql"] for query in on_replica.captured_queries)

        def tenant_reads(captured) -> int:
            return sum(any(table in query["sql"] for table in TENANT_TABLES) for query in captured.captured_queries)

        seen = {
            "status": response.status_code,
            "replica": tenant_reads(on_replica),
            "primary": tenant_reads(on_primary),
        }
        if path.endswith((".csv", "/export/")):
            seen["lines"] = body.decode("utf-8-sig").count("\n")
        elif method == "get" and response.get("Content-Type", "").startswith("application/json"):
            seen["count"] = json.loads(body)["count"]
        return seen

    def reads(browser: Client) -> dict:
        return {name: observe(browser, "get", path) for name, path in READ_PATHS.items()}

    # The one who writes: a manager (who may read the audit log too), beside the owner who only reads.
    User.objects.filter(username=first["clerks"][0]).update(role=Role.MANAGER)
    owner, clerk = client(first["owner"]), client(first["clerks"][0])
    out["before"] = reads(owner)
    out["second_merchant"] = reads(client(second["owner"]))

    with psycopg.connect(replica_conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        _wait(
            lambda: admin.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] == "paused",
            timeout=10,
            what="pause",
        )
        out["payment"] = observe(
            clerk,
            "post",
            "/api/installments/payments/",
            data={"plan": first["plans"][0]["id"], "amount": "10.00"},
            content_type="application/json",
        )
        wrote_at = time.monotonic()
        out["clerk_just_wrote"] = reads(clerk)
        out["owner_while_lagging"] = reads(owner)
        out["stats_replica_while_lagging"] = caught_up(first)
        # Until the manager's read-your-writes window, counted from the payment, is over.
        time.sleep(max(0.0, wrote_at + int(os.environ["REPLICA_STICKY_SECONDS"]) + 0.5 - time.monotonic()))
        out["clerk_later"] = reads(clerk)
        admin.execute("SELECT pg_wal_replay_resume()")
    out["stats_replica_caught_up"] = _wait(lambda: caught_up(first), timeout=30, what="the replica to catch up")
    out["owner_caught_up"] = reads(owner)
    out["writes_on_replica"] = [sql for sql in replica_sql if sql.lstrip().upper().startswith(WRITES)]
    out["replica_queries"] = len(replica_sql)
    return out


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taqsit.settings")
    import django

    django.setup()
    print(json.dumps(probe(json.loads(sys.argv[1]), sys.argv[2])))  # noqa: T201 - the test reads this line


if __name__ == "__main__":
    main()
