"""A 10,000-row plans file, previewed and imported: every balance as the ledger's invariants want it, exactly."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import connection
from django.db.models import F, Sum

from bench.invariants import invariants_check
from customers.models import Customer
from customers.services import customers_import
from imports.models import ImportJob, ImportRow
from installments.models import DueDayTotal, Installment, InstallmentPlan, PlanStatusTotal
from payments.models import CollectionDayTotal, Payment, PaymentAllocation
from payments.summaries import summaries_rebuild
from taqsit.planner import nested_loops_off
from taqsit.tenancy import merchant_scope

pytestmark = pytest.mark.django_db

ROWS = 10_000
CUSTOMERS = 500
CENT = Decimal("0.01")


def _phone(index: int) -> str:
    return f"+1415555{index:04d}"


def plans_file(rows: int = ROWS) -> tuple[bytes, dict[str, Decimal]]:
    """The file and what it adds up to: the total financed, the money received and what is left to pay."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "sale_reference",
            "customer",
            "total_amount",
            "down_payment",
            "number_of_installments",
            "frequency",
            "start_date",
            "paid_so_far",
            "last_payment_date",
        ]
    )
    expected = {"financed": Decimal("0"), "received": Decimal("0"), "remaining": Decimal("0"), "completed": 0}
    for index in range(rows):
        total = Decimal(600 + index % 400) + Decimal(index % 100) / 100
        down = Decimal("0") if index % 3 == 0 else (total / 5).quantize(CENT, rounding=ROUND_DOWN)
        financed = total - down
        share = index % 5  # 0..4 quarters of the financed amount paid so far; 4: paid off
        paid = (financed * share / 4).quantize(CENT, rounding=ROUND_DOWN)
        start = date(2025, 6, 1) + timedelta(days=index % 200)
        writer.writerow(
            [
                f"INV-{index:05d}",
                _phone(index % CUSTOMERS),
                f"{total:.2f}",
                f"{down:.2f}",
                6,
                "monthly" if index % 4 else "weekly",
                start.isoformat(),
                f"{paid:.2f}" if paid else "",
                (start + timedelta(days=20)).isoformat() if paid else "",
            ]
        )
        expected["financed"] += financed
        expected["received"] += down + paid
        expected["remaining"] += financed - paid
        expected["completed"] += paid == financed
    return out.getvalue().encode(), expected


@pytest.fixture
def customers(merchant, owner):
    with merchant_scope(merchant.pk):
        customers_import(
            actor=owner,
            merchant=merchant,
            customers=[{"name": f"Customer {index}", "phone": _phone(index)} for index in range(CUSTOMERS)],
        )


def test_a_10000_row_plans_file_is_previewed_then_imported_with_exact_balances(
    merchant, owner, customers, today, upload, confirm
):
    content, expected = plans_file()

    job = upload(owner, "plans", content)

    assert (job.status, job.total, job.processed) == (ImportJob.Status.READY, ROWS, ROWS)
    assert (job.to_create, job.to_skip, job.changed, job.errors) == (ROWS, 0, 0, 0)
    assert InstallmentPlan.objects.count() == 0

    job = confirm(owner, job)

    assert (job.status, job.failure, job.created_count, job.processed) == (ImportJob.Status.COMPLETED, "", ROWS, ROWS)
    assert ImportRow.objects.filter(job=job, outcome=ImportRow.Outcome.CREATED).count() == ROWS
    plans = InstallmentPlan.objects.filter(merchant=merchant)
    assert plans.count() == ROWS
    assert sorted(plans.values_list("number", flat=True)) == list(range(1, ROWS + 1))
    assert plans.filter(status=InstallmentPlan.Status.COMPLETED).count() == expected["completed"]
    totals = plans.aggregate(
        financed=Sum(F("total_payable") - F("down_payment")), paid=Sum("amount_paid"), owed=Sum("total_payable")
    )
    # Total financed = the installments' sum; paid = the allocations' sum; what is left = owed - paid.
    assert totals["financed"] == expected["financed"]
    assert Installment.objects.aggregate(due=Sum("amount_due"))["due"] == expected["financed"]
    assert totals["paid"] == expected["received"]
    assert PaymentAllocation.objects.aggregate(total=Sum("amount"))["total"] == expected["received"]
    assert Payment.objects.aggregate(total=Sum("amount"))["total"] == expected["received"]
    assert totals["owed"] - totals["paid"] == expected["remaining"]
    # Every ledger invariant of the bench holds over the whole database (planned as the import's own checks are:
    # the statistics predate the rows the test wrote).
    with nested_loops_off():
        assert set(invariants_check(connection.connection, foreign_keys=False).values()) == {0}
    # The statistics' summary rows are what a rebuild from the ledger makes.
    kept = _summaries()
    with merchant_scope(merchant.pk), nested_loops_off():
        summaries_rebuild(merchant=merchant)
    assert _summaries() == kept
    assert sum(row[4] for row in kept["status"]) == expected["received"]

    # The same file again adds nothing: every row already present.
    again = upload(owner, "plans", content)
    assert (again.status, again.to_create, again.to_skip, again.errors) == (ImportJob.Status.READY, 0, ROWS, 0)
    again = confirm(owner, again)
    assert (again.status, again.created_count) == (ImportJob.Status.COMPLETED, 0)
    assert InstallmentPlan.objects.count() == ROWS
    assert _summaries() == kept


def _summaries() -> dict[str, list]:
    return {
        "status": sorted(
            PlanStatusTotal.objects.values_list("status", "plans", "total_payable", "late_fees", "amount_paid")
        ),
        "days": sorted(
            DueDayTotal.objects.values_list("due_date", "book_due", "book_paid", "unpaid_count", "unpaid_amount")
        ),
        "collections": sorted(
            CollectionDayTotal.objects.values_list("payment_date", "payment_method", "kind", "amount")
        ),
    }


def test_customers_fixture_made_the_customers(customers):
    assert Customer.objects.count() == CUSTOMERS
