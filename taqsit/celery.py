"""The Celery app: configured from Django's settings (the ``CELERY_`` names), tasks found in each app's tasks.py.

Run a worker with ``celery -A taqsit worker`` and beat with ``celery -A taqsit beat`` (`make run` starts a
worker with beat embedded; docker-compose runs them as two services).
"""

import os
from pathlib import Path

from celery import Celery

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
