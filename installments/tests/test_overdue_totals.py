"""What is overdue by customer, kept for a stored cutoff (installments/overdue.py): the daily run moves the cutoff
on adding the rows it passes, every movement adds its difference, a rebuild gives the same rows, and the
statistics read them only when they are kept for today's cutoff."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from customers.tests.factories import CustomerFactory
from installments.models import CustomerOverdueTotal, Installment, MerchantOverdueTotal
from installments.overdue import overdue_totals_advance, overdue_totals_rebuild
from installments.services import plan_cancel
from installments.tests.factories import plan_make
from payments.services import payment_post
from payments.stats import merchant_stats_compute, merchant_stats_compute_full
from taqsit.models import Merchant
from taqsit.tenancy import merchant_scope

pytestmark = pytest.mark.django_db

D = Decimal


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def kept(merchant: Merchant) -> tuple[tuple | None, dict]:
    """The merchant's (cutoff, plans overdue) and its customers' (amount, installments, plans), rows at zero
    left out."""
    state = MerchantOverdueTotal.objects.filter(merchant=merchant).values_list("cutoff", "plans").first()
    customers = CustomerOverdueTotal.objects.filter(merchant=merchant).exclude(amount=0, installments=0, plans=0)
    return state, {row[0]: row[1:] for row in customers.values_list("customer_id", "amount", "installments", "plans")}


def rebuilt(merchant: Merchant) -> tuple[tuple | None, dict]:
    """What a rebuild at the stored cutoff makes of the ledger, rolled back afterwards."""
    with transaction.atomic(), merchant_scope(merchant.pk):
        overdue_totals_rebuild(merchant=merchant)
        rows = kept(merchant)
        transaction.set_rollback(True)
    return rows


def advance(merchant: Merchant, day: date) -> str:
    with merchant_scope(merchant.pk):
        return overdue_totals_advance(merchant=merchant, today=day)


@pytest.fixture
def shop(merchant, owner):
    """Grace of 2 days; Amina has two plans, Badr one (each 200.00 a month due the 15th from February)."""
    Merchant.objects.filter(pk=merchant.pk).update(grace_days=2)
    merchant.refresh_from_db()
    owner.merchant.refresh_from_db()
    amina, badr = CustomerFactory(merchant=merchant, name="Amina"), CustomerFactory(merchant=merchant, name="Badr")
    with time_machine.travel(_noon(date(2026, 1, 15)), tick=False):
        plans = [plan_make(actor=owner, customer=customer) for customer in (amina, amina, badr)]
    return {"amina": amina, "badr": badr, "plans": plans}


def test_the_daily_run_keeps_what_is_overdue_by_customer_moving_the_cutoff_on(merchant, owner, shop):
    amina, badr, (first, _second, _third) = shop["amina"], shop["badr"], shop["plans"]
    with time_machine.travel(_noon(date(2026, 2, 10)), tick=False) as clock:
        # The first run keeps them from the ledger: nothing is overdue yet (the first rows fall due on the 15th).
        assert advance(merchant, date(2026, 2, 10)) == "rebuilt"
        assert kept(merchant) == ((date(2026, 2, 8), 0), {})

        # Due on the 15th, overdue after the 2 days of grace: not yet on the 17th (cutoff the 15th).
        clock.move_to(_noon(date(2026, 2, 17)))
        assert advance(merchant, date(2026, 2, 17)) == "advanced"
        assert kept(merchant) == ((date(2026, 2, 15), 0), {})

        clock.move_to(_noon(date(2026, 2, 18)))
        assert advance(merchant, date(2026, 2, 18)) == "advanced"
        assert kept(merchant) == (
            (date(2026, 2, 16), 3),
            {amina.pk: (D("400.000"), 2, 2), badr.pk: (D("200.000"), 1, 1)},
        )
        assert advance(merchant, date(2026, 2, 18)) == "current"

        # Payments take their part off at once; the plan paid up to date is no longer overdue.
        payment_post(actor=owner, plan=first, amount=D("150.00"))
        assert kept(merchant)[1][amina.pk] == (D("250.000"), 2, 2)
        payment_post(actor=owner, plan=first, amount=D("50.00"))
        assert kept(merchant) == (
            (date(2026, 2, 16), 2),
            {amina.pk: (D("200.000"), 1, 1), badr.pk: (D("200.000"), 1, 1)},
        )

        # A month on: the March rows are added, and the first plan is overdue again.
        clock.move_to(_noon(date(2026, 3, 18)))
        assert advance(merchant, date(2026, 3, 18)) == "advanced"
        assert kept(merchant) == (
            (date(2026, 3, 16), 3),
            {amina.pk: (D("600.000"), 3, 2), badr.pk: (D("400.000"), 2, 1)},
        )
        assert kept(merchant) == rebuilt(merchant)

        # An earlier day caught up leaves the later cutoff alone.
        assert advance(merchant, date(2026, 3, 1)) == "ahead"
        assert kept(merchant)[0] == (date(2026, 3, 16), 3)

        # A cancelled plan leaves the book: its rows are no longer overdue.
        plan_cancel(actor=owner, plan=shop["plans"][2], reason="Returned the goods.")
        assert kept(merchant) == ((date(2026, 3, 16), 2), {amina.pk: (D("600.000"), 3, 2)})
        assert kept(merchant) == rebuilt(merchant)


def test_more_grace_days_move_the_cutoff_back_and_the_next_run_rebuilds(merchant, shop):
    with time_machine.travel(_noon(date(2026, 2, 18)), tick=False):
        assert advance(merchant, date(2026, 2, 18)) == "rebuilt"
        assert kept(merchant)[0] == (date(2026, 2, 16), 3)
        Merchant.objects.filter(pk=merchant.pk).update(grace_days=5)
        merchant.refresh_from_db()
        # The statistics do not use rows kept for another cutoff (they read the rows late) until the next run.
        stats = merchant_stats_compute(merchant=merchant)
        assert (stats.overdue_plans, stats.top_overdue_customers) == (0, ())
        assert advance(merchant, date(2026, 2, 18)) == "rebuilt"
        assert kept(merchant) == ((date(2026, 2, 13), 0), {})


def _comparable(stats) -> dict:
    return {**dataclasses.asdict(stats), "computed_at": None}


def test_the_statistics_read_the_kept_rows_only_when_kept_for_today(merchant, owner, shop):
    badr = shop["badr"]
    with time_machine.travel(_noon(date(2026, 3, 18)), tick=False) as clock:
        advance(merchant, date(2026, 3, 18))
        stats = merchant_stats_compute(merchant=merchant)
        assert _comparable(stats) == _comparable(merchant_stats_compute_full(merchant=merchant))
        assert stats.overdue_plans == 3
        assert [
            (c.name, c.plans, c.installments, c.amount, c.oldest_due_date, c.days_overdue)
            for c in stats.top_overdue_customers
        ] == [
            ("Amina", 2, 4, D("800.00"), date(2026, 2, 15), 31),
            ("Badr", 1, 2, D("400.00"), date(2026, 2, 15), 31),
        ]

        # They are what the statistics read: a kept row put wrong shows (the rebuild is the repair).
        CustomerOverdueTotal.objects.filter(customer=badr).update(amount=D("999"))
        wrong = merchant_stats_compute(merchant=merchant).top_overdue_customers
        assert [(c.name, c.amount) for c in wrong] == [("Badr", D("999.00")), ("Amina", D("800.00"))]

        # The next day, before its run, they are kept for yesterday's cutoff: the rows late are read instead.
        clock.move_to(_noon(date(2026, 3, 19)))
        stats = merchant_stats_compute(merchant=merchant)
        assert _comparable(stats) == _comparable(merchant_stats_compute_full(merchant=merchant))
        assert [(c.name, c.amount) for c in stats.top_overdue_customers] == [
            ("Amina", D("800.00")),
            ("Badr", D("400.00")),
        ]


def _installment_rows_read(sql: str) -> int:
    """The rows of the installments table that ``sql`` read (EXPLAIN ANALYZE: every scan node's rows x loops)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()[0]

    def walk(node: dict) -> int:
        own = node["Actual Rows"] * node["Actual Loops"] if node.get("Relation Name") == INSTALLMENTS else 0
        return own + sum(walk(child) for child in node.get("Plans", ()))

    return walk(plan["Plan"])


INSTALLMENTS = Installment._meta.db_table


def test_kept_the_statistics_read_only_the_leaders_rows(merchant, owner):
    """Twelve customers with two rows overdue each: kept, the statistics read the ten leaders' rows only (their
    oldest date); not kept, every row overdue at least."""
    Merchant.objects.filter(pk=merchant.pk).update(grace_days=2)
    merchant.refresh_from_db()
    owner.merchant.refresh_from_db()
    with time_machine.travel(_noon(date(2026, 1, 15)), tick=False):
        for index in range(12):
            customer = CustomerFactory(merchant=merchant, name=f"Customer {index:02}")
            plan_make(actor=owner, customer=customer, total_amount=D("1000.00") + 40 * index)
    with connection.cursor() as cursor:  # on a few rows a scan of the whole table is cheapest; not on a book
        cursor.execute("SET LOCAL enable_seqscan = off")
    with time_machine.travel(_noon(date(2026, 3, 18)), tick=False):
        advance(merchant, date(2026, 3, 18))
        with CaptureQueriesContext(connection) as captured:
            stats = merchant_stats_compute(merchant=merchant)
        (sql,) = [query["sql"] for query in captured if CustomerOverdueTotal._meta.db_table in query["sql"]]
        assert [customer.name for customer in stats.top_overdue_customers] == [
            f"Customer {index:02}" for index in range(11, 1, -1)
        ]
        assert stats.overdue_plans == 12
        assert _installment_rows_read(sql) == 10 * 2

        # Not kept: every row overdue is read at least once (how often depends on the plan the planner picks for
        # the fallback: a nested loop reads some again, depending on the table's statistics at that moment).
        MerchantOverdueTotal.objects.filter(merchant=merchant).delete()
        assert _installment_rows_read(sql) >= 12 * 2
