"""`manage.py audit_archive`: archive the audit entries older than AUDIT_RETENTION_DAYS now (the daily jobs do it
for each merchant); `--merchant` for one merchant (name or id). See auditlog/archive.py."""

from __future__ import annotations

import contextlib
import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from auditlog.archive import ArchiveError, audit_archive
from taqsit.models import Merchant
from taqsit.tenancy import platform_scope


def _merchant_find(value: str) -> Merchant:
    query = Q(name__iexact=value)
    with contextlib.suppress(ValueError):  # not an id: a name
        query |= Q(pk=uuid.UUID(value))
    matches = list(Merchant.objects.filter(query)[:2])
    if len(matches) != 1:
        raise CommandError(f"No single merchant is named or has the id {value!r}.")
    return matches[0]


class Command(BaseCommand):
    help = (
        "Write the audit entries older than AUDIT_RETENTION_DAYS (whole months) to gzipped JSON-lines files under "
        "AUDIT_ARCHIVE_DIR, one per merchant and month with a .sha256 beside it, verify them, then delete them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", help="A merchant's name or id. Default: every merchant and the platform.")

    def handle(self, *args, **options) -> None:
        merchant = _merchant_find(options["merchant"]) if options["merchant"] else None
        try:
            with platform_scope():  # every merchant's entries, and the platform's own
                months = audit_archive(merchant=merchant)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        for month in months:
            self.stdout.write(
                f"{month.path}: {month.archived} entries archived ({month.entries} in the file), sha256 {month.sha256}"
            )
        if not months:
            self.stdout.write("Nothing to archive.")
