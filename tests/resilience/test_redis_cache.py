"""The Redis cache backend (taqsit/redis_cache.py) on a real redis-server: Django's operations answer as with
Django's own backend, and one ``redis.Redis`` client is made for them all (Django's makes one per operation)."""

from __future__ import annotations

import redis as redis_library
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from taqsit.redis_cache import RedisCache


def _clients_made(monkeypatch) -> list[int]:
    """Counts every ``redis.Redis`` made from now on."""
    made: list[int] = []
    original = redis_library.Redis.__init__

    def counting(self, *args, **kwargs):
        made.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis_library.Redis, "__init__", counting)
    return made


def test_the_cache_answers_as_djangos_and_keeps_one_client(redis, monkeypatch):
    made = _clients_made(monkeypatch)
    cache = RedisCache(redis.url(1), {"KEY_PREFIX": "kept"})

    cache.set("receipt", {"number": 7, "amount": "250.00"}, 60)
    cache.set("version", 1, 60)
    assert cache.get("receipt") == {"number": 7, "amount": "250.00"}
    assert cache.incr("version", 2) == 3
    assert cache.get_many(["receipt", "version", "missing"]) == {
        "receipt": {"number": 7, "amount": "250.00"},
        "version": 3,
    }
    assert cache.add("version", 10) is False
    assert cache.add("lock", 1, 60) is True
    assert cache.delete("receipt") is True
    assert cache.get("receipt", "gone") == "gone"
    assert len(made) == 1

    # Django's own backend, on the same server and keys: the same answers, a client per operation.
    theirs = DjangoRedisCache(redis.url(1), {"KEY_PREFIX": "kept"})
    made.clear()
    assert theirs.get("version") == 3
    assert theirs.get("lock") == 1
    assert len(made) == 2
