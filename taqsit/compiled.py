"""Queries of the counter's hot path, compiled to SQL once per process instead of on every request.

Building a queryset and compiling it costs more CPU than PostgreSQL spends answering it when the query is a
primary-key or index lookup of a wide model: about 0.7 ms for a plan's rows, 0.85 ms for its lock (measured in
bench/payments.py's profile, where those were the largest items of a payment's ORM time). A ``CompiledQuery`` is
built by a function of its arguments (ids), compiled the first time it runs with a unique stand-in value for each
argument, and then run with the real values put where the stand-ins are in the parameters: the very statement
the ORM would send, rows through Django's ``raw()`` (model instances, the fields' conversions applied) or as
tuples. The queryset keeps the filters, the ordering and the locks in one place, as the ORM wrote them.

Only for queries whose SQL never depends on the values (no ``__in`` lists, no optional filters): the arguments
must each appear as a parameter, which the first compilation checks.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import RawQuerySet


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        # Its arguments without a default (a default fixes a variant: ``lambda plan_id, no_key=no_key: ...``).
        parameters = inspect.signature(build).parameters.values()
        self._arity = sum(1 for parameter in parameters if parameter.default is inspect.Parameter.empty)
        self._compiled: dict[str, tuple[type[Model], str, tuple, tuple[tuple[int, int], ...]]] = {}

    def _compile(self, using: str) -> tuple[type[Model], str, tuple, tuple[tuple[int, int], ...]]:
        stand_ins = [uuid.uuid4() for _ in range(self._arity)]
        queryset = self._build(*stand_ins)
        sql, params = queryset.query.get_compiler(using).as_sql()
        places = tuple((index, stand_ins.index(value)) for index, value in enumerate(params) if value in stand_ins)
        if {argument for _index, argument in places} != set(range(self._arity)):
            raise ValueError(f"{self._build.__qualname__}: every argument must be a parameter of the SQL.")
        compiled = (queryset.model, sql, tuple(params), places)
        self._compiled[using] = compiled
        return compiled

    def _statement(self, values: tuple, using: str) -> tuple[type[Model], str, list]:
        if len(values) != self._arity:
            raise TypeError(f"{self._build.__qualname__} takes {self._arity} values, not {len(values)}.")
        model, sql, params, places = self._compiled.get(using) or self._compile(using)
        bound = list(params)
        for index, argument in places:
            bound[index] = values[argument]
        return model, sql, bound

    def instances(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> RawQuerySet:
        """The model's instances the query selects, for ``values`` (a ``raw()`` queryset: iterate it once)."""
        model, sql, params = self._statement(values, using)
        return model._default_manager.raw(sql, params, using=using)

    def rows(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        """The rows as tuples (for ``values_list()`` and ``exists()`` queries)."""
        _model, sql, params = self._statement(values, using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
