"""docker-compose.yml and the Dockerfile agree with each other and with settings.py. No database needed."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import yaml
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
    return instructions


def settings_environment_variables() -> set[str]:
    """The names settings.py reads through django-environ (env.str("NAME"...), env.bool(...), ...)."""
    text = (PROJECT_ROOT / "taqsit" / "settings.py").read_text()
    return set(re.findall(r"\b(?:env|Env\(\))\.\w+\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", text))


def environment_of(service: dict) -> dict:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return environment


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


def test_settings_variables_are_found():
    names = settings_environment_variables()

    assert {"SECRET_KEY", "DATABASE_URL", "DEBUG", "ALLOWED_HOSTS", "REDIS_URL", "TAQSIT_VAR_DIR"} <= names


def test_compose_services(compose):
    services = compose["services"]

    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert services["web"]["build"] == "."
    assert services["worker"]["build"] == "."
    assert services["beat"]["build"] == "."


@pytest.mark.parametrize(("service", "probe"), [("db", "pg_isready"), ("redis", "redis-cli ping")])
def test_compose_health_checks(compose, service, probe):
    test = compose["services"][service]["healthcheck"]["test"]

    assert probe in (test if isinstance(test, str) else " ".join(test))


def test_database_data_lives_in_a_named_volume(compose):
    volumes = compose["services"]["db"]["volumes"]
    named = {volume.split(":", 1)[0] for volume in volumes if volume.endswith(":/var/lib/postgresql/data")}

    assert named
    assert named <= set(compose.get("volumes") or {})


def test_web_migrates_then_starts_gunicorn(compose):
    command = command_of(compose["services"]["web"])

    assert "manage.py migrate --noinput" in command
    assert "gunicorn taqsit.wsgi" in command
    assert command.index("migrate") < command.index("gunicorn")
    assert "&&" in command, "gunicorn must not start when the migration failed"


def test_web_waits_for_healthy_db_and_redis(compose):
    depends_on = compose["services"]["web"]["depends_on"]

    assert depends_on == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_web_publishes_port_8000(compose):
    assert "8000:8000" in compose["services"]["web"]["ports"]


def test_web_environment(compose):
    environment = environment_of(compose["services"]["web"])

    assert environment["DATABASE_URL"] == "postgres://taqsit:taqsit@db:5432/taqsit"
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    assert environment["CACHE_URL"] == "redis://redis:6379/1"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), "no default secret key"
    assert "ALLOWED_HOSTS" in environment
    assert "DEBUG" not in environment


def test_database_credentials_match_the_db_service(compose):
    db = compose["services"]["db"]["environment"]

    expected = f"postgres://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@db:5432/{db['POSTGRES_DB']}"
    assert environment_of(compose["services"]["web"])["DATABASE_URL"] == expected


def test_every_variable_compose_sets_is_read_by_settings(compose):
    known = settings_environment_variables()
    ours = {name: service for name, service in compose["services"].items() if "build" in service}

    assert ours
    for name, service in ours.items():
        unknown = set(environment_of(service)) - known
        assert not unknown, f"{name} sets variables settings.py never reads: {sorted(unknown)}"


def test_dockerfile_base_image(dockerfile):
    assert dockerfile[0] == ("FROM", "python:3.11-slim")


def test_dockerfile_installs_pinned_requirements_with_gunicorn(dockerfile):
    runs = [arguments for keyword, arguments in dockerfile if keyword == "RUN"]

    assert any("pip install -r requirements.txt" in run for run in runs)
    requirements = (PROJECT_ROOT / "requirements.txt").read_text()
    assert re.search(r"^gunicorn==\d+(\.\d+)*$", requirements, re.MULTILINE)


def test_dockerfile_collects_static_files_at_build(dockerfile):
    runs = [arguments for keyword, arguments in dockerfile if keyword == "RUN"]

    assert any("manage.py collectstatic --noinput" in run for run in runs)


def test_dockerfile_runs_as_a_non_root_user(dockerfile):
    users = [(index, arguments) for index, (keyword, arguments) in enumerate(dockerfile) if keyword == "USER"]
    cmd = [index for index, (keyword, _) in enumerate(dockerfile) if keyword in {"CMD", "ENTRYPOINT"}]

    assert users, "the Dockerfile sets no USER: the app would run as root"
    last_index, last_user = users[-1]
    assert last_user.split(":")[0] not in {"root", "0"}
    assert cmd and last_index < cmd[-1]


def test_dockerfile_serves_taqsit_with_gunicorn_on_port_8000(dockerfile):
    (cmd,) = [arguments for keyword, arguments in dockerfile if keyword == "CMD"]

    assert "gunicorn" in cmd
    assert "taqsit.wsgi" in cmd
    assert "0.0.0.0:8000" in cmd
    assert ("EXPOSE", "8000") in dockerfile


@pytest.mark.parametrize(
    ("service", "program"), [("worker", "celery -A taqsit worker"), ("beat", "celery -A taqsit beat")]
)
def test_worker_and_beat_wait_for_migrations_then_start_celery(compose, service, program):
    command = command_of(compose["services"][service])

    assert program in command
    assert "manage.py migrate --check" in command
    assert command.index("migrate --check") < command.index(program)
    assert "exec celery" in command, "celery must be the container's main process to get its signals"


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_worker_and_beat_wait_for_healthy_db_and_redis(compose, service):
    assert compose["services"][service]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert compose["services"][service]["restart"] == "unless-stopped"


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_worker_and_beat_get_the_same_settings_as_web(compose, service):
    assert environment_of(compose["services"][service]) == environment_of(compose["services"]["web"])
    assert environment_of(compose["services"][service])["REDIS_URL"].startswith("redis://redis:6379/")


def test_one_beat_and_no_published_ports_for_the_workers(compose):
    beat = compose["services"]["beat"]

    assert "deploy" not in beat and "scale" not in beat, "two beats would send every entry twice"
    assert "ports" not in compose["services"]["worker"]
    assert "ports" not in beat


def test_sms_settings_reach_the_containers(compose):
    environment = environment_of(compose["services"]["worker"])

    assert {"SMS_BACKEND", "SMS_API_URL", "SMS_API_USER", "SMS_API_TOKEN", "SMS_FROM", "EMAIL_URL"} <= set(environment)
    assert environment["SMS_API_TOKEN"] is None, "no secret in the compose file: passed through from the shell"


def test_make_run_starts_a_worker_with_beat():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    (line,) = [line for line in makefile.splitlines() if line.startswith("WORKER_CMD ?=")]

    assert "celery -A taqsit worker" in line
    assert "--beat" in line


def test_make_run_prints_the_demo_logins_after_the_worker_is_ready():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nrun: ") : makefile.index("\nworker: ")]

    assert "demo_load --no-logins" in recipe
    # The logins wait for the worker's "ready." line and the web server's port, then come last.
    ready, port, logins = (
        recipe.index("' ready\\.'"),
        recipe.index("socket.create_connection"),
        recipe.index('"$$logins"'),
    )
    assert ready < port < logins
    assert recipe.rstrip().endswith("manage.py runserver 127.0.0.1:$(PORT)")


# Operations: health checks, restart policies, volumes, metrics --------------------------------------------

APP_SERVICES = ("web", "worker", "beat")
WEB_PROBE = "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=5)"


def healthcheck_of(dockerfile: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's HEALTHCHECK as (its --options, its CMD in exec form)."""
    (arguments,) = [arguments for keyword, arguments in dockerfile if keyword == "HEALTHCHECK"]
    options, _, command = arguments.partition(" CMD ")
    flags = dict(option.lstrip("-").split("=", 1) for option in options.split())
    return flags, json.loads(command)


