"""The Celery app: configured from Django's settings (the ``CELERY_`` names), tasks found in each app's tasks.py.

Run a worker with ``celery -A taqsit worker`` and beat with ``celery -A taqsit beat`` (`make run` starts a
worker with beat embedded; docker-compose runs them as two services).
"""

import os
from pathlib import Path

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun, worker_init

from taqsit.logs import request_id_get, task_context_bind, task_context_unbind

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taqsit.settings")

app = Celery("taqsit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def broker_folders_create(sender: Celery, **kwargs) -> None:
    """kombu's filesystem transport (the broker when REDIS_URL is unset) needs its folders to exist; made when
    the app is first configured in a process (worker, beat, or a web process sending a task), not at import."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


# Operations: logs carry the task id (and the id of the request that sent the task); the worker serves metrics.


@before_task_publish.connect
def request_id_send(headers: dict | None = None, **kwargs) -> None:
    """A task sent while a request is handled carries the request's id in its message headers."""
    request_id = request_id_get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@task_prerun.connect
def task_logging_bind(task_id: str | None = None, task=None, **kwargs) -> None:
    if task_id and task is not None:
        # A worker finds the message's headers on the request itself; an eager apply() under request.headers.
        request_id = task.request.get("request_id") or (task.request.get("headers") or {}).get("request_id")
        task_context_bind(task_id=task_id, task_name=task.name, request_id=request_id)


@task_postrun.connect
def task_logging_unbind(task_id: str | None = None, **kwargs) -> None:
    if task_id:
        task_context_unbind(task_id=task_id)


@task_prerun.connect
@task_postrun.connect
def task_merchant_reset(**kwargs) -> None:
    """A task runs for the merchant it names (each task's ``merchant_scope``), never for the one the previous
    task on this connection ran for (taqsit/tenancy.py)."""
    from taqsit.tenancy import scope_reset

    scope_reset()


@worker_init.connect
def worker_metrics_serve(**kwargs) -> None:
    """The worker's main process serves /metrics for the whole pool (multiprocess mode) when
    WORKER_METRICS_PORT is set (docker-compose.yml sets it)."""
    from django.conf import settings

    if settings.WORKER_METRICS_PORT:
        from taqsit.metrics import metrics_server_start  # prometheus_client after the settings made its folder

        metrics_server_start(port=settings.WORKER_METRICS_PORT)
