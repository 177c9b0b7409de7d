"""`manage.py audit_restore FILE`: load an audit archive back into the trail for an investigation (its checksum
checked first; restoring twice adds nothing). See auditlog/archive.py."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditlog.archive import ArchiveError, audit_restore
from taqsit.tenancy import platform_scope


class Command(BaseCommand):
    help = "Load an audit archive (<AUDIT_ARCHIVE_DIR>/<merchant>/<YYYY-MM>.jsonl.gz) back into the audit trail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The .jsonl.gz archive; its .sha256 must be beside it.")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No archive at {path}.")
        try:
            with platform_scope():  # an archive of any merchant
                result = audit_restore(path=path)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{path}: {result.restored} of {result.entries} entries restored"
            f" ({result.entries - result.restored} were already there)."
        )
