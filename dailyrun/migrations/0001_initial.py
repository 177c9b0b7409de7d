"""DailyJobRun, moved here from notifications: created in this app's state only, on the table it already has
(no row is copied or lost). Its content type follows it, so admin history and permissions stay attached."""

import django.db.models.deletion
from django.db import migrations, models


def content_type_move(apps, schema_editor, *, source: str = "notifications", target: str = "dailyrun") -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    if not rows.filter(app_label=target, model="dailyjobrun").exists():
        rows.filter(app_label=source, model="dailyjobrun").update(app_label=target)


def content_type_move_back(apps, schema_editor) -> None:
    content_type_move(apps, schema_editor, source="dailyrun", target="notifications")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("notifications", "0003_daily_job_run_moves_to_dailyrun"),
        ("taqsit", "0002_idempotencyrecord"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DailyJobRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("day", models.DateField(verbose_name="day")),
                        ("started_at", models.DateTimeField(verbose_name="started at")),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                        ("results", models.JSONField(blank=True, default=dict, verbose_name="results")),
                        (
                            "merchant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="taqsit.merchant",
                                verbose_name="merchant",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "daily job run",
                        "verbose_name_plural": "daily job runs",
                        "db_table": "notifications_dailyjobrun",
                        "ordering": ["-day"],
                        "constraints": [
                            models.UniqueConstraint(fields=("merchant", "day"), name="daily_job_run_once_per_day")
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_move, content_type_move_back, elidable=True),
    ]
