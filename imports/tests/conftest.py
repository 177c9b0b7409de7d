"""Fixtures of the import tests: the worker's tasks run in-process (eager) once the upload or confirm commits."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.models import ImportJob
from imports.services import import_confirm, import_job_create
from taqsit.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_tasks():
    """A task runs at once in the test's process; its errors propagate (the import must never fail silently)."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Upload ``content`` as ``name`` and let the worker check it: the job as the preview leaves it."""

    def run(user, kind: str, content: bytes, name: str = "file.csv", language: str | None = None) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = import_job_create(actor=user, kind=kind, upload=SimpleUploadedFile(name, content), language=language)
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    """Confirm a checked job and let the worker import it: the job as the import leaves it."""

    def run(user, job: ImportJob) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            import_confirm(actor=user, job=job)
        job.refresh_from_db()
        return job

    return run
