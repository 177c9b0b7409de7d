"""An import's life: upload (the file kept privately) -> the worker checks every row (the preview, with progress)
-> confirm -> the worker imports every row to create in one transaction, or none -> the result.

Importing the same file twice adds nothing: each kind's natural key (a customer's national id, else phone; a
product's SKU; a plan's sale reference) finds the rows already present, which are skipped; a row present with
other values is reported, never overwritten.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from customers.models import Customer
from customers.services import customers_import
from imports.columns import header_map, help_names
from imports.models import ImportJob, ImportRow
from imports.readers import Sheet, csv_read, xlsx_read
from imports.rows import CHECKERS, RowResult
from installments.models import InstallmentPlan, Product
from installments.services import products_import
from payments.services import plans_import
from taqsit import audit
from taqsit.models import Language, Merchant, User
from taqsit.permissions import Action, permission_require

Status = ImportJob.Status
Outcome = ImportRow.Outcome
# How often the check records its progress on the job (a committed UPDATE the page's polling reads).
PROGRESS_EVERY = 500
# The signature of an XLSX file (a zip archive).
_ZIP_MAGIC = b"PK\x03\x04"


def import_job_create(*, actor: User, kind: str, upload: UploadedFile, language: str | None = None) -> ImportJob:
    """Keep an uploaded CSV or XLSX file (privately) as a new import of ``kind`` and queue its check. The file's
    amounts and dates are read in ``language`` (the uploader's, else the merchant's, by default)."""
    permission_require(actor, Action.DATA_IMPORT)
    merchant = actor.merchant
    errors: dict[str, list[str]] = {}
    if kind not in ImportJob.Kind.values:
        errors["kind"] = [
            _("%(value)s is not one of: %(choices)s.")
            % {"value": repr(kind), "choices": ", ".join(ImportJob.Kind.values)}
        ]
    language = language or actor.language or merchant.language
    if language not in Language.values:
        errors["language"] = [
            _("%(value)s is not one of: %(choices)s.")
            % {"value": repr(language), "choices": ", ".join(Language.values)}
        ]
    file_format = _format_of(upload, errors)
    if errors:
        raise ValidationError(errors)
    data = upload.read()
    upload.seek(0)
    job = ImportJob(
        merchant=merchant,
        kind=kind,
        file_format=file_format,
        original_name=PurePath(upload.name or "").name[:255],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        language=language,
        created_by=actor,
    )
    job.file.save(f"upload.{file_format}", upload, save=False)
    job.save(force_insert=True)
    _queue("import_check_task", job)
    return job


def _format_of(upload: UploadedFile | None, errors: dict) -> str:
    """``csv`` or ``xlsx`` from the file's name, confirmed by its content; size within ``IMPORT_MAX_BYTES``."""
    if upload is None:
        errors["file"] = [_("Choose a CSV or XLSX file.")]
        return ""
    suffix = PurePath(upload.name or "").suffix.lower().lstrip(".")
    if suffix not in ImportJob.Format.values:
        errors["file"] = [_("Choose a CSV or XLSX file (this one is %(name)s).") % {"name": repr(upload.name)}]
        return ""
    if not upload.size:
        errors["file"] = [_("The file is empty.")]
        return ""
    if upload.size > settings.IMPORT_MAX_BYTES:
        errors["file"] = [
            _("The file is %(size)s bytes; the most an import takes is %(limit)s bytes.")
            % {"size": upload.size, "limit": settings.IMPORT_MAX_BYTES}
        ]
        return ""
    head = upload.read(4)
    upload.seek(0)
    if (suffix == "xlsx") != (head == _ZIP_MAGIC):
        errors["file"] = [_("The file's content is not %(format)s.") % {"format": suffix.upper()}]
        return ""
    return suffix


def _queue(task_name: str, job: ImportJob) -> None:
    """Hand the job to the worker once the transaction that wrote it commits."""
    from imports import tasks

    task = getattr(tasks, task_name)
    job_id, merchant_id = str(job.pk), str(job.merchant_id)
    transaction.on_commit(lambda: task.delay(job_id, merchant_id))


def _sheet(job: ImportJob) -> Sheet:
    with job.file.open("rb") as handle:
        data = handle.read()
    if job.file_format == ImportJob.Format.XLSX:
        return xlsx_read(data, notes_names=help_names())
    return csv_read(data)


