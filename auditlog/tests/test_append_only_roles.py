"""The trail is append-only for the application's own role, whatever a session sets: it has INSERT and SELECT on
auditlog_entry and nothing else (taqsit/rls.py). Entries leave only through the owner's function
``audit_trail_archived_delete``, which deletes only entries matching a verified archive's digest; the trigger
still guards every other role, the owner and superusers included."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from auditlog.archive import LINE_SQL
from auditlog.models import Entry
from customers.services import customer_update

pytestmark = pytest.mark.django_db

DENIED = "permission denied for table auditlog_entry"


@pytest.fixture
def entry(owner, customer) -> Entry:
    customer_update(actor=owner, customer=customer, notes="Pays on Fridays.")
    return Entry.objects.get(object_type="customers.customer", operation="update")


def _refused(sql: str, params=(), *, match: str) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_runtime_role_may_add_and_read_entries_only(entry):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'auditlog_entry' AND grantee = current_user ORDER BY 1"
        )
        assert [row[0] for row in cursor.fetchall()] == ["INSERT", "SELECT"]


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        ("UPDATE auditlog_entry SET action = 'x' WHERE id = %s", DENIED),
        ("DELETE FROM auditlog_entry WHERE id = %s", DENIED),
        ("TRUNCATE auditlog_entry", DENIED),
        ("ALTER TABLE auditlog_entry DISABLE TRIGGER ALL", "must be owner of table auditlog_entry"),
        ("DROP TABLE auditlog_entry", "must be owner of table auditlog_entry"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
    ],
)
def test_no_statement_of_the_runtime_role_changes_or_removes_an_entry(entry, sql, match):
    _refused(sql, [entry.pk] if "%s" in sql else (), match=match)

    entry.refresh_from_db()
    assert (entry.action, entry.after) == ("customer.update", {"notes": "Pays on Fridays."})


def test_the_trigger_switch_gives_the_runtime_role_nothing(entry):
    """pgtrigger.ignore is a setting any session may set; the privilege is not there to switch on."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(tgname || ',auditlog_entry:' || tgname, ',') FROM pg_trigger "
            "WHERE tgrelid = 'auditlog_entry'::regclass AND tgname LIKE 'pgtrigger_append_only_%%'"
        )
        ignore = "{" + cursor.fetchone()[0] + "}"
    for sql in ("DELETE FROM auditlog_entry WHERE id = %s", "UPDATE auditlog_entry SET action = 'x' WHERE id = %s"):
        with pytest.raises(DatabaseError, match=DENIED), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [ignore])
            cursor.execute(sql, [entry.pk])

    assert Entry.objects.filter(pk=entry.pk, action="customer.update").exists()


def _digest(ids: list[int]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {LINE_SQL} FROM auditlog_entry WHERE id = ANY(%s) ORDER BY id", [ids])  # noqa: S608
        return hashlib.sha256(b"".join(row[0].encode() + b"\n" for row in cursor.fetchall())).hexdigest()


def _archived_delete(merchant_id, ids: list[int], digest: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT audit_trail_archived_delete(%s::uuid, '2000-01-01', '2100-01-01', %s::bigint[], %s)",
            [str(merchant_id) if merchant_id else None, ids, digest],
        )
        return cursor.fetchone()[0]


def test_the_archival_function_deletes_only_entries_matching_the_archive(entry, merchant, other_merchant):
    ids = sorted(Entry.objects.filter(merchant=merchant).values_list("pk", flat=True))
    digest = _digest(ids)
    refusals = {
        "another digest": (merchant.pk, ids, "0" * 64),
        "another merchant": (other_merchant.pk, ids, digest),
        "an id twice": (merchant.pk, [*ids, ids[0]], digest),
    }
    for name, arguments in refusals.items():
        with pytest.raises(DatabaseError, match="nothing deleted"), transaction.atomic():
            _archived_delete(*arguments)
        assert Entry.objects.filter(pk__in=ids).count() == len(ids), name

    assert _archived_delete(merchant.pk, ids, digest) == len(ids)
    assert not Entry.objects.filter(pk__in=ids).exists()


def test_the_trigger_still_refuses_the_owner(database_owner_dsn):
    """Roles with the privilege (the owner, a superuser in psql) meet the trigger instead."""
    with psycopg.connect(database_owner_dsn) as owner:
        owner.execute(
            "INSERT INTO auditlog_entry (created_at, object_type, object_id, operation, role, source, action, "
            "request_id) VALUES (now(), 'x.y', '1', 'insert', '', '', '', '')"
        )
        with pytest.raises(psycopg.DatabaseError, match="pgtrigger: Cannot update or delete rows"):
            owner.execute("UPDATE auditlog_entry SET action = 'x'")
        owner.rollback()
