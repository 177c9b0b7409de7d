"""A real streaming replica: made from the test's own primary by the embedded PostgreSQL's ``pg_basebackup -R``,
configured as DATABASE_REPLICA_URLS. The app reads the collections list, the exports and the audit-log list
from it; a user who has just written reads the primary; writes never reach it; each merchant sees its own rows
on it; the statistics are recomputed there only once it has replayed every commit.

To tell which server answered, the replica's replay is paused before a clerk records a payment: the replica
then lags, so what a read says (and on which connection its queries ran) shows where it was served from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.servers import DATABASE, Postgres, Replica, app_env, python_run, seed

pytestmark = pytest.mark.resilience

# Long enough for the manager's reads right after the payment on a busy machine; the probe waits it out after.
STICKY_SECONDS = 15


@pytest.fixture
def replica(postgres: Postgres, workdir: Path) -> Iterator[Replica]:
    server = Replica(postgres, workdir / "replica")
    try:
        yield server
    finally:
        server.cleanup()


def _probe(env: dict[str, str], data: dict, replica: Replica) -> dict:
    conninfo = f"host={replica.socket_dir} port={replica.port} user=postgres dbname={DATABASE}"
    output = python_run("-m", "tests.resilience.replica_probe", json.dumps(data), conninfo, env=env, timeout=300)
    return json.loads(output.strip().splitlines()[-1])


def test_lag_tolerant_reads_go_to_the_replica_and_a_writer_reads_the_primary(postgres, replica, workdir):
    env = app_env(
        postgres,
        workdir,
        DATABASE_REPLICA_URLS=replica.url(DATABASE),
        REPLICA_STICKY_SECONDS=str(STICKY_SECONDS),
        CACHE_URL="dbcache://taqsit_cache",  # shared, as with several web processes
    )
    plans = {"count": 3, "start_days_ago": 100, "total": "1000.00", "down": "200.00", "installments": 4}
    data = seed(env, {"merchants": [{"name": "North", "plans": [plans]}, {"name": "South", "plans": [plans]}]})
    seen = _probe(env, data, replica)

    assert seen["aliases"] == ["default", "platform", "owner", "replica1"]
    assert seen["caught_up"] == "replica1"
    # Each merchant on the replica: a server in recovery, the runtime role, the merchant's setting, its rows only.
    for tenant in seen["tenants"]:
        assert tenant == {
            "alias": "replica1",
            "in_recovery": True,
            "setting_is_merchant": True,
            "role": "taqsit_app",
            "merchants_seen": [True],
            "count_equals_primary": True,
            "count": 12,
        }

    before = seen["before"]
    for name, read in before.items():
        assert read["status"] == 200, name
        assert read["replica"] >= 1, name
        assert read["primary"] == 0, name
    # 3 plans x 4 installments, 100 days in: 3 installments of each past due.
    assert before["collections_api"]["count"] == 9
    assert before["collections_csv"]["lines"] == 1 + 9
    assert before["payments_csv"]["lines"] == 1 + 3  # the down payments
    assert seen["second_merchant"]["collections_api"]["count"] == 9
    assert seen["second_merchant"]["payments_csv"]["lines"] == 1 + 3

    # The clerk's payment: written on the primary, nothing of it on the replica.
    assert seen["payment"]["status"] == 201
    assert seen["payment"]["replica"] == 0
    assert seen["payment"]["primary"] >= 1

    # The owner, who did not write, reads the lagging replica: the payment is not there yet.
    lagging = seen["owner_while_lagging"]
    for name, read in lagging.items():
        assert (read["replica"] >= 1, read["primary"]) == (True, 0), name
    assert lagging["payments_csv"]["lines"] == before["payments_csv"]["lines"]
    assert lagging["audit_api"]["count"] == before["audit_api"]["count"]

    # The clerk, who just wrote, reads the primary: the payment and its audit entries are there.
    wrote = seen["clerk_just_wrote"]
    for name, read in wrote.items():
        assert (read["replica"], read["primary"] >= 1) == (0, True), name
    assert wrote["payments_csv"]["lines"] == before["payments_csv"]["lines"] + 1
    assert wrote["audit_api"]["count"] > before["audit_api"]["count"]

    # Seconds later the clerk reads the replica again (still lagging: the payment is not there).
    later = seen["clerk_later"]
    for name, read in later.items():
        assert (read["replica"] >= 1, read["primary"]) == (True, 0), name
    assert later["payments_csv"]["lines"] == before["payments_csv"]["lines"]

    # The statistics are recomputed on the replica only once it has replayed every commit.
    assert seen["stats_replica_while_lagging"] is None
    assert seen["stats_replica_caught_up"] == "replica1"
    caught_up = seen["owner_caught_up"]
    assert caught_up["payments_csv"]["lines"] == before["payments_csv"]["lines"] + 1
    assert caught_up["payments_csv"]["replica"] >= 1

    # No statement that writes ever reached the replica.
    assert seen["replica_queries"] > 0
    assert seen["writes_on_replica"] == []
