"""Many new rows of one model in a few statements, without Django's per-value preparation: for imports of tens of
thousands of rows, where ``bulk_create`` spends most of its time preparing each value in Python.

``INSERT INTO t (...) SELECT * FROM unnest(%s::type[], ...)``, one array per column, ``batch_size`` rows a
statement. Constraints, triggers (the audit trail's capture) and row-level security apply as to any INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

BATCH_SIZE = 5000


def rows_insert(model: type[models.Model], objs: Sequence[models.Model], *, batch_size: int = BATCH_SIZE) -> None:
    """INSERT ``objs`` (complete: a UUID key set by the model's default, values of the right Python types) as
    their attributes hold them; ``auto_now``/``auto_now_add`` timestamps are set here, an auto-increment key is
    left to the database (and not read back)."""
    if not objs:
        return
    now = timezone.now()
    fields = [
        field for field in model._meta.concrete_fields if not (field.primary_key and isinstance(field, AutoFieldMixin))
    ]
    stamped = [field for field in fields if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)]
    for obj in objs:
        for field in stamped:
            setattr(obj, field.attname, now)
    # Values psycopg cannot send as they are (a JSON document) go through the field's own preparation.
    prepared = {field.attname for field in fields if isinstance(field, models.JSONField)}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params = []
            for field in fields:
                values = [getattr(obj, field.attname) for obj in batch]
                if field.attname in prepared:
                    values = [field.get_db_prep_save(value, connection) for value in values]
                params.append(values)
            cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
