"""The bench databases: where the server is, and creating, copying and dropping databases on it.

Every helper here talks to the server as the settings' user through the ``postgres`` maintenance database;
none of them ever touches the development database (``taqsit``) or a test database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "taqsit_bench"
PROTECTED = {"taqsit", "postgres", "template0", "template1"}


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    def connect(self, dbname: str, **kwargs) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname=dbname, **kwargs
        )

    def dsn(self, dbname: str) -> str:
        parts = [f"host={self.host}", f"port={self.port}", f"user={self.user}", f"dbname={dbname}"]
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)

    def env(self) -> dict[str, str]:
        """libpq's variables, for pgbench and psql."""
        env = {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def server() -> Server:
    """The application's server (starting the embedded one when no DATABASE_URL is set), from Django's settings,
    as its owner (DATABASE_URL's user): the generator creates, migrates and loads the database."""
    from django.conf import settings

    db = settings.DATABASES["owner"]
    return Server(
        host=db.get("HOST") or "localhost",
        port=int(db.get("PORT") or 5432),
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or "",
    )


def _check_name(name: str) -> None:
    if name in PROTECTED or name.startswith("test_"):
        raise ValueError(f"Refusing to create or drop the database {name!r}: not a bench database.")


def database_exists(srv: Server, name: str) -> bool:
    with srv.connect("postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def database_comment(srv: Server, name: str) -> dict | None:
    """The JSON the generator left as the database's comment (its scale and sizes), or None."""
    with srv.connect("postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def _terminate(conn: psycopg.Connection, name: str) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [name],
    )


def database_drop(srv: Server, name: str) -> None:
    _check_name(name)
    with srv.connect("postgres", autocommit=True) as conn:
        _terminate(conn, name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def database_create(srv: Server, name: str, *, template: str | None = None) -> float:
    """Create ``name`` (empty, or a copy of ``template`` by file copy); returns the seconds it took."""
    _check_name(name)
    started = time.perf_counter()
    with srv.connect("postgres", autocommit=True) as conn:
        _terminate(conn, name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            # A template must have no other session: Django's persistent connections from an earlier step.
            _terminate(conn, template)
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    return time.perf_counter() - started


def django_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of a child process that runs the application against ``database``."""
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="bench.settings", BENCH_DATABASE=database, PYTHONPATH=str(ROOT))
    env.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    env.update(extra)
    return env


def stats_rebuild(database: str) -> float:
    """``manage.py stats_rebuild`` against ``database`` (the COPY load bypasses the services that keep the
    statistics' summary rows); returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "stats_rebuild"],
        env=django_env(database),
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def migrate(database: str) -> float:
    """``manage.py migrate`` against ``database`` in a child process; returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=django_env(database),
        check=True,
        cwd=ROOT,
    )
    return time.perf_counter() - started
