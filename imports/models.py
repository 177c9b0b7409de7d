"""An import of a spreadsheet: the job (the file kept privately, its progress and outcome) and its rows as the
preview shows them (what each will create, or why not)."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from taqsit.models import Language
from taqsit.private_files import PrivateFileStorage
from taqsit.tenancy import TenantModel, TenantQuerySet

_storage = PrivateFileStorage()


def import_storage() -> PrivateFileStorage:
    """The uploaded files' storage (a callable, so the migration names this function, not a path)."""
    return _storage


def import_upload_to(instance: ImportJob, filename: str) -> str:
    """``imports/<merchant id>/<uuid4>.<csv|xlsx>``: nothing guessable, nothing of the file's own name."""
    suffix = PurePath(filename).suffix.lower()
    return f"imports/{instance.merchant_id}/{uuid.uuid4()}{suffix}"


class ImportJob(TenantModel):
    """One uploaded file of one kind, checked by the worker (the preview), then imported all at once on confirm."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        PRODUCTS = "products", _("Products")
        PLANS = "plans", _("Plans")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be checked")
        CHECKING = "checking", _("Checking")
        READY = "ready", _("Ready to import")
        INVALID = "invalid", _("Has errors")
        IMPORTING = "importing", _("Importing")
        COMPLETED = "completed", _("Imported")
        FAILED = "failed", _("Not imported")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    # Still working: the page polls while the job is in one of these.
    WORKING = (Status.QUEUED, Status.CHECKING, Status.IMPORTING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    file = models.FileField(_("file"), upload_to=import_upload_to, storage=import_storage, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # The language the file's amounts and dates are read in (decimal comma in Spanish and Arabic).
    language = models.CharField(_("language of the file"), max_length=5, choices=Language.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Progress of the step running (the check, then the import): rows done of the file's rows.
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    to_create = models.PositiveIntegerField(_("rows to create"), default=0)
    to_skip = models.PositiveIntegerField(_("rows already present"), default=0)
    changed = models.PositiveIntegerField(_("rows present with other values"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    created_count = models.PositiveIntegerField(_("rows created"), default=0)
    failure = models.TextField(_("why it was not imported"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(processed__lte=models.F("total")), name="import_processed_lte_total"),
            models.CheckConstraint(condition=Q(size__gt=0), name="import_size_gt_0"),
        ]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="import_merchant_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"

    @property
    def is_working(self) -> bool:
        return self.status in self.WORKING

    @property
    def percent(self) -> int:
        """How far the step running has gone, 0 to 100 (whole percent, rounded down)."""
        return self.processed * 100 // self.total if self.total else 0


class ImportRow(TenantModel):
    """One row of the file as the preview shows it: what it will create, that it is already present (skipped),
    present with other values (reported, not overwritten), or its errors, each naming its column."""

    class Outcome(models.TextChoices):
        CREATE = "create", _("Will be created")
        SKIP = "skip", _("Already present, skipped")
        CHANGED = "changed", _("Present with other values, skipped")
        ERROR = "error", _("Error")
        CREATED = "created", _("Created")

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    # The row's number in the file, the header being row 1 (a missing column is reported on row 1).
    number = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    key = models.CharField(_("key"), max_length=100, blank=True)
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    # [{"column": the header as in the file, "message": ...}]: errors, or the columns that differ.
    problems = models.JSONField(_("problems"), default=list, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        ordering = ["job", "number", "id"]
        indexes = [models.Index(fields=["job", "outcome", "number"], name="import_row_job_outcome")]

    def __str__(self) -> str:
        return f"{self.number}: {self.outcome}"
