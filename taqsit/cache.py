"""Per-merchant cache versions: cached reads of a merchant (its statistics) are keyed by a version token that
the services replace when money moves, so every cached figure of that merchant is dropped at once.

The token is random, not a counter: if the cache loses the version key (eviction, a Redis restart), a new token
is drawn and an old entry can never be mistaken for a current one. The bump runs after the transaction commits
(``transaction.on_commit``): a reader racing the write cannot cache pre-commit figures under the new version.
A cache that is down never fails a payment or a page: the read is computed afresh and the failure logged.

Computing a merchant's statistics costs a few summary rows and the rows overdue today (payments/stats.py), so a
reader after money moved computes them itself: the figures are always current.
"""

from __future__ import annotations

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


def merchant_cached(
    merchant_id: Any, name: str, compute: Callable[[], T], *, timeout: int = STATS_TIMEOUT_SECONDS
) -> T:
    """``compute()``'s result, cached per merchant under ``name`` (which must say what else the result depends
    on, such as the day) and valid until the merchant's version changes (money moved): then the reader
    computes it again."""
    try:
        version = merchant_stats_version(merchant_id)
        entry = cache.get(_entry_key(merchant_id, name))
    except Exception:  # the cache is an optimisation: without it, compute
        logger.exception("The cache is unavailable; computing %s of merchant %s afresh.", name, merchant_id)
        return compute()
    if entry is not None:
        entry_version, _computed_at, value = entry
        if entry_version == version:
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
        # A slower computation that started earlier does not replace a later one (two readers').
        if kept is None or kept[1] <= computed_at:
            cache.set(key, (version, computed_at, value), timeout=timeout)
    except Exception:
        logger.exception("Could not cache %s of merchant %s.", name, merchant_id)
    return value
