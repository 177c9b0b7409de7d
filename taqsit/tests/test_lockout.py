"""Log-in lockout (django-axes): the fifth failed log-in for one username from one address locks that pair out
for 15 minutes, on the staff pages, the admin and the API's token endpoint, even while the cache (Redis) is down."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from taqsit.tests.factories import TEST_PASSWORD
from taqsit.tests.pages import html

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)
TOKEN = "/api/auth/token/"


def log_in(client, username: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def test_five_failed_log_ins_lock_the_user_out_from_that_address_for_15_minutes(client, clerk):
    with time_machine.travel(NOON, tick=False) as clock:
        failures = [log_in(client, "clerk", "guess").status_code for _ in range(5)]
        locked = log_in(client, "clerk", TEST_PASSWORD)

        assert failures == [200, 200, 200, 200, 429]  # the form again with its error, then the lockout page
        assert locked.status_code == 429
        body = html(locked)
        assert "There were 5 failed log-ins for this user from your address." in body
        assert "Try again in 15 minutes, or ask the shop's owner to reset your password." in body
        assert "_auth_user_id" not in client.session

        clock.shift(timedelta(minutes=14))
        # An attempt while locked out is refused and does not start the 15 minutes again (else anyone who knows
        # a username could keep its owner out for good).
        assert log_in(client, "clerk", TEST_PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=1, seconds=1))
        welcome = log_in(client, "clerk", TEST_PASSWORD)
        assert (welcome.status_code, welcome["Location"]) == (302, reverse("taqsit:dashboard"))


def test_the_lock_holds_one_user_at_one_address(client, clerk, manager):
    for _ in range(5):
        log_in(client, "clerk", "guess")

    assert log_in(client, "clerk", TEST_PASSWORD).status_code == 429
    # The same clerk at another till, and a colleague at this one, log in.
    assert log_in(client, "clerk", TEST_PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    assert log_in(client, "manager", TEST_PASSWORD).status_code == 302


def test_a_successful_log_in_resets_the_count(client, clerk):
    for _ in range(4):
        log_in(client, "clerk", "guess")
    assert log_in(client, "clerk", TEST_PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        log_in(client, "clerk", "guess")

    assert log_in(client, "clerk", TEST_PASSWORD).status_code == 302


def test_the_lockout_page_speaks_the_readers_language(client, clerk):
    client.cookies["django_language"] = "es"
    for _ in range(5):
        log_in(client, "clerk", "guess")

    body = html(log_in(client, "clerk", TEST_PASSWORD))

    assert "Hubo 5 inicios de sesión fallidos de este usuario desde su dirección." in body


def test_the_admin_log_in_is_locked_out_too(client, superuser):
    url = reverse("admin:login")
    failures = [client.post(url, {"username": superuser.username, "password": "guess"}).status_code for _ in range(5)]
    assert failures == [200, 200, 200, 200, 429]

    locked = client.post(url, {"username": superuser.username, "password": TEST_PASSWORD})

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_api_token_endpoint_refuses_a_locked_out_user(api_client, owner):
    for _ in range(5):
        assert api_client.post(TOKEN, {"username": "owner", "password": "guess"}, format="json").status_code == 401

    locked = api_client.post(TOKEN, {"username": "owner", "password": TEST_PASSWORD}, format="json")
    elsewhere = api_client.post(
        TOKEN, {"username": "owner", "password": TEST_PASSWORD}, format="json", REMOTE_ADDR="10.9.8.7"
    )

    # The token endpoint's usual refusal, with no token: a locked account is not told apart from a bad password.
    assert (locked.status_code, "access" in locked.json()) == (401, False)
    assert (elsewhere.status_code, "access" in elsewhere.json()) == (200, True)


class UnreachableCache:
    """Stands in for a Redis that is down: every call fails."""

    def __init__(self, location, params) -> None:
        pass

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Connection refused")

        return fail


def test_the_lockout_holds_while_the_cache_is_down(client, clerk, settings):
    settings.CACHES = {"default": {"BACKEND": "taqsit.tests.test_lockout.UnreachableCache"}}
    for _ in range(5):
        log_in(client, "clerk", "guess")

    assert log_in(client, "clerk", TEST_PASSWORD).status_code == 429


def test_behind_a_proxy_each_client_is_locked_out_on_its_own(client, clerk, settings):
    settings.TRUSTED_PROXIES = 1
    proxy = "172.18.0.2"  # every request comes from the TLS terminator, which appends the client's address
    for _ in range(5):
        log_in(client, "clerk", "guess", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")

    attacker = log_in(client, "clerk", TEST_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # A forged entry on the left changes nothing: the proxy's own entry (the right-most) is the address.
    forged = log_in(client, "clerk", TEST_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7")
    the_clerk = log_in(client, "clerk", TEST_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert (attacker.status_code, forged.status_code, the_clerk.status_code) == (429, 429, 302)
