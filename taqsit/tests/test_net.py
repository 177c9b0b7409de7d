"""The client's address (taqsit/net.py): REMOTE_ADDR, or through the trusted proxies' X-Forwarded-For entries."""

import pytest
from django.test import RequestFactory

from taqsit.net import client_ip


def request(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.7", None, "203.0.113.7"),
        (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),  # no proxy: the header is anyone's to write
        (1, "172.18.0.2", "203.0.113.7", "203.0.113.7"),
        (1, "172.18.0.2", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the forged left entry is ignored
        (2, "172.18.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.5", "203.0.113.7"),  # a CDN, then the terminator
        (2, "172.18.0.2", "203.0.113.7", "203.0.113.7"),  # fewer entries than proxies: the left-most
        (1, "172.18.0.2", None, "172.18.0.2"),  # no header: the connection's address
        (1, "172.18.0.2", " , ", "172.18.0.2"),
    ],
)
def test_the_client_address_is_read_through_the_trusted_proxies(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies

    assert client_ip(request(remote, forwarded)) == expected
