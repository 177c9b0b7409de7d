"""Settings come from the environment only: no SECRET_KEY, no start; production settings pass check --deploy.

Each case runs a fresh Python process with an environment built from scratch, so nothing of the test
process's own environment (DEBUG, DATABASE_URL, ...) leaks into it.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import environ
import pytest
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def clean_env(**variables: str) -> dict[str, str]:
    """The bare minimum a Python process needs, plus ``variables``."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL") if name in os.environ}
    return {**base, "PYTHONDONTWRITEBYTECODE": "1", **variables}


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def database_url(database: dict) -> str:
    """A postgres:// URL for Django database settings; a unix-socket HOST goes in the URL's path."""
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    name = quote(database["NAME"], safe="")
    if host.startswith("/"):  # postgres://user@:port//socket/dir/name
        return f"postgres://{credentials}{port}/{quote(host)}/{name}"
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"postgres://{credentials}{host}{port}/{name}"


def random_secret_key(length: int = 50) -> str:
    alphabet = string.ascii_letters + string.digits + "!#%&()*+-./:;<=>?@[]^_{|}~"
    return "".join(secrets.choice(alphabet) for _ in range(length))


SETUP_DJANGO = """
import django
from django.core.exceptions import ImproperlyConfigured

try:
    django.setup()
except ImproperlyConfigured as exc:
    print(f"ImproperlyConfigured: {exc}")
    raise SystemExit(3) from None
print("started")
"""


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_settings_refuse_to_start_without_secret_key(secret_key):
    env = clean_env(DJANGO_SETTINGS_MODULE="taqsit.settings")
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    result = run_python(["-c", SETUP_DJANGO], env)

    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.startswith("ImproperlyConfigured:")
    assert "SECRET_KEY" in result.stdout


def test_database_url_round_trips_through_django_environ():
    database = settings.DATABASES["default"]
    parsed = environ.Env.db_url_config(database_url(database))

    for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST"):
        assert parsed[key] == database[key], key
    assert str(parsed["PORT"]) == str(database["PORT"])


@pytest.mark.parametrize(
    "database",
    [
        {"NAME": "taqsit", "USER": "postgres", "PASSWORD": "", "HOST": "/srv/my data+pg", "PORT": "5432"},
        {"NAME": "taqsit", "USER": "", "PASSWORD": "", "HOST": "/run/postgresql", "PORT": ""},
        {"NAME": "taqsit", "USER": "app", "PASSWORD": "p@ss:w/rd", "HOST": "db.internal", "PORT": "6543"},
        {"NAME": "taqsit", "USER": "app", "PASSWORD": "", "HOST": "::1", "PORT": "5432"},
    ],
    ids=["socket", "socket-default-port", "tcp", "ipv6"],
)
def test_database_url_builder(database):
    parsed = environ.Env.db_url_config(database_url(database))

    assert {key: str(parsed[key]) for key in database} == database


def test_production_settings_pass_check_deploy():
    env = clean_env(
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="example.com",
        DATABASE_URL=database_url(settings.DATABASES["default"]),
    )
    assert "DEBUG" not in env

    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output


LOG_FORMATTER = """
import logging

import django

django.setup()
(handler,) = logging.getLogger().handlers
print(type(handler.formatter).__name__)
"""


@pytest.mark.parametrize(
    ("variables", "formatter"),
    [
        ({}, "JsonFormatter"),
        ({"DEBUG": "1"}, "Formatter"),
        ({"LOG_FORMAT": "text"}, "Formatter"),
        ({"DEBUG": "1", "LOG_FORMAT": "json"}, "JsonFormatter"),
    ],
    ids=["production", "debug", "text", "debug-json"],
)
def test_logs_are_json_in_production_and_text_for_developers(variables, formatter):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="taqsit.settings",
        SECRET_KEY=random_secret_key(),
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        **variables,
    )

    result = run_python(["-c", LOG_FORMATTER], env)

    assert (result.returncode, result.stdout.strip()) == (0, formatter), result.stderr


def test_an_unknown_log_format_stops_start_up():
    env = clean_env(
        DJANGO_SETTINGS_MODULE="taqsit.settings",
        SECRET_KEY=random_secret_key(),
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        LOG_FORMAT="xml",
    )

    result = run_python(["-c", SETUP_DJANGO], env)

    assert (result.returncode, result.stdout.strip()) == (
        3,
        "ImproperlyConfigured: LOG_FORMAT must be json or text, not 'xml'.",
    )
