"""The database as the second wall: the runtime roles, their privileges, and row-level security on every tenant
table (README.md, "Configuration": "Database roles").

Three roles: the owner (``DATABASE_URL``'s user) owns every table and runs the migrations; the runtime role
(``DATABASE_APP_ROLE``, ``taqsit_app``) is what the web processes, the worker and beat connect as: no superuser,
no ``BYPASSRLS``, owner of nothing, ``SELECT``/``INSERT``/``UPDATE``/``DELETE`` on the tables (no ``TRUNCATE``,
no DDL); the platform role (``DATABASE_PLATFORM_ROLE``, ``taqsit_platform``) has the same privileges plus
``BYPASSRLS``, for the cross-merchant entry points only (taqsit/tenancy.py, ``platform_scope``).

Every table with a ``merchant_id`` column is found in the catalogue (not listed by hand: a new app's tables are
covered by the next ``migrate``, which calls ``database_secure`` after the migrations, and a migration may call it
itself with ``migrations.RunPython(rls.database_secure_operation)``), and gets row-level security, enabled and
forced, with one policy: a row is visible and writable only when its ``merchant_id`` is the transaction's
merchant (``taqsit.merchant_id``, set by taqsit/tenancy.py). Two tables differ, each for a reason given in
``SPECIAL_POLICIES``. taqsit/tests/test_rls.py fails when a model with ``merchant_id`` has no policy.
"""

from __future__ import annotations

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

MERCHANT_SETTING = "taqsit.merchant_id"
# What the transaction runs for (a request, a task, a job, the platform): read by nothing in production; the
# test suite's own policy (conftest.py) lets a test's set-up and assertions see every row only outside of it.
CONTEXT_SETTING = "taqsit.context"
CURRENT_MERCHANT = f"NULLIF(current_setting('{MERCHANT_SETTING}', true), '')::uuid"
TENANT_POLICY = "taqsit_tenant"
TENANT_CONDITION = f"merchant_id = {CURRENT_MERCHANT}"

AUDIT_TABLE = "auditlog_entry"
USER_TABLE = "taqsit_user"
# Tables whose rows the runtime role may add and read but never change nor delete (no setting, trigger switch
# or session_replication_role matters: the privilege is not there). The archival deletes through a security-
# definer function of the owner (auditlog/migrations/0003_runtime_roles.py).
APPEND_ONLY_TABLES = (AUDIT_TABLE,)
# Read-only for the runtime role: the migrations' own bookkeeping.
READ_ONLY_TABLES = ("django_migrations",)

# table -> list of (policy name, command, USING, WITH CHECK), replacing the tenant policy.
SPECIAL_POLICIES: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    # Staff accounts are looked up before the merchant is known (log-in by username, the session's and the JWT's
    # user, a password reset by e-mail, the lockout): with no merchant set every account is readable (as
    # without row-level security); once a merchant is set, only its own (a forgotten filter in the staff list
    # shows nobody else's staff). Platform admins' accounts (no merchant) only through the platform role.
    USER_TABLE: [
        (
            TENANT_POLICY,
            "ALL",
            f"{TENANT_CONDITION} OR {CURRENT_MERCHANT} IS NULL",
            f"{TENANT_CONDITION} OR {CURRENT_MERCHANT} IS NULL",
        )
    ],
    # Entries are written by the capture triggers for whatever row changed (a new merchant's own first entry is
    # written before any merchant is set; a platform admin's account has none); they are read only by their
    # merchant. UPDATE and DELETE are not granted at all (APPEND_ONLY_TABLES).
    AUDIT_TABLE: [
        (TENANT_POLICY, "SELECT", TENANT_CONDITION, None),
        ("taqsit_trail_insert", "INSERT", None, "true"),
    ],
}


def role_names() -> dict[str, str]:
    return {"app": settings.DATABASE_APP_ROLE, "platform": settings.DATABASE_PLATFORM_ROLE}


