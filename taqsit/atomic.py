"""Transactions of services: a savepoint when nested, except where nothing would recover from a failure.

A service's ``atomic`` block nested in a caller's transaction is a savepoint, so that a caller may catch the
service's error and go on (an import skipping a bad row). The API's idempotent request (taqsit/idempotency.py)
never does: whatever fails in it rolls the whole transaction back, the key's record with it. Inside
``all_or_nothing()``, ``service_atomic`` joins the transaction instead (two statements fewer: SAVEPOINT and
RELEASE); Django still marks the transaction for rollback on an error, and the outer block rolls it back.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import transaction

F = TypeVar("F", bound=Callable[..., Any])

_ALL_OR_NOTHING: ContextVar[bool] = ContextVar("all_or_nothing", default=False)


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Inside a transaction that nothing inside recovers from: the services' blocks join it."""
    token = _ALL_OR_NOTHING.set(True)
    try:
        yield
    finally:
        _ALL_OR_NOTHING.reset(token)


def service_atomic(func: F) -> F:
    """``transaction.atomic`` for a service: a savepoint when nested, but not inside ``all_or_nothing()``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(savepoint=not _ALL_OR_NOTHING.get()):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
