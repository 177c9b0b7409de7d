"""Queries and writes of the counter's hot path, compiled to SQL once per process instead of on every request.

Building a queryset and compiling it costs more CPU than PostgreSQL spends answering it when the query is a
primary-key or index lookup of a wide model: about 0.7 ms for a plan's rows, 0.85 ms for its lock, 0.5 ms for
the API's user with its merchant (measured in bench/payments.py's profile, where those were the largest items of
a payment's ORM time). A ``CompiledQuery`` is built by a function of its arguments (ids), compiled the first time
it runs with a unique stand-in value for each argument, and then run with the real values put where the
stand-ins are in the parameters: the very statement the ORM would send.

Its rows become what the ORM makes of them, as Django's ``ModelIterable`` does: the fields' conversions applied,
model instances built with ``from_db``, and the ``select_related`` objects attached to them; or tuples, for a
``values_list()``. The queryset keeps the filters, the ordering and the locks in one place, as the ORM wrote them.

Only for queries whose SQL never depends on the values (no ``__in`` lists, no optional filters): the arguments
must each appear as a parameter, which the first compilation checks.

The writes (``row_update``, ``row_insert``, ``rows_insert``, below) are the ORM's saves with their statements kept
the same way: see the note above them.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router, transaction
from django.db.models import AutoField, DateField, DateTimeField, Field, Model, QuerySet, TimeField
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.models.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    places: tuple[tuple[int, int], ...]  # (index in params, argument)
    compiler: SQLCompiler  # for the fields' conversions of the rows
    converters: dict
    # For model instances (None for a values_list()): the model, the slice of its fields in a row, their names,
    # and the populators of the select_related objects.
    model: type[Model] | None
    fields: slice
    names: list[str]
    populators: list


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        # Its arguments without a default (a default fixes a variant: ``lambda plan_id, no_key=no_key: ...``).
        parameters = inspect.signature(build).parameters.values()
        self._arity = sum(1 for parameter in parameters if parameter.default is inspect.Parameter.empty)
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, using: str) -> _Compiled:
        stand_ins = [uuid.uuid4() for _ in range(self._arity)]
        queryset = self._build(*stand_ins)
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        places = tuple((index, stand_ins.index(value)) for index, value in enumerate(params) if value in stand_ins)
        if {argument for _index, argument in places} != set(range(self._arity)):
            raise ValueError(f"{self._build.__qualname__}: every argument must be a parameter of the SQL.")
        select, klass_info = compiler.select, compiler.klass_info
        converters = compiler.get_converters([column[0] for column in select])
        model, fields, names, populators = None, slice(0), [], []
        if klass_info is not None and queryset._iterable_class is ModelIterable:
            if compiler.annotation_col_map or queryset._known_related_objects:
                raise ValueError(f"{self._build.__qualname__}: annotations are not supported.")
            model = klass_info["model"]
            fields = slice(klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1)
            names = [column[0].target.attname for column in select[fields]]
            populators = get_related_populators(klass_info, select, using)
        compiled = _Compiled(sql, tuple(params), places, compiler, converters, model, fields, names, populators)
        self._compiled[using] = compiled
        return compiled

    def _fetch(self, values: tuple, using: str) -> tuple[_Compiled, list]:
        if len(values) != self._arity:
            raise TypeError(f"{self._build.__qualname__} takes {self._arity} values, not {len(values)}.")
        compiled = self._compiled.get(using) or self._compile(using)
        params = list(compiled.params)
        for index, argument in compiled.places:
            params[index] = values[argument]
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return compiled, rows

    def instances(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[Model]:
        """The model's instances the query selects for ``values``, with their ``select_related`` objects."""
        compiled, rows = self._fetch(values, using)
        if compiled.model is None:
            raise TypeError(f"{self._build.__qualname__} selects no model instances: use rows().")
        found = []
        for row in rows:
            instance = compiled.model.from_db(using, compiled.names, row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def rows(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        """The rows as tuples (a ``values_list()``, or the columns of the instances), converted as the ORM does."""
        _compiled, rows = self._fetch(values, using)
        return [tuple(row) for row in rows]


# Writes ------------------------------------------------------------------------------------------------------------
#
# ``row_update``, ``row_insert`` and ``rows_insert`` are ``save(update_fields=...)``, ``save(force_insert=True)`` and
# ``bulk_create()`` for the counter's rows, with the statement compiled once per model, fields and row count. The
# first time, the ORM's own compiler builds the statement from the real instances; it is kept only if its
# parameters are exactly the fields' values as ``get_db_prep_save`` gives them (in rows, or in the columns of
# PostgreSQL's UNNEST for several rows), so that later writes need only those values. What the ORM does around the
# statement is done the same way: the related objects' check, ``pre_save`` (``auto_now``), the ``pre_save`` and
# ``post_save`` signals, the rollback mark on an error, the returned columns, the instance's state. A model whose
# ``save()`` is its own, with parents or proxied, a field whose ``pre_save`` does more than read or stamp the value
# (a file's), or a value that is an expression: the ORM's own call, unchanged.


@dataclass(frozen=True)
class _Write:
    sql: str
    columns: bool  # the parameters are the fields' columns (UNNEST), not their rows
    returning: tuple  # the fields whose values come back (an auto id)
    compiler: SQLCompiler | None
    converters: dict


_WRITES: dict[tuple, _Write | None] = {}  # None: the statement depends on the values, the ORM writes it every time


# The fields' own ``pre_save`` that only read the value, or set it and return it (``auto_now``): the statement's
# values are then the instance's, as the ORM's compiler reads them once ``pre_save`` ran.
_PRE_SAVES = {Field.pre_save, DateField.pre_save, DateTimeField.pre_save, TimeField.pre_save}
_PLAIN: dict[type[Model], bool] = {}


def _plain(model: type[Model]) -> bool:
    """Saved as any model is: no ``save()`` of its own, no parents, no proxy, fields with a plain ``pre_save``."""
    plain = _PLAIN.get(model)
    if plain is None:
        meta = model._meta
        plain = _PLAIN[model] = (
            not meta.proxy
            and not meta.parents
            and not meta.auto_created
            and model.save is Model.save
            and all(type(field).pre_save in _PRE_SAVES for field in meta.concrete_fields)
        )
    return plain


def _same(ours: list, theirs: list) -> bool:
    """The ORM's parameters and ours are the same values (a JSON value's adapter compared by what it wraps)."""
    if len(ours) != len(theirs):
        return False
    for mine, its in zip(ours, theirs, strict=True):
        if isinstance(mine, list) and isinstance(its, list):
            if not _same(mine, its):
                return False
        elif type(mine) is not type(its):
            return False
        elif hasattr(mine, "obj") and not isinstance(mine, Model):
            if mine.obj != its.obj:
                return False
        elif mine != its:
            return False
    return True


def _prepared(fields: list, values: list, connection) -> list | None:
    """The fields' values for the statement, or None when one is an expression (its SQL depends on it)."""
    out = []
    for field, value in zip(fields, values, strict=True):
        if hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save"):
            return None
        out.append(field.get_db_prep_save(value, connection=connection))
    return out


def _laid_out(rows: list[list], columns: bool) -> list:
    """The INSERT's parameters: the rows' values one after another, or one array per column (UNNEST)."""
    if columns:
        return [list(column) for column in zip(*rows, strict=True)]
    return [value for row in rows for value in row]


def _execute(write: _Write, params: list, using: str) -> list:
    with connections[using].cursor() as cursor:
        cursor.execute(write.sql, params)
        if not write.returning:
            return [cursor.rowcount]
        rows = cursor.fetchall()
    if write.converters:
        rows = list(write.compiler.apply_converters(rows, write.converters))
    return rows


def row_update(instance: Model, update_fields: list[str] | tuple[str, ...]) -> None:
    """``instance.save(update_fields=update_fields)``, its UPDATE compiled once per model, fields and the fields
    that are None (the ORM writes ``= NULL`` for those, not a parameter)."""
    model = type(instance)
    meta = model._meta
    if not update_fields or not _plain(model) or meta.select_on_save or instance._state.adding or instance.pk is None:
        # (An instance not read from the database, with a default id, is inserted by ``save()``: the ORM's call.)
        instance.save(update_fields=update_fields)
        return
    names = frozenset(update_fields)
    fields = [
        field
        for field in meta.local_concrete_fields
        if field not in meta.pk_fields and not field.generated and (field.name in names or field.attname in names)
    ]
    if len(fields) != len(names):
        instance.save(update_fields=update_fields)  # the ORM names what is wrong
        return
    using = router.db_for_write(model, instance=instance)
    instance._prepare_related_fields_for_save(operation_name="save")
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=names)
    connection = connections[using]
    with transaction.mark_for_rollback_on_error(using=using):
        values = [field.pre_save(instance, False) for field in fields]
        prepared = _prepared(fields, values, connection)
        pk = meta.pk.get_db_prep_value(instance.pk, connection)
        key = None
        if prepared is not None:
            key = ("update", model, using, tuple(update_fields), tuple(value is None for value in prepared))
            prepared = [value for value in prepared if value is not None]
        write = _WRITES.get(key)
        if write is None:
            query = model._base_manager.using(using).filter(pk=instance.pk).query.chain(UpdateQuery)
            query.add_update_fields([(field, None, value) for field, value in zip(fields, values, strict=True)])
            sql, params = query.get_compiler(using).as_sql()
            write = _Write(sql, False, (), None, {})
            if key is not None and key not in _WRITES:
                plain = not any(hasattr(field, "get_placeholder") for field in fields)
                _WRITES[key] = write if plain and _same([*prepared, pk], list(params)) else None
        else:
            params = [*prepared, pk]
        (count,) = _execute(write, list(params), using)
        if not count:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    instance._state.db = using
    instance._state.adding = False
    post_save.send(sender=model, instance=instance, created=False, update_fields=names, raw=False, using=using)


def _insert(model: type[Model], objs: list, fields: list, using: str, key: tuple) -> list:
    """The INSERT of ``objs`` (``pre_save`` applied, as the ORM's does), with the rows of the returned columns."""
    meta = model._meta
    connection = connections[using]
    returning = tuple(meta.db_returning_fields)
    values = [[field.pre_save(obj, True) for field in fields] for obj in objs]
    prepared = [_prepared(fields, row, connection) for row in values]
    write = _WRITES.get(key)
    if write is None or any(row is None for row in prepared):
        query = InsertQuery(model)
        query.insert_values(fields, objs, raw=True)  # the values are the ones ``pre_save`` gave above
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = list(returning) or None
        ((sql, params),) = compiler.as_sql()
        columns = len(objs) > 1 and len(params) == len(fields) and all(isinstance(p, list) for p in params)
        converters = compiler.get_converters([field.get_col(meta.db_table) for field in returning])
        write = _Write(sql, columns, returning, compiler, converters)
        if all(row is not None for row in prepared) and key not in _WRITES:
            plain = not any(hasattr(field, "get_placeholder") for field in fields)
            _WRITES[key] = write if plain and _same(_laid_out(prepared, columns), list(params)) else None
    else:
        params = _laid_out(prepared, write.columns)
    rows = _execute(write, list(params), using)
    if returning:
        for obj, row in zip(objs, rows, strict=True):
            for value, field in zip(row, returning, strict=True):
                setattr(obj, field.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


def row_insert(instance: Model) -> None:
    """``instance.save(force_insert=True)``, its INSERT compiled once per model."""
    model = type(instance)
    meta = model._meta
    if not _plain(model) or meta.order_with_respect_to:
        instance.save(force_insert=True)
        return
    instance._prepare_related_fields_for_save(operation_name="save")
    using = router.db_for_write(model, instance=instance)
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    if not instance._is_pk_set(meta):
        setattr(instance, meta.pk.attname, meta.pk.get_pk_value_on_save(instance))
    pk_set = instance._is_pk_set(meta)
    fields = [
        field
        for field in meta.local_concrete_fields
        if not field.generated and (pk_set or field is not meta.auto_field)
    ]
    with transaction.mark_for_rollback_on_error(using=using):
        _insert(model, [instance], fields, using, ("insert", model, using, pk_set, 1))
    post_save.send(sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using)


def rows_insert(objs: list[Model]) -> list[Model]:
    """``Model.objects.bulk_create(objs)`` for a few rows of one model, its INSERT compiled once per row count."""
    if not objs:
        return objs
    model = type(objs[0])
    meta = model._meta
    manager = model._default_manager
    if not _plain(model) or manager._db or len(objs) > 100 or any(type(obj) is not model for obj in objs):
        return manager.bulk_create(objs)
    using = router.db_for_write(model)
    for obj in objs:
        if not obj._is_pk_set():
            obj.pk = meta.pk.get_pk_value_on_save(obj)
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    with_pk = {obj._is_pk_set() for obj in objs}
    if len(with_pk) != 1:
        return manager.bulk_create(objs)
    pk_set = with_pk.pop()
    fields = [field for field in meta.concrete_fields if not field.generated]
    if not pk_set:
        fields = [field for field in fields if not isinstance(field, AutoField)]
    with transaction.mark_for_rollback_on_error(using=using):
        return _insert(model, objs, fields, using, ("bulk", model, using, pk_set, len(objs)))
