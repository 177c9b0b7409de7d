"""Beat's default schedule (dailyrun/schedule.py), in django-celery-beat's tables; moved here from
notifications' 0002, which databases have applied: only the entries missing by name are created."""

from django.db import migrations

from dailyrun.schedule import DEFAULT_PERIODIC_TASKS, default_periodic_tasks_create


def create(apps, schema_editor):
    default_periodic_tasks_create(
        periodic_task_model=apps.get_model("django_celery_beat", "PeriodicTask"),
        crontab_model=apps.get_model("django_celery_beat", "CrontabSchedule"),
        periodic_tasks_model=apps.get_model("django_celery_beat", "PeriodicTasks"),
    )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[spec["name"] for spec in DEFAULT_PERIODIC_TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dailyrun", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
