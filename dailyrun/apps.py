from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DailyrunConfig(AppConfig):
    """The daily run: each merchant's day of jobs, in order, once (dailyrun/jobs.py), and beat's entries."""

    name = "dailyrun"
    verbose_name = _("Daily run")
