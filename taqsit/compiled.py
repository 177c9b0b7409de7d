"""Queries of the counter's hot path, compiled to SQL once per process instead of on every request.

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
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators
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
