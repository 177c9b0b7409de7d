"""Archival: old entries to one gzipped JSON-lines file per merchant and month with its checksum, verified, then
deleted; restored exactly and idempotently; nothing deleted when the file does not read back right."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Max

from auditlog import archive
from auditlog.archive import ArchiveError, archive_cutoff, audit_archive, audit_archive_daily, audit_restore
from auditlog.models import Entry
from customers.services import customer_create, customer_update
from installments.tests.factories import plan_make
from payments.services import payment_post
from taqsit import audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive_dir(settings, tmp_path):
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"
    return settings.AUDIT_ARCHIVE_DIR


@pytest.fixture
def history(owner, other_owner, customer, superuser):
    """Entries of two merchants and of the platform (the platform admin's own account), all of this month."""
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"), payment_date=plan.start_date)
    customer_update(actor=owner, customer=customer, notes="Pays on Fridays.")
    customer_create(actor=other_owner, name="Omar Saleh", phone="+14155550199")
    return plan


def _later(days: int = 400) -> datetime:
    """A ``now`` far enough ahead that every entry written so far is past the retention (365 days)."""
    return Entry.objects.aggregate(newest=Max("created_at"))["newest"] + timedelta(days=days)


def _rows(queryset) -> dict[int, dict]:
    return {row["id"]: row for row in queryset.order_by("id").values()}


def _without_restored_at(rows: dict[int, dict]) -> dict[int, dict]:
    return {pk: {key: value for key, value in row.items() if key != "restored_at"} for pk, row in rows.items()}


def test_the_cutoff_is_the_start_of_the_month_past_the_retention():
    now = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)
    assert archive_cutoff(now, retention_days=365) == datetime(2025, 3, 1, tzinfo=UTC)
    assert archive_cutoff(now, retention_days=14) == datetime(2026, 3, 1, tzinfo=UTC)
    assert archive_cutoff(now, retention_days=15) == datetime(2026, 2, 1, tzinfo=UTC)


def test_nothing_younger_than_the_retention_is_archived(history, archive_dir):
    count = Entry.objects.count()
    assert audit_archive(now=_later(days=1)) == []
    assert Entry.objects.count() == count
    assert not archive_dir.exists()