def _progress(job: ImportJob, processed: int, total: int) -> None:
    job.processed, job.total = processed, total
    ImportJob.objects.filter(pk=job.pk).update(processed=processed, total=total, updated_at=timezone.now())


def _check(job: ImportJob, merchant: Merchant) -> list[RowResult]:
    """Every row of the file checked (a missing column reported once, on the header's row), progress recorded
    every ``PROGRESS_EVERY`` rows; the file that cannot be read at all is one error on row 1."""
    try:
        sheet = _sheet(job)
    except ValidationError as exc:
        return [
            RowResult(number=1, outcome=Outcome.ERROR, problems=[{"column": "", "message": m} for m in exc.messages])
        ]
    if len(sheet.rows) > settings.IMPORT_MAX_ROWS:
        message = _("The file has %(rows)s rows; the most an import takes is %(limit)s.") % {
            "rows": len(sheet.rows),
            "limit": settings.IMPORT_MAX_ROWS,
        }
        return [RowResult(number=1, outcome=Outcome.ERROR, problems=[{"column": "", "message": message}])]
    headers = header_map(job.kind, sheet.header)
    checker = CHECKERS[job.kind](job=job, merchant=merchant, headers=headers)
    results: list[RowResult] = []
    if headers.missing:
        with override(job.language):
            problems = [
                {"column": str(column.label), "message": _("This column is missing.")} for column in headers.missing
            ]
        results.append(RowResult(number=sheet.header_number, outcome=Outcome.ERROR, problems=problems))
    total = len(sheet.rows)
    _progress(job, 0, total)
    positions = [index for index, _header in headers.positions.values()]
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        if any(_filled(cells, index) for index in positions):  # a row of notes only (the template's) is not data
            results.append(checker.check(number, cells))
        if done % PROGRESS_EVERY == 0 and done < total:
            _progress(job, done, total)
    _progress(job, total, total)
    return results


def _filled(cells: list[object], index: int) -> bool:
    return index < len(cells) and cells[index] is not None and str(cells[index]).strip() != ""


def _rows_save(job: ImportJob, results: list[RowResult]) -> None:
    """Replace the job's preview rows and counts by ``results``."""
    ImportRow.objects.filter(job=job).delete()
    ImportRow.objects.bulk_create(
        [
            ImportRow(
                merchant_id=job.merchant_id,
                job=job,
                number=result.number,
                outcome=result.outcome,
                key=result.key[:100],
                summary=result.summary[:255],
                problems=result.problems,
            )
            for result in results
        ],
        batch_size=2000,
    )
    counts = dict.fromkeys(Outcome.values, 0)
    for result in results:
        counts[result.outcome] += 1
    job.to_create, job.to_skip = counts[Outcome.CREATE], counts[Outcome.SKIP]
    job.changed, job.errors = counts[Outcome.CHANGED], counts[Outcome.ERROR]


def _finish(job: ImportJob, status: str, *, failure: str = "") -> None:
    job.status, job.failure, job.finished_at = status, failure, timezone.now()
    job.save(
        update_fields=[
            "status",
            "failure",
            "finished_at",
            "to_create",
            "to_skip",
            "changed",
            "errors",
            "created_count",
            "processed",
            "total",
            "updated_at",
        ]
    )


def import_check(*, job_id) -> ImportJob:
    """The preview (the worker): every row's outcome and problems recorded, then ready to import, or invalid
    when a row has an error. A job already checked is left as it is (a task delivered twice)."""
    job = ImportJob.objects.select_related("merchant").get(pk=job_id)
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(status=Status.CHECKING)
    if not claimed:
        return job
    job.status = Status.CHECKING
    results = _check(job, job.merchant)
    with transaction.atomic():
        _rows_save(job, results)
        _finish(job, Status.INVALID if job.errors else Status.READY)
    return job


