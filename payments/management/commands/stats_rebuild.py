"""`manage.py stats_rebuild`: recompute the statistics' summary rows from the ledger (payments/summaries.py), what
is overdue by customer included (as of its stored cutoff, else today's: installments/overdue.py).

manage.py stats_rebuild                          # every merchant
manage.py stats_rebuild --merchant "Viejos Recuerdos"   # one merchant (name or id; repeat for more)

The services and the daily job keep the rows in step with every movement; this is for data loaded around them
(the bench's COPY, a restore) and for repair. Each merchant is rebuilt in one transaction, its movements waiting
meanwhile.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from payments.summaries import summaries_rebuild
from taqsit.models import Merchant
from taqsit.selectors import merchant_find
from taqsit.tenancy import merchant_scope


class Command(BaseCommand):
    help = "Recompute the statistics' summary rows of every merchant (or those given) from the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--merchant",
            action="append",
            default=[],
            help="A merchant's name or id (repeat for several). Default: every merchant.",
        )

    def handle(self, *args, **options) -> None:
        if options["merchant"]:
            merchants = [merchant_find(value) for value in options["merchant"]]
        else:
            merchants = list(Merchant.objects.order_by("name", "pk"))
        for merchant in merchants:
            started = time.perf_counter()
            with merchant_scope(merchant.pk):
                summaries_rebuild(merchant=merchant)
            self.stdout.write(f"{merchant.name}: rebuilt in {time.perf_counter() - started:.2f} s")