def dockerfile_env(dockerfile: list[tuple[str, str]]) -> dict[str, str]:
    pairs = " ".join(arguments for keyword, arguments in dockerfile if keyword == "ENV").split()
    return dict(pair.split("=", 1) for pair in pairs)


def test_every_service_has_a_health_check_and_restarts(compose):
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name
        assert service["restart"] == "unless-stopped", name


def test_web_health_check_asks_healthz_over_plain_http(compose):
    check = compose["services"]["web"]["healthcheck"]

    assert check["test"] == ["CMD", "python", "-c", WEB_PROBE]
    assert (check["interval"], check["timeout"], check["retries"], check["start_period"]) == ("30s", "10s", 3, "120s")


@pytest.mark.parametrize(("service", "node"), [("worker", "celery"), ("beat", "celerybeat")])
def test_worker_and_beat_answer_a_celery_ping_on_their_own_node(compose, service, node):
    """Both replace the image's HTTP check (they serve no HTTP): `celery inspect ping` to this container's node
    exits non-zero when it does not answer. Beat answers only with --enable-remote-control, and only while its
    scheduler ticks."""
    check = compose["services"][service]["healthcheck"]

    assert check["test"] == [
        "CMD-SHELL",
        f"celery -A taqsit inspect ping --destination {node}@$$HOSTNAME --timeout 10 >/dev/null",
    ]
    assert check["start_period"] == "180s"
    assert "--timeout 10" in check["test"][1] and check["timeout"] == "30s"


