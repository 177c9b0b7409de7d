"""The bench data generator stays correct: a tiny data set, generated into a throwaway database on the same server,
satisfies every CHECK constraint (PostgreSQL enforces them during COPY), every foreign key and every ledger
invariant. The benchmarks themselves run with `make bench`, never here."""

import os
import subprocess
import sys

import pytest

from bench import db
from bench.invariants import invariants_check


@pytest.fixture
def bench_database():
    srv = db.server()
    name = f"bench_test_{os.getpid()}"
    yield srv, name
    db.database_drop(srv, name)


def test_tiny_data_set_keeps_every_invariant(bench_database):
    srv, name = bench_database
    result = subprocess.run(  # noqa: S603 - our own generator, arguments from this test
        [sys.executable, "-m", "bench.generate", "--database", name, "--merchants", "2", "--customers", "40",
         "--plans", "120", "--results", ""],
        env=db.django_env(name),
        cwd=db.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr

    with srv.connect(name, autocommit=True) as conn:
        broken = {check: count for check, count in invariants_check(conn).items() if count}
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM taqsit_merchant), (SELECT count(*) FROM customers_customer),"
            " (SELECT count(*) FROM installments_installmentplan)"
        ).fetchone()
        statuses = {row[0] for row in conn.execute("SELECT DISTINCT status FROM installments_installment")}
        replica = conn.execute("SELECT count(*) FROM auditlog_entry").fetchone()[0]
        comment = db.database_comment(srv, name)
    assert broken == {}
    assert counts == (2, 40, 120)
    assert {"paid", "pending", "overdue"} <= statuses
    assert replica == 0  # loaded with the audit trail's triggers off
    assert comment["complete"] is True
    assert comment["rows"]["installments_installment"] > 120
