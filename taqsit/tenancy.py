"""Tenant scoping: every row a request touches belongs to the request's merchant.

One mechanism for every interface: ``TenantModel`` gives each tenant-owned model a ``merchant`` and a
``for_merchant()`` queryset method; ``queryset_for_user`` narrows any queryset to what a user may see; and
``MerchantScopedMixin`` applies it in HTML views and DRF viewsets alike, so another merchant's object is a 404.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext_lazy as _
from psycopg.pq import TransactionStatus

from taqsit.models import Merchant, TimeStampedModel, User
from taqsit.rls import CONTEXT_SETTING, MERCHANT_SETTING

PLATFORM_ALIAS = "platform"
ADMIN_PREFIX = "/admin/"


class TenantQuerySet(models.QuerySet):
    def for_merchant(self, merchant: Merchant | None) -> TenantQuerySet:
        if merchant is None:
            return self.none()
        return self.filter(merchant=merchant)


class TenantModel(TimeStampedModel):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def queryset_for_user(queryset: models.QuerySet, user: User | None) -> models.QuerySet:
    """Rows of ``queryset`` that ``user`` may see: its merchant's only; everything for a platform admin."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if getattr(user, "pk", None) is None:
        # Not a member of staff (a customer on the borrower API): the staff's scoping shows them nothing.
        return queryset.none()
    if user.is_superuser:
        return queryset
    if user.merchant_id is None:
        return queryset.none()
    return queryset.filter(merchant_id=user.merchant_id)


class MerchantScopedMixin:
    """For class-based HTML views and DRF viewsets: scope ``get_queryset()`` to the request's merchant."""

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return queryset_for_user(super().get_queryset(), self.request.user)


# The merchant of the transaction ---------------------------------------------------------------------------
# PostgreSQL's row-level security (taqsit/rls.py) shows a session only the rows of the merchant in its
# ``taqsit.merchant_id`` setting. The setting follows what the code runs for, before every query:
#
# - a request: the merchant of its user, once authenticated (a session's, a JWT's, DRF's forced user), or
#   ``request.tenant_merchant_id`` when a view sets it (a customer's portal, whose merchant is known from its
#   link or token); none before that (log-in: only staff accounts are readable then). ``TenantScopeMiddleware``.
# - ``merchant_scope(merchant_id)``: a task, a daily job's merchant, a command, a service that has just created
#   a merchant; nests, and restores what was there on exit.
# - ``platform_scope()``: the cross-merchant entry points only (beat's dispatchers, platform admins in the admin,
#   archival, the demo and bench generators): the connection is swapped for the platform role's (BYPASSRLS).
#
# The setting is written by an execute wrapper on every connection (``scope_wrapper``) right before the first
# query that needs it, on the raw connection (so it is no query the application counts), and again whenever it
# may have been lost: a new connection, a rolled-back transaction that had set it. At the end of a request and
# of a task it is reset, so a kept connection (CONN_MAX_AGE) never carries a merchant into the next one.

_NOTHING = ("", "")
_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "taqsit_tenant_request", default=None
)


def _stack(conn) -> list[tuple[str, str]]:
    return conn.__dict__.setdefault("taqsit_scopes", [])


