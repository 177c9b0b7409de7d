"""`manage.py demo_load`: load the demo merchants once (`make run` calls it on every start) and print the logins."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.loader import DEMO_MERCHANT, demo_load, demo_login_lines
from taqsit.tenancy import platform_scope


class Command(BaseCommand):
    help = (
        f'Load the demo data ("{DEMO_MERCHANT}" and a second, smaller merchant) through the services, once; '
        "later runs only print the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="The day the data is as of (YYYY-MM-DD, not after the merchant's today). Default: today.",
        )
        # `make run` loads first and prints the logins last, once the worker and the web server are up.
        printing = parser.add_mutually_exclusive_group()
        printing.add_argument("--no-logins", action="store_true", help="Load, but do not print the logins.")
        printing.add_argument("--logins-only", action="store_true", help="Print the logins; load nothing.")

    def handle(self, *args, **options) -> None:
        if options["logins_only"]:
            for line in demo_login_lines():
                self.stdout.write(line)
            return
        try:
            with platform_scope():  # a merchant and its data made from nothing: the platform's work
                result = demo_load(today=options["today"])
        except (ValidationError, PermissionDenied, ValueError) as exc:
            raise CommandError(f"The demo data could not be loaded, nothing was saved: {exc}") from exc
        if result is None:
            self.stdout.write(f'Demo data already loaded (merchant "{DEMO_MERCHANT}" exists): nothing changed.')
        else:
            self.stdout.write(self.style.SUCCESS(result.summary()))
        if options["no_logins"]:
            return
        for line in demo_login_lines():
            self.stdout.write(line)
