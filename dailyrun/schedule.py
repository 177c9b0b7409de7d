"""Beat's default entries, kept in the database (django-celery-beat) and editable in the admin.

Migration 0002 (of dailyrun) creates them; an entry an admin changed or disabled is left as it is. One entry
fires the daily run (dailyrun/tasks.py), one the delivery of queued messages (notifications/tasks.py), one the
webhooks' sweep (webhooks/tasks.py; dailyrun's migration 0004 adds it to databases that had the first two).
Times are UTC: the daily run itself works out each merchant's own day in the merchant's time zone.
"""

from __future__ import annotations

DEFAULT_PERIODIC_TASKS = (
    {
        "name": "Daily jobs: run each merchant's day once its midnight has passed",
        "task": "notifications.tasks.daily_runs_dispatch_task",
        "minute": "*/15",
        "description": "Overdue marking, late fees, defaults, reminders and the staff digest, per merchant, "
        "catching up missed days.",
    },
    {
        "name": "Notifications: send the queued messages whose quiet hours are over",
        "task": "notifications.tasks.notifications_dispatch_task",
        "minute": "*/5",
        "description": "Hands queued SMS and e-mail to workers; those held by quiet hours go out when they end.",
    },
    {
        "name": "Webhooks: deliver what is due (retries, and what no kick reached)",
        "task": "webhooks.tasks.webhooks_sweep_task",
        "minute": "*",
        "description": "Sends every merchant's due webhook deliveries: retries whose backoff is over, and deliveries "
        "written while the broker took no task.",
    },
)


def default_periodic_tasks_create(*, periodic_task_model, crontab_model, periodic_tasks_model=None) -> list:
    """Create the default entries that do not exist yet (by name); returns them all. Takes the models so a
    migration can pass its historical ones."""
    entries = []
    for spec in DEFAULT_PERIODIC_TASKS:
        crontab, _ = crontab_model.objects.get_or_create(
            minute=spec["minute"], hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
        )
        entry, _ = periodic_task_model.objects.get_or_create(
            name=spec["name"],
            defaults={"task": spec["task"], "crontab": crontab, "description": spec["description"], "enabled": True},
        )
        entries.append(entry)
    if periodic_tasks_model is not None:
        # Tells a running beat to reload its schedule.
        from django.utils import timezone

        periodic_tasks_model.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return entries