def tenant_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """Every table of the current schema with a ``merchant_id`` column, by name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = current_schema() AND c.column_name = 'merchant_id' "
            "AND t.table_type = 'BASE TABLE' ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def _role_ensure(cursor, *, name: str, bypass_rls: bool, password: str) -> None:
    """Create the role when missing (an administrator may have made it already: then it is only checked)."""
    qn = _quote
    wanted = (True, False, False, False, False, bypass_rls)
    cursor.execute(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolbypassrls FROM pg_roles "
        "WHERE rolname = %s",
        [name],
    )
    row = cursor.fetchone()
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    superuser = cursor.fetchone()[0]
    attributes = f"LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT {'BYPASSRLS' if bypass_rls else 'NOBYPASSRLS'}"
    # Roles belong to the whole server, and several people's test runs on one server make and check them at
    # once: a second CREATE finds the role made; an ALTER only when something differs, giving way to a racing one.
    if row is None:
        cursor.execute(
            f"DO $$ BEGIN CREATE ROLE {qn(name)} {attributes}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    elif superuser and tuple(row) != wanted:
        cursor.execute(
            f"DO $$ BEGIN ALTER ROLE {qn(name)} {attributes}; EXCEPTION WHEN internal_error THEN NULL; END $$"
        )
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [name])
    is_super, bypasses = cursor.fetchone()
    if is_super or (bypasses and not bypass_rls):
        raise RuntimeError(
            f"The database role {name} is a superuser or bypasses row-level security: the application must not "
            f"connect as such a role (ALTER ROLE {name} NOSUPERUSER NOBYPASSRLS)."
        )
    if password:
        cursor.execute(f"ALTER ROLE {qn(name)} PASSWORD %s", [password])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def roles_install(connection: BaseDatabaseWrapper) -> None:
    """The runtime and platform roles, their privileges on every table and sequence (now and created later by
    the owner: default privileges), the append-only and read-only tables."""
    qn = _quote
    roles = role_names()
    with connection.cursor() as cursor:
        _role_ensure(cursor, name=roles["app"], bypass_rls=False, password=settings.DATABASE_APP_PASSWORD)
        _role_ensure(cursor, name=roles["platform"], bypass_rls=True, password=settings.DATABASE_PLATFORM_PASSWORD)
        both = f"{qn(roles['app'])}, {qn(roles['platform'])}"
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {both}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {both}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {both}")
        # The restore of an archive moves the entries' sequence past the ids it put back.
        cursor.execute(f"GRANT UPDATE ON ALL SEQUENCES IN SCHEMA public TO {qn(roles['platform'])}")
        cursor.execute(
            "ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {both}"
        )
        cursor.execute(
            "ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA public "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {both}"
        )
        cursor.execute(
            "ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA public "
            f"GRANT UPDATE ON SEQUENCES TO {qn(roles['platform'])}"
        )
        existing = _existing_tables(cursor)
        for table in APPEND_ONLY_TABLES:
            if table in existing:
                cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {qn(table)} FROM {both}")
        for table in READ_ONLY_TABLES:
            if table in existing:
                cursor.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {qn(table)} FROM {both}")


def _existing_tables(cursor) -> set[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {row[0] for row in cursor.fetchall()}


def policies_sql(table: str) -> list[str]:
    """The statements giving ``table`` its row-level security (idempotent: the policies are replaced)."""
    qn = _quote
    statements = [
        f"ALTER TABLE {qn(table)} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {qn(table)} FORCE ROW LEVEL SECURITY",
    ]
    policies = SPECIAL_POLICIES.get(table) or [(TENANT_POLICY, "ALL", TENANT_CONDITION, TENANT_CONDITION)]
    for name, command, using, check in policies:
        statement = f"CREATE POLICY {qn(name)} ON {qn(table)} FOR {command}"
        if using is not None:
            statement += f" USING ({using})"
        if check is not None:
            statement += f" WITH CHECK ({check})"
        statements += [f"DROP POLICY IF EXISTS {qn(name)} ON {qn(table)}", statement]
    return statements


def tenant_tables_secure(connection: BaseDatabaseWrapper) -> list[str]:
    """Row-level security on every tenant table; returns the tables."""
    tables = tenant_tables(connection)
    with connection.cursor() as cursor:
        for table in tables:
            for statement in policies_sql(table):
                cursor.execute(statement)
    return tables


def database_secure(connection: BaseDatabaseWrapper) -> list[str]:
    """Roles and privileges, then row-level security: what every ``migrate`` ends with (taqsit/apps.py)."""
    roles_install(connection)
    return tenant_tables_secure(connection)


def database_secure_operation(apps, schema_editor) -> None:
    """For ``migrations.RunPython``: a migration adding a tenant table may secure it at once."""
    database_secure(schema_editor.connection)