@contextmanager
def merchant_scope(merchant_id, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block for one merchant: the database shows and accepts that merchant's rows only."""
    stack = _stack(connections[using])
    stack.append((str(merchant_id) if merchant_id else "", "merchant"))
    try:
        yield
    finally:
        stack.pop()


@contextmanager
def no_merchant_scope(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block for no merchant at all: every tenant table reads empty."""
    stack = _stack(connections[using])
    stack.append(("", "none"))
    try:
        yield
    finally:
        stack.pop()


@contextmanager
def platform_scope() -> Iterator[None]:
    """Cross-merchant work (never a merchant user's request): the default connection is the platform role's
    for the block. Entered outside any transaction (a transaction cannot move to another connection)."""
    swap = not getattr(settings, "TAQSIT_PLATFORM_SHARES_DEFAULT", False)
    previous = connections[DEFAULT_DB_ALIAS]
    if swap:
        if previous.in_atomic_block:
            raise RuntimeError("platform_scope() is entered outside a transaction.")
        connections[DEFAULT_DB_ALIAS] = connections[PLATFORM_ALIAS]
    stack = _stack(connections[DEFAULT_DB_ALIAS])
    stack.append(("", "platform"))
    try:
        yield
    finally:
        stack.pop()
        if swap:
            connections[DEFAULT_DB_ALIAS] = previous


def _user_of(request: HttpRequest):
    """The request's user if it is known already (never loads it: that is the query that needs no merchant)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        wrapped = user._wrapped
        return None if wrapped is empty else wrapped
    return user


def request_merchant_set(request, merchant_id) -> None:
    """The entry point for requests that act for a customer, not a staff user (the portal): from here on every
    query of the request runs for ``merchant_id`` (known from the portal's link, session or token before any
    tenant row is read). Takes Django's request or DRF's."""
    django_request = getattr(request, "_request", request)
    django_request.tenant_merchant_id = merchant_uuid(merchant_id)


def merchant_uuid(value) -> uuid.UUID | None:
    """``value`` as a merchant's id, or None when it is none (a forged or mangled one never reaches the session's
    setting, which the policies cast to uuid: it would fail every query of the request)."""
    if not value:
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def request_scope(request: HttpRequest) -> tuple[str, str]:
    merchant_id = getattr(request, "tenant_merchant_id", None)
    if merchant_id:
        return str(merchant_id), "request"
    user = _user_of(request)
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "merchant_id", None):
        return str(user.merchant_id), "request"
    return "", "request"


def current_request() -> HttpRequest | None:
    """The request being handled in this thread, if any (for the read replicas' read-your-writes)."""
    return _current_request.get()


def _scope_owner(conn):
    """The connection whose scopes ``conn`` follows: a read replica's session runs for whatever the default
    connection runs for (``merchant_scope`` and the rest push onto the default connection; taqsit/replicas.py)."""
    if conn.alias in getattr(settings, "DATABASE_REPLICA_ALIASES", ()):
        return connections[DEFAULT_DB_ALIAS]
    return conn


def desired_scope(conn) -> tuple[str, str]:
    stack = _scope_owner(conn).__dict__.get("taqsit_scopes")
    if stack:
        return stack[-1]
    request = _current_request.get()
    if request is not None:
        return request_scope(request)
    return _NOTHING


def _position(conn) -> tuple | None:
    """Where a setting written now lives: None outside a transaction (for the session), else the savepoints."""
    return tuple(conn.savepoint_ids) if conn.in_atomic_block else None


def _still_set(conn) -> bool:
    """False when the transaction or savepoint in which the setting was written has ended since without a
    commit known to have kept it: a rollback would have undone it."""
    written = conn.__dict__.get("taqsit_written_at")
    if written is None:
        return True
    return conn.in_atomic_block and tuple(conn.savepoint_ids)[: len(written)] == written


def _kept_by_commit(conn, scope: tuple[str, str]) -> None:
    """The transaction that wrote ``scope`` committed (its setting is the session's now): the queries after it
    need not write it again (a request's after-commit work, such as the promises' count after a payment)."""
    if conn.__dict__.get("taqsit_applied") == scope:
        conn.taqsit_written_at = None


def scope_apply(conn, scope: tuple[str, str]) -> None:
    """Write the merchant and the context on the connection's session."""
    raw = conn.connection
    if raw is None:
        return
    if raw.info.transaction_status == TransactionStatus.INERROR:
        return  # the statement to come fails anyway; the rollback restores the setting of before
    # Django's error wrapper: a lost server is Django's OperationalError here as in any query (a 503, and the
    # connection is checked before reuse), not psycopg's own (a 500).
    with conn.wrap_database_errors:
        raw.execute(
            "SELECT set_config(%s, %s, false), set_config(%s, %s, false)",
            [MERCHANT_SETTING, scope[0], CONTEXT_SETTING, scope[1]],
        )
    conn.taqsit_applied = scope
    conn.taqsit_written_at = _position(conn)
    if conn.in_atomic_block:
        # Django drops this with a savepoint rolled back, and runs it once the outermost block commits.
        conn.on_commit(lambda: _kept_by_commit(conn, scope))


def _as_the_policies_see(scope: tuple[str, str]) -> tuple[str, str]:
    """What of a scope the database tells apart: the merchant, and whether any application code runs at all (the
    context's only reader is the test database's policy for set-up code, conftest.py: empty or "platform"
    against the rest). A request and a ``merchant_scope`` of its own merchant (its after-commit work) are one."""
    return scope if scope[1] in ("", "platform") else (scope[0], "application")


def scope_wrapper(execute, sql, params, many, context):
    """Django execute wrapper: the session's merchant is the one the code runs for, before every query."""
    conn = context["connection"]
    scope = desired_scope(conn)
    applied = conn.__dict__.get("taqsit_applied", _NOTHING)
    if _as_the_policies_see(scope) != _as_the_policies_see(applied) or not _still_set(conn):
        scope_apply(conn, scope)
    return execute(sql, params, many, context)


def scope_wrapper_install(sender, connection, **kwargs) -> None:
    """``connection_created``: a new session has nothing set; every query of it goes through the wrapper."""
    connection.taqsit_applied = _NOTHING
    connection.taqsit_written_at = None
    if scope_wrapper not in connection.execute_wrappers:
        # First, not last: a connection made inside another wrapper's block (``connection.execute_wrapper()``,
        # as taqsit/audit.py's) would otherwise lose this one when that block pops the last wrapper.
        connection.execute_wrappers.insert(0, scope_wrapper)


def scope_reset(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Forget the merchant on the session now (end of a request or task), if one was written; the default
    connection's read replicas' sessions with it."""
    _scope_reset(connections[using])
    if using == DEFAULT_DB_ALIAS:
        for alias in getattr(settings, "DATABASE_REPLICA_ALIASES", ()):
            _scope_reset(connections[alias])


def _scope_reset(conn) -> None:
    if conn.connection is None or conn.__dict__.get("taqsit_applied", _NOTHING) == _NOTHING:
        return
    try:
        scope_apply(conn, _NOTHING)
    except DatabaseError:
        conn.close()  # a session whose setting could not be reset is not reused


def _platform_admin(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_superuser and user.merchant_id is None)


class TenantScopeMiddleware:
    """Every query of a request runs for the request's merchant (``request_scope``); platform admins' requests
    in the admin run as the platform role; the setting is reset when the request ends, whatever happened."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            # Only the admin loads the user here (it does anyway); the probes must answer without the database.
            if request.path_info.startswith(ADMIN_PREFIX) and _platform_admin(request.user):
                with platform_scope():
                    try:
                        return self.get_response(request)
                    finally:
                        scope_reset()
            response = self.get_response(request)
            if response.streaming:
                # Read after this returns (a CSV export): its rows are still the request's merchant's only.
                response.streaming_content = _streamed_for(request_scope(request)[0], response.streaming_content)
            return response
        finally:
            _current_request.reset(token)
            scope_reset()


def _streamed_for(merchant_id: str, content: Iterable) -> Iterator:
    try:
        with merchant_scope(merchant_id):
            yield from content
    finally:
        scope_reset()
