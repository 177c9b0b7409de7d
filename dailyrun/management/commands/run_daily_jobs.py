"""`manage.py run_daily_jobs`: run the daily jobs now, for operators and for catching up after downtime.

manage.py run_daily_jobs                              # every active merchant: each day owed, through today
manage.py run_daily_jobs --merchant "Viejos Recuerdos"  # one merchant (name or id; repeat for more)
manage.py run_daily_jobs --merchant ... --date 2026-03-01   # that day only (again, if it ran: nothing twice)
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dailyrun.jobs import daily_jobs_catch_up, daily_jobs_run
from notifications.services import notifications_dispatch
from taqsit.dates import merchant_today
from taqsit.models import Merchant
from taqsit.selectors import merchant_find
from taqsit.tenancy import merchant_scope


class Command(BaseCommand):
    help = (
        "Run the daily jobs (overdue, late fees, defaults, reminders, staff digest) now: by default every day "
        "each merchant is owed since its last run, through its today; with --date, that one day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--merchant",
            action="append",
            default=[],
            help="A merchant's name or id (repeat for several). Default: every active merchant.",
        )
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            default=None,
            help="Run this day (YYYY-MM-DD, not after the merchant's today) instead of catching up.",
        )

    def handle(self, *args, **options) -> None:
        if options["merchant"]:
            merchants = [merchant_find(value) for value in options["merchant"]]
        else:
            merchants = list(Merchant.objects.filter(is_active=True).order_by("name"))
        day = options["date"]
        now = timezone.now()
        for merchant in merchants:
            with merchant_scope(merchant.pk):  # each merchant's run sees that merchant's rows only
                self._run(merchant, day, now)

    def _run(self, merchant, day, now) -> None:
        if day is not None:
            today = merchant_today(merchant, now=now)
            if day > today:
                raise CommandError(f"{day} is after {merchant.name}'s today ({today}): nothing was run.")
            results = daily_jobs_run(merchant=merchant, day=day, now=now)
            notifications_dispatch(merchant=merchant, now=now)
            self.stdout.write(f"{merchant.name}: ran {day}: {results}")
            return
        days = daily_jobs_catch_up(merchant=merchant, now=now)
        if days:
            self.stdout.write(f"{merchant.name}: ran {', '.join(d.isoformat() for d in days)}")
        else:
            self.stdout.write(f"{merchant.name}: nothing owed (or running elsewhere).")