def test_beat_answers_remote_control(compose):
    assert "exec celery -A taqsit beat --loglevel INFO --enable-remote-control" in command_of(
        compose["services"]["beat"]
    )


def test_data_volumes_are_named_and_metrics_live_on_a_tmpfs(compose, dockerfile):
    services = compose["services"]

    assert services["db"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redis-data:/data"]
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "audit-archive", "media"}
    # The worker writes the audit-log archive in the daily jobs: a named volume, at the image's folder.
    archive = dockerfile_env(dockerfile)["AUDIT_ARCHIVE_DIR"]
    media = dockerfile_env(dockerfile)["MEDIA_ROOT"]
    # ...and reads the spreadsheets uploaded for import from the media volume.
    assert services["worker"]["volumes"] == [f"audit-archive:{archive}", f"media:{media}"]
    assert compose["x-app-environment"]["AUDIT_ARCHIVE_DIR"] == archive
    # The web container receives and serves the proofs of payment customers upload: a named volume, likewise.
    assert services["web"]["volumes"] == [f"media:{media}"]
    assert compose["x-app-environment"]["MEDIA_ROOT"] == media
    directory = dockerfile_env(dockerfile)["PROMETHEUS_MULTIPROC_DIR"]
    assert directory == "/tmp/prometheus"  # noqa: S108 - the container's folder, a tmpfs of its own
    for name in APP_SERVICES:
        assert services[name]["tmpfs"] == [directory], name
        assert environment_of(services[name])["PROMETHEUS_MULTIPROC_DIR"] == directory


def test_metrics_settings_reach_the_containers(compose):
    environment = environment_of(compose["services"]["web"])

    assert environment["METRICS_TOKEN"] is None, "no token in the compose file: passed through from the shell"
    assert environment["WORKER_METRICS_PORT"] == "9808"
    assert compose["services"]["worker"]["expose"] == ["9808"]
    assert "LOG_FORMAT" in environment


def test_allowed_hosts_let_the_probes_and_the_scrape_in(compose):
    """The health check sends Host: localhost, a Prometheus on the compose network Host: web."""
    allowed = environment_of(compose["services"]["web"])["ALLOWED_HOSTS"]

    assert allowed == "localhost,web,${ALLOWED_HOSTS:-127.0.0.1}"


def test_dockerfile_health_check_probes_healthz_like_compose(dockerfile, compose):
    flags, command = healthcheck_of(dockerfile)
    instructions = [keyword for keyword, _ in dockerfile]

    assert command == compose["services"]["web"]["healthcheck"]["test"][1:]
    assert flags == {"interval": "30s", "timeout": "10s", "start-period": "60s", "retries": "3"}
    assert instructions.index("USER") < instructions.index("HEALTHCHECK") < instructions.index("CMD")


def test_dockerfile_gives_the_app_user_its_metrics_folder(dockerfile):
    runs = [arguments for keyword, arguments in dockerfile if keyword == "RUN"]

    assert any('install -d -o taqsit -g taqsit "$PROMETHEUS_MULTIPROC_DIR"' in run for run in runs)


def test_requirements_pin_the_operations_packages():
    requirements = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()

    assert {"prometheus-client==0.26.0", "python-json-logger==4.2.0", "django-csp==4.0"} <= set(requirements)
    assert "drf-spectacular-sidecar==2026.10.1" in requirements


@contextmanager
def django_served(**overrides) -> Iterator[int]:
    """This project's WSGI app (production middleware, with ``overrides``) on a loopback port."""
    with override_settings(**overrides):
        server = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_QuietRequestHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_port
        finally:
            server.shutdown()
            server.server_close()


class _QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@pytest.mark.parametrize(
    ("allowed_hosts", "exit_code"),
    [(["localhost", "web", "taqsit.example.com"], 0), (["taqsit.example.com"], 1)],
    ids=["compose-hosts", "localhost-not-allowed"],
)
def test_the_image_health_check_command_passes_against_the_app(dockerfile, allowed_hosts, exit_code):
    """The HEALTHCHECK's own command, run as Docker would, against the app with the HTTPS redirect on: it
    passes when ALLOWED_HOSTS allows localhost (as docker-compose.yml does), and fails when it does not."""
    _, command = healthcheck_of(dockerfile)
    with django_served(ALLOWED_HOSTS=allowed_hosts, SECURE_SSL_REDIRECT=True) as port:
        probe = [part.replace("localhost:8000", f"localhost:{port}") for part in command]
        result = subprocess.run(  # noqa: S603 - the Dockerfile's own probe, on loopback
            [sys.executable if part == "python" else part for part in probe],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == exit_code, result.stderr
