"""The audit trail's context: who did what, from where, attached to every write the database records.

PostgreSQL triggers capture every insert, update and delete of the domain tables (auditlog/capture.py). What a
trigger cannot see is the context: the signed-in user, the page or API call, the business action. It is kept
here, per thread, and django-pghistory's ``pghistory.context`` puts it in front of every write statement
(``set_config('pghistory.context_metadata', ...)``, local to the transaction), where the triggers read it.

Each entry point sets it once, with ``context()``:

- pages, the API and the admin: ``auditlog.middleware.AuditContextMiddleware`` (the source from the path);
- jobs: every Celery task (``task_started``/``task_finished``, connected in auditlog/apps.py) and the daily
  job runner (dailyrun/jobs.py);
- management commands and the shell: manage.py (``command_context``);

and each service names its business action: ``@action("payment.post")``. Apps import this module; it imports
none of them.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import ipaddress
import threading
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any, TypeVar

import pghistory
from django.core.exceptions import ImproperlyConfigured
from django.db import Error, connection

F = TypeVar("F", bound=Callable[..., Any])

PLATFORM_ADMIN_ROLE = "platform_admin"
# Every business action a service names (filled as the services are imported): the admin's filter lists them.
ACTIONS: set[str] = set()


class Source(StrEnum):
    WEB = "web"
    API = "api"
    ADMIN = "admin"
    JOB = "job"
    SHELL = "shell"
    PORTAL = "portal"  # a customer on the portal or the borrower API (``actor_customer`` names them)


_state = threading.local()


def _note_write(execute, sql, params, many, context):
    if (sql.decode() if isinstance(sql, bytes) else sql).lstrip()[:6].lower() != "select":
        _state.wrote = True
    return execute(sql, params, many, context)


def _forget() -> None:
    """pghistory sets the context for the rest of the transaction (``set_config(..., true)``): when the
    transaction goes on after the outermost context (a caller's ``atomic`` around it), clear it, so that no later
    write is credited to this context's actor and action."""
    if not connection.in_atomic_block or connection.needs_rollback:
        return
    with contextlib.suppress(Error), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', '', true), set_config('pghistory.context_metadata', '', true)"
        )


@contextlib.contextmanager
def context(**values: Any) -> Iterator[dict[str, Any]]:
    """Attach ``values`` to the writes made inside the block; the previous values come back after it.

    Starts the capture of context when no entry point has (the outermost block's writes share one context id).
    """
    depth = getattr(_state, "depth", 0)
    try:
        with contextlib.ExitStack() as scope:
            if depth == 0:
                _state.wrote = False
                scope.enter_context(connection.execute_wrapper(_note_write))
            tracked = scope.enter_context(pghistory.context())
            _state.depth = depth + 1
            metadata = tracked.metadata
            previous = {key: metadata[key] for key in values if key in metadata}
            metadata.update(values)
            try:
                yield metadata
            finally:
                for key in values:
                    metadata.pop(key, None)
                metadata.update(previous)
                _state.depth = depth
    finally:
        if depth == 0 and getattr(_state, "wrote", False):
            _forget()


def actor_values(user: Any) -> dict[str, Any]:
    """The context keys that say who acts: ``actor`` (user id), ``role`` and ``merchant`` (None: nobody)."""
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return {"actor": None, "role": None, "merchant": None}
    merchant_id = getattr(user, "merchant_id", None)
    return {
        "actor": str(user.pk),
        "role": PLATFORM_ADMIN_ROLE if user.is_superuser else user.role,
        "merchant": str(merchant_id) if merchant_id else None,
    }


def actor_set(user: Any) -> None:
    """Name who acts for the rest of the current context (a request's user once authenticated); outside any
    context, nothing (pghistory.context called, not entered, only adds to a context already started)."""
    pghistory.context(**actor_values(user))


def ip_clean(value: str | None) -> str | None:
    """An IP address the database takes as ``inet``, or None."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def action(name: str) -> Callable[[F], F]:
    """Name the business action of a service for every write it makes: ``@action("payment.post")``.

    The outermost action wins: a service called by another keeps the caller's name. When no entry point said who
    acts (a service called from the shell or a job), the service's ``actor`` argument does.
    """

    ACTIONS.add(name)

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with context() as metadata:
                values: dict[str, Any] = {}
                if not metadata.get("action"):
                    values["action"] = name
                if not metadata.get("actor") and kwargs.get("actor") is not None:
                    values.update(actor_values(kwargs["actor"]))
                with context(**values):
                    return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


# Jobs: every Celery task is one context (connected to Celery's signals in auditlog/apps.py) --------------------

_task_scopes: dict[str, contextlib.ExitStack] = {}


def task_started(*, task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """Celery's ``task_prerun``: the task's writes are a job's."""
    if task_id is None:
        return
    scope = contextlib.ExitStack()
    scope.enter_context(context(source=Source.JOB, task=getattr(task, "name", None), task_id=task_id))
    _task_scopes[task_id] = scope


def task_finished(*, task_id: str | None = None, **kwargs: Any) -> None:
    """Celery's ``task_postrun`` (sent whether the task succeeded or failed)."""
    scope = _task_scopes.pop(task_id, None) if task_id is not None else None
    if scope is not None:
        scope.close()


# Management commands and the shell: manage.py ---------------------------------------------------------------


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return None


@contextlib.contextmanager
def command_context(argv: list[str]) -> Iterator[None]:
    """manage.py: what a management command or the shell writes has the source ``shell``, the command's name and
    the operating-system user; the services it calls name the actor and the action."""
    with contextlib.ExitStack() as scope:
        # No usable settings: Django reports it (and `manage.py help` still works).
        with contextlib.suppress(ImproperlyConfigured):
            scope.enter_context(
                context(source=Source.SHELL, command=argv[1] if len(argv) > 1 else None, os_user=_os_user())
            )
        yield
