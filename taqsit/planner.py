"""Planner settings for one block of a transaction.

A service that writes many rows and then reads them back in the same transaction (the spreadsheet import: its
ledger checks and its summary rows' rebuild) plans those reads on statistics that predate its rows: PostgreSQL
may then loop over one side and scan the other for each row, minutes for what hash joins do in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def nested_loops_off() -> Iterator[None]:
    """No nested-loop joins for the statements of the block; the transaction's setting is put back after it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_nestloop')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('enable_nestloop', 'off', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [previous])
