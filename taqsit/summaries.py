"""Summary rows: a merchant's running totals kept in the transaction of the movement that changes them.

One statement adds a batch of deltas to their rows whatever the number of rows:
``INSERT ... ON CONFLICT (merchant_id, <keys>) DO UPDATE SET x = t.x + EXCLUDED.x``. Two transactions adding
to the same row at once both count (the second waits for the first's row lock, then adds to what it
committed), and rows are written in key order, so two batches over the same rows lock them in the same order
and cannot deadlock. A row whose totals come back to zero stays (it costs a few bytes, and deleting it would
race with a concurrent add).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models


def totals_add(model: type[models.Model], *, merchant_id: Any, deltas: Mapping[tuple, Mapping[str, Any]]) -> None:
    """Add ``deltas`` ({key tuple: {field: delta}}, keys in the order of the model's unique constraint after the
    merchant) to the merchant's summary rows of ``model``, creating those missing; deltas that are all zero are
    left out, and nothing is sent when none is left."""
    items = sorted(
        ((key, values) for key, values in deltas.items() if any(value for value in values.values())),
        key=lambda item: tuple(str(part) for part in item[0]),
    )
    if not items:
        return
    sql, params = totals_add_sql(model, merchant_id=merchant_id, items=items)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _key_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields of the model's one unique constraint, the merchant first."""
    (constraint,) = [c for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    return [model._meta.get_field(name) for name in constraint.fields]


def totals_add_sql(
    model: type[models.Model], *, merchant_id: Any, items: Iterable[tuple[tuple, Mapping[str, Any]]]
) -> tuple[str, list[Any]]:
    """The INSERT ... ON CONFLICT statement of ``totals_add`` and its parameters (the values cast to the
    columns' types, so a batch of one row and of many plan alike)."""
    _keys, values = _columns(model)
    params: list[Any] = []
    rows = 0
    for key, deltas in items:
        params.extend([merchant_id, *key, *(deltas.get(field.name, 0) for field in values)])
        rows += 1
    # A movement's few rows: the text kept; a daily job's batch of hundreds: written for it.
    return (_statement(model, rows) if rows <= 16 else _statement.__wrapped__(model, rows)), params


@functools.cache
def _columns(model: type[models.Model]) -> tuple[list[models.Field], list[models.Field]]:
    """The key fields and the value fields (the rest but the id) of a summary model."""
    keys = _key_fields(model)
    return keys, [f for f in model._meta.concrete_fields if not f.primary_key and f not in keys]


@functools.lru_cache(maxsize=128)
def _statement(model: type[models.Model], rows: int) -> str:
    """The statement's text for ``rows`` rows: the same for every movement of that many (one to a few)."""
    quote = connection.ops.quote_name
    keys, values = _columns(model)
    fields = [*keys, *values]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    select = ", ".join(f"v.{quote(field.column)}::{field.db_type(connection)}" for field in fields)
    updates = ", ".join(
        f"{quote(field.column)} = {table}.{quote(field.column)} + EXCLUDED.{quote(field.column)}" for field in values
    )
    # Only identifiers from the model's meta and placeholders go into the text; the values are parameters.
    return (
        f"INSERT INTO {table} ({columns}) SELECT {select} FROM (VALUES {', '.join([row] * rows)}) AS v ({columns}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(quote(field.column) for field in keys)}) DO UPDATE SET {updates}"
    )
