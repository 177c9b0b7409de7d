"""Read replicas: reads that tolerate a few seconds of lag go to a streaming replica, everything else to the primary.

``DATABASE_REPLICA_URLS`` (README.md, "Configuration") adds one alias per replica (``replica1``, ``replica2``...),
connecting as the runtime role: a replica made with ``pg_basebackup`` has the primary's roles and row-level
security policies, and its sessions get the same merchant setting as the primary's (taqsit/tenancy.py: a replica
connection follows the default connection's scope). Nothing reads a replica unless it is asked to, in a block:

- ``replica_reads()``: the block's reads go to a replica, when one may serve them: not inside a transaction of
  the primary (a read there belongs to a write), not for the platform role, not for a user who wrote in the last
  ``REPLICA_STICKY_SECONDS`` (read-your-writes: ``ReplicaStickyMiddleware`` remembers them in the shared cache),
  and with ``caught_up=True`` only if the replica has replayed everything the primary has committed now (what a
  result cached as current needs: the statistics);
- ``replica_reads_view``: a view (or a viewset's action) in that block, its template rendered and its streamed
  body written in it too.

They serve the collections list (page and API), the exports, the audit-log list and the statistics'
recomputation. Writes always go to the primary (``ReplicaRouter.db_for_write``), even for a row read from a
replica; a read outside the block, even of a row read from a replica, goes to the primary; a replica that does
not answer is skipped (the primary serves, and a warning is logged).
"""

from __future__ import annotations

import contextvars
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from rest_framework.response import Response

logger = logging.getLogger(__name__)

# The alias the current block reads from (None: the primary).
_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("taqsit_replica", default=None)
# Django's database cache (CACHE_URL dbcache://) is read and written on the primary, whatever the block.
_PRIMARY_ONLY_APPS = frozenset({"django_cache"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICA_ALIASES", ()))


def _sticky_key(user_id) -> str:
    return f"taqsit:replica-sticky:{user_id}"


def replica_sticky_mark(user_id) -> None:
    """``user_id`` wrote: their reads go to the primary for the next ``REPLICA_STICKY_SECONDS``."""
    if not replica_aliases() or settings.REPLICA_STICKY_SECONDS <= 0:
        return
    try:
        cache.set(_sticky_key(user_id), 1, timeout=settings.REPLICA_STICKY_SECONDS)
    except Exception:  # a cache that is down: the user may read a lagging replica, never a failed write
        logger.exception("Could not remember that user %s wrote.", user_id)


def replica_sticky(user_id) -> bool:
    """Whether ``user_id`` wrote in the last ``REPLICA_STICKY_SECONDS`` (a cache that is down: yes)."""
    try:
        return cache.get(_sticky_key(user_id)) is not None
    except Exception:
        logger.exception("The cache is unavailable; user %s reads the primary.", user_id)
        return True


def _request_user_id():
    from taqsit.tenancy import current_request

    request = current_request()
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "pk", None)


def _caught_up(alias: str) -> bool:
    """The replica has replayed every transaction the primary had committed when this was called."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (primary_lsn,) = cursor.fetchone()
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [primary_lsn])
        (caught_up,) = cursor.fetchone()
    return caught_up


def replica_choose(*, caught_up: bool = False) -> str | None:
    """The replica the reads of the current block may go to now, or None for the primary."""
    aliases = replica_aliases()
    if not aliases:
        return None
    primary = connections[DEFAULT_DB_ALIAS]
    if primary.in_atomic_block:
        return None  # a read inside a transaction belongs to it (it may lock, or read its own writes)
    from taqsit.tenancy import desired_scope

    if desired_scope(primary)[1] == "platform":
        return None  # the runtime role's replica sessions see one merchant at a time
    user_id = _request_user_id()
    if user_id is not None and replica_sticky(user_id):
        return None
    for alias in random.sample(aliases, len(aliases)):
        try:
            connections[alias].ensure_connection()
            if caught_up and not _caught_up(alias):
                continue
        except DatabaseError:
            logger.warning("Replica %s does not answer; reading from another or the primary.", alias, exc_info=True)
            connections[alias].close()
            continue
        return alias
    return None


@contextmanager
def replica_use(alias: str | None) -> Iterator[str | None]:
    """Reads in the block go to ``alias`` (None: the primary)."""
    token = _chosen.set(alias)
    try:
        yield alias
    finally:
        _chosen.reset(token)


@contextmanager
def replica_reads(*, caught_up: bool = False) -> Iterator[str | None]:
    """The block's reads go to a replica when one may serve them (``replica_choose``); yields its alias or None."""
    with replica_use(replica_choose(caught_up=caught_up)) as alias:
        yield alias


def replica_current() -> str | None:
    return _chosen.get()


def _streamed_on(alias: str, content: Iterable) -> Iterator:
    with replica_use(alias):
        yield from content


def _renders_later(response) -> bool:
    """A template response rendered after the view returns (a DRF answer's data is already read: its renderer
    is chosen only after the viewset's method, so it is left to render later)."""
    return (
        isinstance(response, SimpleTemplateResponse) and not isinstance(response, Response) and not response.is_rendered
    )


def replica_reads_view(view: Callable) -> Callable:
    """A view, or a viewset's method, whose reads tolerate lag: run in ``replica_reads()``, with its template
    rendered there and its streamed body (an export, read after the view returned) read from the same replica."""

    @wraps(view)
    def wrapped(*args, **kwargs) -> HttpResponse:
        with replica_reads() as alias:
            response = view(*args, **kwargs)
            if alias is None:
                return response
            if getattr(response, "streaming", False):
                response.streaming_content = _streamed_on(alias, response.streaming_content)
            elif _renders_later(response):
                response.render()
            return response

    return wrapped


def replica_streamed(content: Iterable) -> Iterable:
    """A streamed body (an export) read from a replica, chosen now (while the request's user is known)."""
    alias = replica_current() or replica_choose()
    return content if alias is None else _streamed_on(alias, content)


class ReplicaRouter:
    """Reads go to the block's replica (``replica_reads``), every other query to the primary."""

    @staticmethod
    def _primary(hints) -> str | None:
        # A row read from a replica: what follows from it (its related rows, its save) is the primary's,
        # unless the block says otherwise (Django would otherwise follow the row to its database).
        instance = hints.get("instance")
        if instance is not None and instance._state.db in replica_aliases():
            return DEFAULT_DB_ALIAS
        return None

    def db_for_read(self, model, **hints) -> str | None:
        alias = _chosen.get()
        if alias is None or model._meta.app_label in _PRIMARY_ONLY_APPS:
            return self._primary(hints)
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return self._primary(hints)
        return alias

    def db_for_write(self, model, **hints) -> str | None:
        return self._primary(hints)

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        replicas = set(replica_aliases())
        databases = {DEFAULT_DB_ALIAS if obj._state.db in replicas else obj._state.db for obj in (obj1, obj2)}
        return True if len(databases) == 1 and replicas & {obj1._state.db, obj2._state.db} else None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return False if db in replica_aliases() else None


class ReplicaStickyMiddleware:
    """Read-your-writes: a user whose request may have written (any method but GET, HEAD, OPTIONS, TRACE) reads
    from the primary for the next ``REPLICA_STICKY_SECONDS``. Nothing at all without replicas."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and replica_aliases():
            user = request.__dict__.get("user")
            if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "pk", None):
                replica_sticky_mark(user.pk)
        return response
