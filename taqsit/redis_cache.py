"""Django's Redis cache, with one client object per server kept, instead of one made for every operation.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` makes a new ``redis.Redis`` for each get, set or
incr (on a connection pool it keeps): building one fills its table of a few hundred response callbacks, about a
third of a millisecond of CPU, three times a payment (the rate limit's read and write, the statistics' version).
A ``redis.Redis`` may be shared (it takes a connection from the pool per command), so one is kept per server.
``CACHE_URL=redis://...`` selects this backend (taqsit/settings.py); everything else is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient
