"""Archival of the audit trail: old entries to compressed files, verified, then deleted; and back for a look.

Entries older than ``AUDIT_RETENTION_DAYS`` go, in whole calendar months (UTC), to one gzipped JSON-lines file per
merchant and month: ``<AUDIT_ARCHIVE_DIR>/<merchant id or "platform">/<YYYY-MM>.jsonl.gz``, one entry per line as
PostgreSQL writes the row in JSON (so a restore puts back exactly what was there), in id order, with
``<file>.sha256`` beside it (``sha256sum -c`` checks it). A month archived again (entries restored and their hold
over, or a run stopped between writing and deleting) is merged into its file, never duplicated.

The file is written to a temporary name, read back (checksum, every line parsed, exactly the ids to delete with
exactly their text), renamed into place, and only then are the entries deleted, in the same transaction and
recorded by an entry of their own: through the owner's function ``audit_trail_archived_delete``
(auditlog/migrations/0005_archived_delete_function.py), the one way out of the trail, which deletes only entries
whose text matches the archive's digest. ``audit_restore`` loads a file back, idempotently, and records that too;
restored entries are held ``RESTORE_HOLD`` before they can be archived again.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncMonth
from django.utils import timezone

from auditlog.capture import ENTRY_TABLE, record_sql
from auditlog.models import Entry
from taqsit.models import Merchant

PLATFORM = "platform"  # the folder of entries that belong to no merchant (platform admins' own accounts)
RESTORE_HOLD = timedelta(days=30)
READ_CHUNK = 2000
ADVISORY_LOCK_CLASS = 50_2027  # two-part advisory lock: the archival, then a hash of the merchant and month


class ArchiveError(Exception):
    """An archive that cannot be trusted (checksum or content wrong): nothing is deleted or restored."""


@dataclass(frozen=True)
class ArchivedMonth:
    merchant_id: uuid.UUID | None
    month: date
    path: Path
    archived: int  # entries deleted from the database this time
    entries: int  # entries in the file
    sha256: str


@dataclass(frozen=True)
class Restored:
    path: Path
    entries: int  # lines in the file
    restored: int  # entries inserted (the others were there already)


def archive_cutoff(now: datetime | None = None, *, retention_days: int | None = None) -> datetime:
    """The first instant (UTC) of the month holding ``now`` minus the retention: entries before it are archived."""
    days = settings.AUDIT_RETENTION_DAYS if retention_days is None else retention_days
    oldest_kept = (now or timezone.now()).astimezone(UTC) - timedelta(days=days)
    return datetime(oldest_kept.year, oldest_kept.month, 1, tzinfo=UTC)


def archive_path(merchant_id: uuid.UUID | None, month: date, *, directory: Path | None = None) -> Path:
    base = Path(directory or settings.AUDIT_ARCHIVE_DIR)
    return base / (str(merchant_id) if merchant_id else PLATFORM) / f"{month:%Y-%m}.jsonl.gz"


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _month_end(month: date) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_verify(path: Path) -> str:
    """The file's sha256 when it matches the ``.sha256`` beside it; ArchiveError otherwise."""
    try:
        expected = checksum_path(path).read_text().split()[0]
    except (OSError, IndexError) as exc:
        raise ArchiveError(f"{path}: no checksum beside it ({checksum_path(path).name}).") from exc
    actual = _sha256(path)
    if actual != expected:
        raise ArchiveError(f"{path}: its sha256 is {actual}, its checksum file says {expected}.")
    return actual


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(id, line) of an archive, in the file's order; a line that is no entry is an ArchiveError."""
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            text = line.rstrip("\n")
            try:
                entry_id = json.loads(text)["id"]
            except (ValueError, KeyError, TypeError) as exc:
                raise ArchiveError(f"{path}, line {number}: not an audit entry.") from exc
            if not isinstance(entry_id, int):
                raise ArchiveError(f"{path}, line {number}: not an audit entry.")
            yield entry_id, text


def _merged(existing: Iterable[tuple[int, str]], new: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Both id-ordered streams as one, each id once (the archived line kept: it is the original)."""
    last = None
    for entry_id, text in heapq.merge(existing, new, key=lambda pair: pair[0]):
        if entry_id != last:
            yield entry_id, text
        last = entry_id


# An entry as one line of JSON, as PostgreSQL writes it (jsonb: its text is canonical, numbers keep their scale),
# with ``restored_at`` empty: a restored entry reads exactly as its archived line.
LINE_SQL = f"""(to_jsonb({ENTRY_TABLE}) || '{{"restored_at": null}}'::jsonb)::text"""


def _month_rows(queryset) -> Iterator[tuple[int, str]]:
    """(id, line) of the entries, in id order, from a server-side cursor (no month held in memory)."""
    rows = queryset.order_by("id").annotate(line=RawSQL(LINE_SQL, ()))  # noqa: S611 - a constant
    yield from rows.values_list("id", "line").iterator(chunk_size=READ_CHUNK)


def _record(*, merchant_id, object_id: str, operation: str, details: dict) -> None:
    """An entry of the trail's own history, with the context of whoever archives or restores."""
    sql, _columns = record_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [str(merchant_id) if merchant_id else None, "auditlog.archive", object_id, operation, json.dumps(details)],
        )


