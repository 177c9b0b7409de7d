"""Beat's entry for the webhooks' sweep (dailyrun/schedule.py): created where missing, as 0002 creates the
others (an entry an admin changed is left as it is). Backwards: the sweep's entry goes."""

from django.db import migrations

from dailyrun.schedule import default_periodic_tasks_create

SWEEP = "Webhooks: deliver what is due (retries, and what no kick reached)"


def create(apps, schema_editor):
    default_periodic_tasks_create(
        periodic_task_model=apps.get_model("django_celery_beat", "PeriodicTask"),
        crontab_model=apps.get_model("django_celery_beat", "CrontabSchedule"),
        periodic_tasks_model=apps.get_model("django_celery_beat", "PeriodicTasks"),
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dailyrun", "0003_daily_job_run_attempts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
