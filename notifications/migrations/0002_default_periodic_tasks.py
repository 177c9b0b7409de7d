"""Beat's default schedule moved to the daily run: dailyrun's migration 0002 creates it (dailyrun/schedule.py).

Kept, with nothing to do, because databases have it applied; dailyrun's 0002 creates only the entries that do
not exist yet, so a database that ran this migration when it created them keeps them as they are.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []
