"""Per-merchant cache versions: cached reads of a merchant (its statistics) are keyed by a version token that
the services replace when money moves, so every cached figure of that merchant is dropped at once.

The token is random, not a counter: if the cache loses the version key (eviction, a Redis restart), a new token
is drawn and an old entry can never be mistaken for a current one. The bump runs after the transaction commits
(``transaction.on_commit``): a reader racing the write cannot cache pre-commit figures under the new version.
A cache that is down never fails a payment or a page: the read is computed afresh and the failure logged.

A large merchant's statistics take over a second to compute (docs/performance.md), and money moves there many
times a minute: readers are then served the last result while one refresh runs in the background (Celery), as
long as that result is under ``STATS_MAX_STALE_SECONDS`` old; the pages show when it was computed.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

from taqsit.replicas import replica_reads

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long cached statistics live at most: a safety net for a change made outside the services (a shell).
STATS_TIMEOUT_SECONDS = 15 * 60
# How long a scheduled refresh keeps others from scheduling another (a worker that died frees it this way).
REFRESH_LOCK_SECONDS = 5 * 60


def _version_key(merchant_id: Any) -> str:
    return f"taqsit:merchant:{merchant_id}:stats-version"


def merchant_stats_version(merchant_id: Any) -> str:
    """The merchant's current statistics version token (drawn on first use; kept until the next bump)."""
    key = _version_key(merchant_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        version = cache.get(key)
    return version


def _bump(merchant_id: Any) -> None:
    try:
        cache.set(_version_key(merchant_id), uuid.uuid4().hex, timeout=None)
    except Exception:  # any cache backend failure: the entries still expire on their own
        logger.exception("Could not invalidate the cached statistics of merchant %s.", merchant_id)


def merchant_stats_invalidate(merchant_id: Any) -> None:
    """Drop the merchant's cached statistics once the current transaction commits (at once outside one).

    Called by every service that moves money or changes what the statistics count: payments, plan lifecycle,
    late fees, the daily jobs, merchant settings.
    """
    transaction.on_commit(lambda: _bump(merchant_id))


def _entry_key(merchant_id: Any, name: str) -> str:
    return f"taqsit:merchant:{merchant_id}:entry:{name}"


def _refresh_lock_key(merchant_id: Any, name: str) -> str:
    return f"taqsit:merchant:{merchant_id}:refreshing:{name}"


def merchant_cached(
    merchant_id: Any,
    name: str,
    compute: Callable[[], T],
    *,
    timeout: int = STATS_TIMEOUT_SECONDS,
    max_stale: int = 0,
    refresh: Callable[[], None] | None = None,
) -> T:
    """``compute()``'s result, cached per merchant under ``name`` (which must say what else the result depends
    on, such as the day) and valid until the merchant's version changes (money moved).

    With ``max_stale`` seconds and a ``refresh`` (which schedules :func:`merchant_cache_refresh` in the
    background): a result computed less than ``max_stale`` seconds ago is still served after the version
    changed, and one refresh is scheduled for everyone, so no reader waits for ``compute()`` while there is a
    recent result. With no result, or an older one, the reader computes (what ``max_stale=0`` always does)."""
    try:
        version = merchant_stats_version(merchant_id)
        entry = cache.get(_entry_key(merchant_id, name))
    except Exception:  # the cache is an optimisation: without it, compute
        logger.exception("The cache is unavailable; computing %s of merchant %s afresh.", name, merchant_id)
        return compute()
    if entry is not None:
        entry_version, computed_at, value = entry
        if entry_version == version:
            return value
        if refresh is not None and max_stale > 0 and time.time() - computed_at <= max_stale:
            _refresh_schedule(merchant_id, name, refresh)
            return value
    return _store(merchant_id, name, version, compute, timeout=timeout)


def _store(merchant_id: Any, name: str, version: str, compute: Callable[[], T], *, timeout: int) -> T:
    """Compute and keep the result under the version read *before* computing: money that moves meanwhile makes
    it stale at once rather than hiding behind it."""
    computed_at = time.time()
    # On a read replica that has replayed every commit until now, if there is one (taqsit/replicas.py): the result
    # is kept as current, so it must not miss a commit the version already counts.
    with replica_reads(caught_up=True):
        value = compute()
    key = _entry_key(merchant_id, name)
    try:
        kept = cache.get(key)
        # A slower computation that started earlier does not replace a later one (a reader's and a refresh's).
        if kept is None or kept[1] <= computed_at:
            cache.set(key, (version, computed_at, value), timeout=timeout)
    except Exception:
        logger.exception("Could not cache %s of merchant %s.", name, merchant_id)
    return value


def _refresh_schedule(merchant_id: Any, name: str, refresh: Callable[[], None]) -> None:
    """Schedule one refresh per merchant and name at a time (the lock lapses on its own if the worker dies); a
    broker that is down leaves the lock unset, so the next reader tries again."""
    try:
        if not cache.add(_refresh_lock_key(merchant_id, name), 1, timeout=REFRESH_LOCK_SECONDS):
            return
        refresh()
    except Exception:
        logger.exception("Could not schedule a refresh of %s of merchant %s.", name, merchant_id)
        with contextlib.suppress(Exception):
            cache.delete(_refresh_lock_key(merchant_id, name))


def merchant_cache_refresh(
    merchant_id: Any, name: str, compute: Callable[[], T], *, timeout: int = STATS_TIMEOUT_SECONDS
) -> T:
    """Recompute and keep ``name`` for the merchant now (the background side of ``merchant_cached``); frees the
    refresh lock, so the next change schedules the next refresh."""
    try:
        version = merchant_stats_version(merchant_id)
        return _store(merchant_id, name, version, compute, timeout=timeout)
    finally:
        with contextlib.suppress(Exception):
            cache.delete(_refresh_lock_key(merchant_id, name))
