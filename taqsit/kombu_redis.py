"""kombu's Redis transport, with the channel's client object kept instead of one made for every message.

kombu's ``Channel.conn_or_acquire`` makes a new ``redis.Redis`` (on the channel's connection pool) for every
message it publishes: building one fills its table of a few hundred response callbacks, as Django's cache did
(taqsit/redis_cache.py). The receipt's task is published after every payment, so the counter paid that once per
payment. A ``redis.Redis`` may be shared (it takes a connection from the pool per command), so the channel keeps
one. The consumer's asynchronous client is kombu's own, unchanged. ``REDIS_URL`` selects this transport as
``CELERY_BROKER_TRANSPORT`` (taqsit/settings.py); the URL is read as kombu reads a ``redis://`` one.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    _kept_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        if self._kept_client is None:
            self._kept_client = super()._create_client()
        return self._kept_client


class Transport(redis.Transport):
    Channel = Channel