def _write(path: Path, lines: Iterable[tuple[int, str]]) -> tuple[Path, int]:
    """Write ``lines`` gzipped to a temporary file beside ``path``; returns it and the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    with os.fdopen(handle, "wb") as raw:
        # mtime=0: the same entries make the same bytes, so the same checksum.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream:
            for _entry_id, text in lines:
                stream.write(text.encode("utf-8") + b"\n")
                count += 1
        raw.flush()
        os.fsync(raw.fileno())
    return Path(name), count


def _verify(path: Path, *, ids: list[int], digest: str, count: int) -> None:
    """Read the written file back: every line an entry, ``count`` of them in id order, and the lines of ``ids``
    exactly the text read from the database (``digest``, a sha256 over them in order)."""
    wanted = iter(ids)
    next_id = next(wanted, None)
    check = hashlib.sha256()
    lines = 0
    previous = None
    for entry_id, text in _lines(path):
        if previous is not None and entry_id <= previous:
            raise ArchiveError(f"{path}: entry {entry_id} is out of order.")
        previous = entry_id
        lines += 1
        if entry_id == next_id:
            check.update(text.encode("utf-8") + b"\n")
            next_id = next(wanted, None)
    if next_id is not None:
        raise ArchiveError(f"{path}: entry {next_id} is missing from the archive just written.")
    if lines != count or check.hexdigest() != digest:
        raise ArchiveError(f"{path}: the archive just written does not read back as written.")


def _month_archive(merchant_id, month: date, cutoff: datetime, directory: Path | None) -> ArchivedMonth | None:
    path = archive_path(merchant_id, month, directory=directory)
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Two archivals of one merchant's month (the daily job and the command) take turns.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_CLASS, f"{merchant_id}:{month}"]
            )
        queryset = Entry.objects.filter(
            Q(merchant_id=merchant_id) if merchant_id else Q(merchant_id__isnull=True),
            created_at__gte=start,
            created_at__lt=min(_month_end(month), cutoff),
        ).exclude(restored_at__gt=timezone.now() - RESTORE_HOLD)
        ids: list[int] = []
        digest = hashlib.sha256()

        def new_lines() -> Iterator[tuple[int, str]]:
            for entry_id, text in _month_rows(queryset):
                ids.append(entry_id)
                digest.update(text.encode("utf-8") + b"\n")
                yield entry_id, text

        existing = _lines(path) if path.exists() else iter(())
        if path.exists():
            checksum_verify(path)  # never merge into (and so bless) an archive that was altered
        temporary, count = _write(path, _merged(existing, new_lines()))
        try:
            if not ids:
                return None
            _verify(temporary, ids=ids, digest=digest.hexdigest(), count=count)
            sha256 = _sha256(temporary)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        # The checksum replaced whole too. (Stopped between the two renames, the next run refuses the file: its
        # entries are all still in the database; check it and write its .sha256 with sha256sum.)
        checksum_temporary = checksum_path(temporary)
        checksum_temporary.write_text(f"{sha256}  {path.name}\n")
        os.replace(checksum_temporary, checksum_path(path))
        # The entries leave through the owner's function, which deletes exactly the entries whose text hashes to
        # what was written and read back (auditlog/migrations/0003): the runtime role may not DELETE at all.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT audit_trail_archived_delete(%s::uuid, %s, %s, %s::bigint[], %s)",
                [
                    str(merchant_id) if merchant_id else None,
                    start,
                    min(_month_end(month), cutoff),
                    ids,
                    digest.hexdigest(),
                ],
            )
        base = Path(directory or settings.AUDIT_ARCHIVE_DIR)
        _record(
            merchant_id=merchant_id,
            object_id=str(path.relative_to(base)),
            operation=Entry.Operation.ARCHIVE,
            details={
                "file": str(path.relative_to(base)),
                "sha256": sha256,
                "archived": len(ids),
                "entries": count,
                "first_id": ids[0],
                "last_id": ids[-1],
            },
        )
    return ArchivedMonth(
        merchant_id=merchant_id, month=month, path=path, archived=len(ids), entries=count, sha256=sha256
    )


def audit_archive(
    *,
    merchant: Merchant | None = None,
    now: datetime | None = None,
    retention_days: int | None = None,
    directory: Path | None = None,
) -> list[ArchivedMonth]:
    """Archive, then delete, every entry older than the retention (whole months): ``merchant``'s, or every
    merchant's and the platform's when None. Each month is verified and deleted in its own transaction."""
    cutoff = archive_cutoff(now, retention_days=retention_days)
    old = Entry.objects.filter(created_at__lt=cutoff)
    if merchant is not None:
        old = old.filter(merchant=merchant)
    months = (
        old.annotate(month=TruncMonth("created_at", tzinfo=UTC))
        .values_list("merchant_id", "month")
        .distinct()
        .order_by("merchant_id", "month")
    )
    archived = []
    for merchant_id, month in list(months):
        result = _month_archive(merchant_id, month.date(), cutoff, directory)
        if result is not None:
            archived.append(result)
    return archived


def audit_archive_daily(*, merchant: Merchant, now: datetime) -> int:
    """The daily jobs' step (dailyrun/jobs.py): archive the merchant's old entries; the number archived."""
    return sum(month.archived for month in audit_archive(merchant=merchant, now=now))


def audit_restore(*, path: Path, chunk_size: int = 1000) -> Restored:
    """Load an archive back (its checksum verified first). Idempotent: an entry already there is left as it is.

    Restored entries keep their ids and everything else, and get ``restored_at``; the archival leaves them for
    ``RESTORE_HOLD``, then merges them back into their file (where they are already) and deletes them again.
    """
    path = Path(path)
    checksum_verify(path)
    columns = [field.column for field in Entry._meta.concrete_fields if field.column != "restored_at"]
    names = ", ".join(columns)
    sql = (
        f"INSERT INTO {ENTRY_TABLE} ({names}, restored_at) "  # noqa: S608 - the table's own column names
        f"SELECT {names}, now() FROM json_populate_recordset(NULL::{ENTRY_TABLE}, %s::json) "
        "ON CONFLICT (id) DO NOTHING"
    )
    entries = restored = 0
    merchant_ids: set[str | None] = set()
    with transaction.atomic():
        batch: list[str] = []

        def flush() -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, ["[" + ",".join(batch) + "]"])
                return cursor.rowcount

        for _entry_id, text in _lines(path):
            entries += 1
            merchant_ids.add(json.loads(text).get("merchant_id"))
            batch.append(text)
            if len(batch) >= chunk_size:
                restored += flush()
                batch = []
        if batch:
            restored += flush()
        with connection.cursor() as cursor:
            # An archive restored into a database whose own entries never got that far (a copy for an
            # investigation): the next entry's id must come after the restored ones.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), MAX(id)) FROM auditlog_entry "
                "HAVING MAX(id) > (SELECT COALESCE(MAX(last_value), 0) FROM pg_sequences "
                "WHERE format('%%I.%%I', schemaname, sequencename) = pg_get_serial_sequence(%s, 'id'))",
                [ENTRY_TABLE, ENTRY_TABLE],
            )
        merchant_id = next(iter(merchant_ids)) if len(merchant_ids) == 1 else None
        _record(
            merchant_id=merchant_id,
            object_id=path.name,
            operation=Entry.Operation.RESTORE,
            details={"file": str(path), "entries": entries, "restored": restored},
        )
    return Restored(path=path, entries=entries, restored=restored)
