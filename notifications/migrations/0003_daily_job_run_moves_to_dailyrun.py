"""DailyJobRun moves to the dailyrun app: gone from this app's state only; its table and rows stay where they
are (dailyrun's 0001 takes the model over with ``db_table = "notifications_dailyjobrun"``)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_default_periodic_tasks")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="DailyJobRun")]),
    ]
