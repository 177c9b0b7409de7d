"""The default cache is shared by every process (gunicorn's workers, Celery's): without Redis it is a table in
PostgreSQL, created by ``migrate``. A second process (run here as a fresh Python process on the test database)
counts against the same rate limit and moves money that ``/api/stats/`` then shows at once."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from installments.tests.factories import plan_make
from taqsit.tests.test_settings import clean_env, database_url, random_secret_key, run_python

pytestmark = pytest.mark.django_db(transaction=True)

DEFAULT_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "taqsit_cache"}

READ_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
cache = settings.CACHES["default"]
limit = cache.get("OPTIONS", {}).get("MAX_ENTRIES")
print(json.dumps([cache["BACKEND"], cache.get("LOCATION"), limit]))
"""

OTHER_PROCESS = """
import sys
from decimal import Decimal
import django
django.setup()
from rest_framework.test import APIClient
from installments.models import InstallmentPlan
from payments.services import payment_post
from taqsit.models import User

user = User.objects.get(pk=sys.argv[1])
client = APIClient()
client.force_authenticate(user)
print(*[client.get("/api/auth/me/", secure=True).status_code for _ in range(2)])
if len(sys.argv) > 2:
    payment_post(actor=user, plan=InstallmentPlan.objects.get(pk=sys.argv[2]), amount=Decimal("50.00"))
"""


def other_process(*args: str, rate: str = "3/minute") -> list[int]:
    """Two ``GET /api/auth/me/`` as ``args[0]`` (and a payment on plan ``args[1]``) from another process with the
    default cache settings; the status codes it got."""
    env = clean_env(
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        API_RATE_USER=rate,
        DJANGO_SETTINGS_MODULE="taqsit.settings",
    )
    result = run_python(["-c", OTHER_PROCESS, *args], env)
    assert result.returncode == 0, result.stdout + result.stderr
    return [int(code) for code in result.stdout.split()[-2:]]


@pytest.fixture
def shared_cache(settings):
    """This process on the default cache (the suite's other tests use process memory), emptied."""
    settings.CACHES = {"default": DEFAULT_CACHE}
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("cache_url", "expected"),
    [
        (None, ["django.core.cache.backends.db.DatabaseCache", "taqsit_cache", 20000]),
        ("redis://redis:6379/1", ["taqsit.redis_cache.RedisCache", "redis://redis:6379/1", None]),
        ("locmemcache://", ["django.core.cache.backends.locmem.LocMemCache", "", None]),
    ],
    ids=["default", "redis", "memory"],
)
def test_the_default_cache_is_the_database_and_stale_statistics_only_with_a_shared_one(cache_url, expected):
    env = clean_env(SECRET_KEY=random_secret_key(), DJANGO_SETTINGS_MODULE="taqsit.settings")
    if cache_url:
        env["CACHE_URL"] = cache_url

    result = run_python(["-c", READ_SETTINGS], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == expected


def test_migrate_creates_the_cache_table():
    with connection.cursor() as cursor:
        columns = [column.name for column in connection.introspection.get_table_description(cursor, "taqsit_cache")]

    assert columns == ["cache_key", "value", "expires"]


def test_two_processes_count_against_one_rate_limit(shared_cache, settings, clerk):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/minute"},
    }
    client = APIClient()
    client.force_authenticate(clerk)

    here = [client.get("/api/auth/me/").status_code for _ in range(2)]
    there = other_process(str(clerk.pk))
    after = client.get("/api/auth/me/")

    assert here == [200, 200]
    assert there == [200, 429]
    assert after.status_code == 429


def test_statistics_show_money_another_process_moved(shared_cache, owner, customer):
    plan = plan_make(actor=owner, customer=customer)
    client = APIClient()
    client.force_authenticate(owner)
    before = client.get("/api/stats/").json()

    other_process(str(owner.pk), str(plan.pk), rate="100/minute")
    after = client.get("/api/stats/").json()

    assert (before["collected"], after["collected"]) == ("200.00", "250.00")
