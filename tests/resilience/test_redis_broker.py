"""The broker's transport (taqsit/kombu_redis.py) on a real redis-server: messages go and come back as with
kombu's own Redis transport, in order, and the client objects made do not grow with the messages published
(kombu's own makes new ones for every message); the settings select it whenever the broker is Redis."""

from __future__ import annotations

import json

import pytest
from kombu import Connection, Exchange, Producer, Queue

from taqsit.kombu_redis import Transport
from taqsit.tests.test_settings import clean_env, random_secret_key, run_python
from tests.resilience.test_redis_cache import _clients_made


def _publish_and_read(url: str, transport, bodies: list[dict], made: list[int]) -> tuple[list[dict], int]:
    """Publish ``bodies`` on a new connection, read them back: what came back, and the clients made."""
    made.clear()
    exchange = Exchange("receipts", type="direct")
    queue = Queue("receipts", exchange, routing_key="receipts")
    with Connection(url, transport=transport) as conn:
        producer = Producer(conn.channel(), exchange=exchange, routing_key="receipts", serializer="json")
        for body in bodies:
            producer.publish(body, declare=[queue])
        received = []
        with conn.SimpleQueue(queue) as simple:
            for _ in bodies:
                message = simple.get(timeout=5)
                received.append(message.payload)
                message.ack()
    return received, len(made)


def test_messages_go_through_in_order_and_the_clients_made_do_not_grow_with_them(redis, monkeypatch):
    made = _clients_made(monkeypatch)
    five = [{"payment": f"p-{n}", "merchant": "m-1"} for n in range(5)]
    ten = [{"payment": f"p-{n}", "merchant": "m-2"} for n in range(10)]

    ours_five, ours_five_made = _publish_and_read(redis.url(2), Transport, five, made)
    ours_ten, ours_ten_made = _publish_and_read(redis.url(2), Transport, ten, made)
    theirs_five, theirs_five_made = _publish_and_read(redis.url(2), "redis", five, made)
    theirs_ten, theirs_ten_made = _publish_and_read(redis.url(2), "redis", ten, made)

    assert (ours_five, ours_ten) == (five, ten)
    assert (theirs_five, theirs_ten) == (five, ten)
    assert ours_five_made == ours_ten_made == 4  # the channels' kept clients and the consumer's own
    assert theirs_ten_made - theirs_five_made >= 5  # kombu's own: at least one more per message published


def test_a_channel_keeps_one_client_for_its_commands(redis):
    with Connection(redis.url(2), transport=Transport) as conn:
        channel = conn.channel()
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping() is True
        assert channel._create_client(asynchronous=True) is not first


READ_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps([settings.CELERY_BROKER_URL, getattr(settings, "CELERY_BROKER_TRANSPORT", None)]))
"""


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("redis://redis:6379/0", ["redis://redis:6379/0", "taqsit.kombu_redis:Transport"]),
        (None, ["filesystem://localhost//", None]),
    ],
    ids=["redis", "files"],
)
def test_the_settings_choose_the_transport_with_the_broker(redis_url, expected):
    env = clean_env(SECRET_KEY=random_secret_key(), DJANGO_SETTINGS_MODULE="taqsit.settings")
    if redis_url:
        env["REDIS_URL"] = redis_url

    result = run_python(["-c", READ_SETTINGS], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == expected