def test_archive_delete_and_restore_round_trip(history, owner, other_owner, merchant, other_merchant, archive_dir):
    originals = _rows(Entry.objects.all())
    month = next(iter(originals.values()))["created_at"].astimezone(UTC).date().replace(day=1)

    archived = audit_archive(now=_later())

    by_owner = {
        merchant.pk: sorted(pk for pk, row in originals.items() if row["merchant_id"] == merchant.pk),
        other_merchant.pk: sorted(pk for pk, row in originals.items() if row["merchant_id"] == other_merchant.pk),
        None: sorted(pk for pk, row in originals.items() if row["merchant_id"] is None),
    }
    assert all(by_owner.values())  # each has entries: two merchants' and the platform admin's account
    assert [(m.merchant_id, m.month, m.archived, m.entries) for m in archived] == sorted(
        [(owner_id, month, len(ids), len(ids)) for owner_id, ids in by_owner.items()],
        key=lambda row: (row[0] is None, str(row[0])),
    )
    for result in archived:
        folder = str(result.merchant_id) if result.merchant_id else "platform"
        assert result.path == archive_dir / folder / f"{month:%Y-%m}.jsonl.gz"
        checksum = result.path.with_name(result.path.name + ".sha256")
        digest = hashlib.sha256(result.path.read_bytes()).hexdigest()
        assert checksum.read_text() == f"{digest}  {result.path.name}\n" == f"{result.sha256}  {result.path.name}\n"
        # The checksum file is what sha256sum writes and checks.
        check = subprocess.run(  # noqa: S603 - a fixed command on our own file
            ["/usr/bin/sha256sum", "-c", checksum.name], cwd=checksum.parent, capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
        with gzip.open(result.path, "rt") as stream:
            lines = [json.loads(line) for line in stream]
        assert [line["id"] for line in lines] == by_owner[result.merchant_id]

    # Deleted, and the archival recorded itself, once per file, with the file's checksum.
    assert not Entry.objects.filter(pk__in=originals).exists()
    records = list(Entry.objects.order_by("id"))
    assert [(r.operation, r.object_type, r.merchant_id) for r in records] == [
        ("archive", "auditlog.archive", m.merchant_id) for m in archived
    ]
    mine = next(m for m in archived if m.merchant_id == merchant.pk)
    assert next(r for r in records if r.merchant_id == merchant.pk).after == {
        "file": f"{merchant.pk}/{month:%Y-%m}.jsonl.gz",
        "sha256": mine.sha256,
        "archived": len(by_owner[merchant.pk]),
        "entries": len(by_owner[merchant.pk]),
        "first_id": by_owner[merchant.pk][0],
        "last_id": by_owner[merchant.pk][-1],
    }

    restored = [audit_restore(path=result.path) for result in archived]

    assert [(r.entries, r.restored) for r in restored] == [(m.entries, m.entries) for m in archived]
    back = _rows(Entry.objects.filter(pk__in=originals))
    assert _without_restored_at(back) == _without_restored_at(originals)
    assert all(row["restored_at"] is not None for row in back.values())
    # Money keeps its scale: 200.00 was stored as 200.000 and comes back as 200.000.
    payment = next(row for row in back.values() if row["object_type"] == "payments.payment" and row["action"])
    assert payment["after"]["amount"] == Decimal("200.000")

    # Restoring again adds nothing.
    count = Entry.objects.count()
    assert audit_restore(path=mine.path).restored == 0
    assert Entry.objects.count() == count + 1  # the second restore's own record
    assert Entry.objects.filter(operation="restore").count() == 4


def test_restored_entries_are_held_then_archived_again_into_the_same_file(history, merchant, archive_dir):
    [first] = audit_archive(merchant=merchant, now=_later())
    original_ids = [entry_id for entry_id, _line in archive._lines(first.path)]
    audit_restore(path=first.path)
    assert sorted(Entry.objects.filter(restored_at__isnull=False).values_list("id", flat=True)) == original_ids

    # Held for the investigation: only the archival's and the restore's own records go.
    [second] = audit_archive(merchant=merchant, now=_later())
    assert (second.path, second.archived, second.entries) == (first.path, 2, first.entries + 2)
    assert Entry.objects.filter(pk__in=original_ids).count() == len(original_ids)

    with time_machine.travel(datetime.now(tz=UTC) + archive.RESTORE_HOLD + timedelta(days=1)):
        [third] = audit_archive(merchant=merchant, now=_later())

    # Merged back into the same file, where they already were: no line twice. (With them goes the record of
    # the second archival.)
    assert (third.path, third.archived, third.entries) == (first.path, len(original_ids) + 1, first.entries + 3)
    lines = [entry_id for entry_id, _line in archive._lines(third.path)]
    assert lines == sorted(set(lines))
    assert set(original_ids) <= set(lines)
    assert not Entry.objects.filter(pk__in=original_ids).exists()


def test_the_daily_step_archives_one_merchants_entries(history, merchant, other_merchant, archive_dir):
    others = Entry.objects.exclude(merchant=merchant).count()
    mine = Entry.objects.filter(merchant=merchant).count()

    assert audit_archive_daily(merchant=merchant, now=_later()) == mine

    assert not Entry.objects.filter(merchant=merchant).exclude(operation="archive").exists()
    assert Entry.objects.exclude(merchant=merchant).count() == others
    assert [path.name for path in archive_dir.iterdir()] == [str(merchant.pk)]


def test_nothing_is_deleted_when_the_file_does_not_read_back_as_written(history, merchant, archive_dir, monkeypatch):
    count = Entry.objects.count()
    write = archive._write

    def lossy(path, lines):
        return write(path, (line for index, line in enumerate(lines) if index != 3))

    monkeypatch.setattr(archive, "_write", lossy)

    with pytest.raises(ArchiveError, match="is missing from the archive just written"):
        audit_archive(merchant=merchant, now=_later())

    assert Entry.objects.count() == count
    assert not any(archive_dir.rglob("*.jsonl.gz"))  # the temporary file is gone too


def test_an_altered_archive_is_neither_restored_nor_merged_into(history, owner, customer, merchant, archive_dir):
    [result] = audit_archive(merchant=merchant, now=_later())
    with gzip.open(result.path, "rt") as stream:
        lines = stream.read().replace("Pays on Fridays.", "Never paid.")
    result.path.write_bytes(gzip.compress(lines.encode()))
    count = Entry.objects.count()

    with pytest.raises(ArchiveError, match="its checksum file says"):
        audit_restore(path=result.path)
    assert Entry.objects.count() == count

    customer_update(actor=owner, customer=customer, notes="Moved.")
    with pytest.raises(ArchiveError, match="its checksum file says"):
        audit_archive(merchant=merchant, now=_later())
    assert Entry.objects.count() == count + 1


def test_the_commands(history, merchant, archive_dir, settings, capsys):
    settings.AUDIT_RETENTION_DAYS = 1
    month = f"{Entry.objects.first().created_at:%Y-%m}"
    with (
        audit.context(source="shell", command="audit_archive"),
        time_machine.travel(datetime.now(tz=UTC) + timedelta(days=70)),
    ):
        call_command("audit_archive", "--merchant", merchant.name)
    path = archive_dir / str(merchant.pk) / f"{month}.jsonl.gz"
    record = Entry.objects.get(operation="archive")
    assert (record.source, record.context["command"], record.merchant_id) == ("shell", "audit_archive", merchant.pk)
    entries = record.after["entries"]

    call_command("audit_restore", str(path))
    call_command("audit_restore", str(path))

    assert capsys.readouterr().out.splitlines() == [
        f"{path}: {entries} entries archived ({entries} in the file), sha256 {record.after['sha256']}",
        f"{path}: {entries} of {entries} entries restored (0 were already there).",
        f"{path}: 0 of {entries} entries restored ({entries} were already there).",
    ]
    with pytest.raises(CommandError, match="No archive at"):
        call_command("audit_restore", str(archive_dir / "nowhere.jsonl.gz"))
    with pytest.raises(CommandError, match="No single merchant"):
        call_command("audit_archive", "--merchant", "Nobody")
