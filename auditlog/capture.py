"""What the database captures: the domain tables whose every insert, update and delete becomes an audit entry.

One PL/pgSQL function per table, fired by three statement-level triggers (AFTER INSERT, UPDATE, DELETE) with
their transition tables: a daily job's ``UPDATE ... WHERE`` over 500 installments writes its 500 entries in one
``INSERT ... SELECT``, not 500 function calls. An update records only the columns that changed, before and
after; an update that changed nothing (or only an ignored column) records nothing. The context (who, from where,
which business action) is read from the transaction's ``pghistory.context_metadata`` setting (taqsit/audit.py).

The SQL is generated from ``TRACKED`` and frozen in a migration (0002_capture): to change what is captured,
edit ``TRACKED``, add a migration with ``migrations.RunSQL(<install_sql()>, <the previous SQL>)`` pasted in,
and ``auditlog/tests/test_capture.py`` checks that the database runs exactly what this module generates::

    python -c "import django; django.setup(); from auditlog.capture import install_sql; print(install_sql())"

Why not django-pghistory's own event models: they copy each tracked model into its own event table and work
out a change by comparing an event with the previous one of the same object. The trail here is read across
every model (a merchant's page of the latest entries, filtered by actor or action), archived by merchant and
month, and must show what changed even when the previous entry is archived; one table with the change itself
serves all three. pghistory carries the context to the triggers; pgtrigger protects the table (models.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

ENTRY_TABLE = "auditlog_entry"
# Never worth an entry: moves on every save.
IGNORED_EVERYWHERE = ("updated_at",)
MASK = "********"

# SQL expressions of the captured row ``r`` (jsonb, the whole row) giving the entry's merchant, plan and customer.
MERCHANT_ID = "(r ->> 'merchant_id')::uuid"
PLAN_ID = "(r ->> 'plan_id')::uuid"
CUSTOMER_ID = "(r ->> 'customer_id')::uuid"
OWN_ID = "(r ->> 'id')::uuid"
NONE = "NULL::uuid"


def looked_up(column: str, table: str, key: str) -> str:
    """An entry's id read from another row, ``table.column`` where its id is the captured row's ``key``.

    The key is taken in a sub-select of its own: a Param to the lookup. Written in the lookup's WHERE as
    ``(r ->> key)::uuid``, a function of the captured row, PostgreSQL cannot use it as an index condition under
    row-level security (it is not leakproof): the lookup then reads every row of the merchant's table and filters
    them (1.6 s for each allocation of a payment at a merchant with 80,000 payments)."""
    return f"(SELECT t.{column} FROM {table} t WHERE t.id = (SELECT (r ->> '{key}')::uuid))"  # noqa: S608 - constants


@dataclass(frozen=True)
class Tracked:
    model: str
    merchant: str = MERCHANT_ID
    plan: str = NONE
    customer: str = NONE
    ignore: tuple[str, ...] = ()  # columns left out (noise, or too big to copy on every write)
    mask: tuple[str, ...] = ()  # columns whose change is recorded, not their value

    @property
    def table(self) -> str:
        return apps.get_model(self.model)._meta.db_table

    @property
    def label(self) -> str:
        return apps.get_model(self.model)._meta.label_lower


TRACKED: tuple[Tracked, ...] = (
    # The merchant's plan counter moves with every plan: the plan's own entry says it.
    Tracked("taqsit.Merchant", merchant=OWN_ID, ignore=("last_plan_number",)),
    # Every log-in sets last_login; the password hash is a secret: its change is recorded, not its value.
    Tracked("taqsit.User", ignore=("last_login",), mask=("password",)),
    Tracked("customers.Customer", customer=OWN_ID),
    # A customer's portal links: issued, used, revoked. The token's hash is not worth copying.
    Tracked("customers.PortalLink", customer=CUSTOMER_ID, mask=("token_hash",)),
    Tracked("installments.Product"),
    Tracked("installments.InstallmentPlan", plan=OWN_ID, customer=CUSTOMER_ID),
    Tracked(
        "installments.PlanItem",
        merchant=looked_up("merchant_id", "installments_installmentplan", "plan_id"),
        plan=PLAN_ID,
    ),
    # Who answers for a plan (issue 15): added, and removed from an application.
    Tracked("installments.Guarantor", plan=PLAN_ID),
    Tracked("installments.Installment", plan=PLAN_ID),
    Tracked("installments.LateFee", plan=PLAN_ID),
    Tracked("payments.Payment", plan=PLAN_ID),
    Tracked(
        "payments.PaymentAllocation",
        plan=looked_up("plan_id", "payments_payment", "payment_id"),
    ),
    # The message text is rebuilt from its template; copying it on every status change is no use.
    Tracked("notifications.Notification", customer=CUSTOMER_ID, ignore=("body",)),
    # The collector's worklist (issue 17): who follows a plan up, each contact, each promise and its outcome.
    Tracked("collectors.Assignment", plan=PLAN_ID),
    Tracked("collectors.Contact", plan=PLAN_ID),
    Tracked("collectors.Promise", plan=PLAN_ID),
    # A spreadsheet import: uploaded, checked, confirmed (who decided to bring the rows in), imported or not. Its
    # progress moves every few hundred rows: not worth an entry.
    Tracked("imports.ImportJob", ignore=("processed", "total")),
)

# The entry's columns filled from the context: ``ctx`` (jsonb) and ``ctx_id`` (uuid). ``left`` and NULLIF keep
# a malformed value from failing the write it describes.
CONTEXT_COLUMNS = {
    "actor_id": "NULLIF(ctx ->> 'actor', '')::uuid",
    "actor_customer_id": "NULLIF(ctx ->> 'actor_customer', '')::uuid",
    "role": "left(COALESCE(ctx ->> 'role', ''), 20)",
    "source": "left(COALESCE(ctx ->> 'source', ''), 10)",
    "action": "left(COALESCE(ctx ->> 'action', ''), 100)",
    "request_id": "left(COALESCE(ctx ->> 'request_id', ''), 64)",
    "ip": "NULLIF(ctx ->> 'ip', '')::inet",
    "context": "ctx",
    "context_id": "ctx_id",
}
CONTEXT_GET = (
    "NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb",
    "NULLIF(current_setting('pghistory.context_id', true), '')::uuid",
)

HELPERS_SQL = f"""
CREATE OR REPLACE FUNCTION auditlog_mask(data jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT data || COALESCE(
        (SELECT jsonb_object_agg(k, to_jsonb('{MASK}'::text)) FROM unnest(keys) AS k WHERE data ? k), '{{}}'::jsonb
    )
$$;
"""  # noqa: S608 - DDL from this module's constants


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{value}'" for value in values) + "]::text[]"


def function_name(tracked: Tracked) -> str:
    return f"auditlog_capture_{tracked.table}"


def _function_sql(tracked: Tracked) -> str:
    ignored = _array((*IGNORED_EVERYWHERE, *tracked.ignore))
    before, after = "change.before", "change.after"
    if tracked.mask:
        before = f"auditlog_mask(change.before, {_array(tracked.mask)})"
        after = f"auditlog_mask(change.after, {_array(tracked.mask)})"
    columns = {
        "created_at": "now()",
        "merchant_id": tracked.merchant,
        "object_type": f"'{tracked.label}'",
        "object_id": "r ->> 'id'",
        "operation": "lower(TG_OP)",
        "before": before,
        "after": after,
        **CONTEXT_COLUMNS,
        "plan_id": tracked.plan,
        "customer_id": tracked.customer,
    }
    insert = (
        f"INSERT INTO {ENTRY_TABLE} ({', '.join(columns)})\n        SELECT {', '.join(columns.values())}\n        FROM"
    )
    return f"""
CREATE OR REPLACE FUNCTION {function_name(tracked)}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := {CONTEXT_GET[0]};
    ctx_id uuid := {CONTEXT_GET[1]};
BEGIN
    IF TG_OP = 'INSERT' THEN
        {insert} (SELECT NULL::jsonb AS before, to_jsonb(n) - {ignored} AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        {insert} (SELECT to_jsonb(o) - {ignored} AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        {insert} (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - {ignored}) AS was
                    JOIN jsonb_each(to_jsonb(n) - {ignored}) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;
"""  # noqa: S608 - DDL from this module's constants and the models' table names


TRIGGERS = (
    ("auditlog_capture_insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("auditlog_capture_update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("auditlog_capture_delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
)


def _triggers_sql(tracked: Tracked) -> str:
    return "".join(
        f"CREATE TRIGGER {name} AFTER {operation} ON {tracked.table} {referencing}\n"
        f"    FOR EACH STATEMENT EXECUTE FUNCTION {function_name(tracked)}();\n"
        for name, operation, referencing in TRIGGERS
    )


def install_sql() -> str:
    """The helpers, then for each tracked table its function and triggers."""
    return HELPERS_SQL + "".join(_function_sql(tracked) + _triggers_sql(tracked) for tracked in TRACKED)


def uninstall_sql() -> str:
    drops = "".join(
        f"DROP TRIGGER IF EXISTS {name} ON {tracked.table};\n" for tracked in TRACKED for name, _op, _ref in TRIGGERS
    )
    functions = "".join(f"DROP FUNCTION IF EXISTS {function_name(tracked)}();\n" for tracked in TRACKED)
    return drops + functions + "DROP FUNCTION IF EXISTS auditlog_mask(jsonb, text[]);\n"


def record_sql() -> tuple[str, list[str]]:
    """An entry the application writes itself (the archival and the restore: the trail's own history), with the
    context read as the triggers read it. Parameters, in order: merchant_id, object_type, object_id, operation,
    after (JSON text)."""
    columns = ["created_at", "merchant_id", "object_type", "object_id", "operation", "after", *CONTEXT_COLUMNS]
    values = ["now()", "%s::uuid", "%s", "%s", "%s", "%s::jsonb", *CONTEXT_COLUMNS.values()]
    sql = (
        f"WITH context AS (SELECT {CONTEXT_GET[0]} AS ctx, {CONTEXT_GET[1]} AS ctx_id) "  # noqa: S608 - constants
        f"INSERT INTO {ENTRY_TABLE} ({', '.join(columns)}) SELECT {', '.join(values)} FROM context"
    )
    return sql, columns
