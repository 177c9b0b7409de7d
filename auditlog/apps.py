from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditlogConfig(AppConfig):
    name = "auditlog"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from taqsit.audit import task_finished, task_started

        # Every Celery task is a job's entry point: its writes carry the source "job" and the task's name.
        task_prerun.connect(task_started, weak=False, dispatch_uid="auditlog.task_started")
        task_postrun.connect(task_finished, weak=False, dispatch_uid="auditlog.task_finished")