@audit.action("import.confirm")
@transaction.atomic
def import_confirm(*, actor: User, job: ImportJob) -> ImportJob:
    """Confirm a checked import without errors: the worker imports it. Refused in any other state."""
    permission_require(actor, Action.DATA_IMPORT)
    if not actor.is_superuser and job.merchant_id != actor.merchant_id:
        raise ImportJob.DoesNotExist("No ImportJob matches the given query.")
    job = ImportJob.objects.select_for_update(of=("self",)).get(pk=job.pk)
    if job.status != Status.READY:
        raise ValidationError(
            {
                "status": _("This import's status is “%(status)s”: only an import ready to import can be confirmed.")
                % {"status": job.get_status_display()}
            }
        )
    job.status, job.confirmed_by, job.confirmed_at, job.processed = Status.IMPORTING, actor, timezone.now(), 0
    job.save(update_fields=["status", "confirmed_by", "confirmed_at", "processed", "updated_at"])
    _queue("import_run_task", job)
    return job


# What a key already present is looked up by, per kind, inside the import's transaction.
def _present_keys(job: ImportJob, keys: list[str]) -> set[str]:
    if job.kind == ImportJob.Kind.PRODUCTS:
        return set(Product.objects.filter(merchant_id=job.merchant_id, sku__in=keys).values_list("sku", flat=True))
    if job.kind == ImportJob.Kind.PLANS:
        return set(
            InstallmentPlan.objects.filter(merchant_id=job.merchant_id, sale_reference__in=keys).values_list(
                "sale_reference", flat=True
            )
        )
    customers = Customer.objects.filter(merchant_id=job.merchant_id)
    phones = set(customers.filter(phone__in=keys).values_list("phone", flat=True))
    national_ids = {
        value.upper() for value in customers.filter(national_id__in=keys).values_list("national_id", flat=True)
    }
    return phones | national_ids


def import_run(*, job_id) -> ImportJob:
    """The import (the worker): the file checked again (progress on the job), then, in one transaction holding
    the merchant's row, every row to create written by the owning app's set-based service; a key another import
    or a clerk added meanwhile is skipped. Anything refused rolls everything back: the job is not imported, with
    the reason (a row that no longer passes its check is shown in the preview again)."""
    job = ImportJob.objects.select_related("merchant", "confirmed_by").get(pk=job_id)
    if job.status != Status.IMPORTING:
        return job
    merchant, actor = job.merchant, job.confirmed_by
    results = _check(job, merchant)
    if any(result.outcome == Outcome.ERROR for result in results):
        with transaction.atomic():
            _rows_save(job, results)
            _finish(job, Status.FAILED, failure=_("Rows no longer pass their checks: nothing was imported."))
        return job
    try:
        with transaction.atomic(), audit.context(action="import.run", **audit.actor_values(actor)):
            Merchant.objects.select_for_update().filter(pk=merchant.pk).values_list("pk", flat=True).get()
            if not ImportJob.objects.filter(pk=job.pk, status=Status.IMPORTING).select_for_update().exists():
                return job  # a twin delivery of the task imported it while this one waited for the merchant's lock
            present = _present_keys(job, [r.key for r in results if r.outcome == Outcome.CREATE])
            for result in results:
                if result.outcome == Outcome.CREATE and result.key in present:
                    result.outcome, result.value = Outcome.SKIP, None
            to_create = [result for result in results if result.outcome == Outcome.CREATE]
            values = [result.value for result in to_create]
            if values and job.kind == ImportJob.Kind.CUSTOMERS:
                customers_import(actor=actor, merchant=merchant, customers=values)
            elif values and job.kind == ImportJob.Kind.PRODUCTS:
                products_import(actor=actor, merchant=merchant, products=values)
            elif values:
                plans_import(actor=actor, merchant=merchant, openings=values)
            for result in to_create:
                result.outcome = Outcome.CREATED
            _rows_save(job, results)
            job.created_count = len(to_create)
            _finish(job, Status.COMPLETED)
    except (ValidationError, DatabaseError) as exc:
        job.refresh_from_db()
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc).splitlines()[0]
        _finish(job, Status.FAILED, failure=_("Nothing was imported: %(reason)s") % {"reason": message})
    return job


def import_abandon(*, job_id) -> None:
    """A job the worker gave up on (its time limit): not imported (a check, invalid), never left running."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in (Status.CHECKING, Status.IMPORTING):
        return
    status = Status.FAILED if job.status == Status.IMPORTING else Status.INVALID
    _finish(job, status, failure=_("The file took too long to process: nothing was imported. Split it in parts."))
