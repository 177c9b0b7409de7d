"""docker-compose.yml and the Dockerfile agree with each other and with settings.py. No database needed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

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
