"""One displayed status for an installment, wherever it is shown: the queryset annotation and the model method
agree on every combination, and the API, its filter, the CSV export and the plan page all show it. Rows of
cancelled, rejected and pending plans are never overdue."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from installments.jobs import installments_mark_overdue
from installments.models import Installment, InstallmentPlan
from installments.selectors import installments_with_display_status, overdue_cutoff
from installments.services import plan_cancel
from installments.tests.factories import plan_make
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db

PlanStatus = InstallmentPlan.Status
RowStatus = Installment.Status
INSTALLMENTS = "/api/installments/installments/"
# (stored status, amount paid of 100.00): every state a row can be stored in.
STORED = [
    (RowStatus.PENDING, Decimal("0")),
    (RowStatus.PARTIALLY_PAID, Decimal("40.00")),
    (RowStatus.OVERDUE, Decimal("0")),
    (RowStatus.OVERDUE, Decimal("40.00")),
    (RowStatus.PAID, Decimal("100.00")),
]


@pytest.fixture
def grid(merchant, owner, today):
    """A plan in each status, each holding a row for every stored status x due date (the day before the overdue
    cutoff, on it, after it) x in force or superseded; the grace is 3 days."""
    merchant.grace_days = 3
    merchant.save(update_fields=["grace_days"])
    cutoff = overdue_cutoff(merchant, today=today)
    plans = {}
    for status in PlanStatus.values:
        plan = plan_make(actor=owner, customer=CustomerFactory(merchant=merchant), start_date=today + timedelta(1))
        # The statuses are set directly: the grid needs rows no service would leave (a stored "overdue" on a
        # pending plan, a completed plan's unpaid row) to prove the display never reads the stored mark.
        changes = {"status": status}
        if status == PlanStatus.COMPLETED:
            changes["amount_paid"] = plan.total_payable
        InstallmentPlan.objects.filter(pk=plan.pk).update(**changes)
        plan.refresh_from_db()
        number = 100
        for (stored, paid), offset, superseded in product(STORED, (-1, 0, 1), (False, True)):
            number += 1
            Installment.objects.create(
                merchant=merchant,
                plan=plan,
                number=number,
                due_date=cutoff + timedelta(days=offset),
                amount_due=Decimal("100.00"),
                principal=Decimal("100.00"),
                amount_paid=paid,
                principal_paid=paid,
                status=stored,
                paid_on=today if stored == RowStatus.PAID else None,
                superseded_at=plan.created_at if superseded else None,
            )
        plans[status] = plan
    return plans


def _expected(row: Installment, plan_status: str, cutoff) -> str:
    """The rule, spelled out once more for the test."""
    if row.amount_paid == row.amount_due:
        return RowStatus.PAID
    if row.superseded_at is None and plan_status in (PlanStatus.ACTIVE, PlanStatus.DEFAULTED) and row.due_date < cutoff:
        return RowStatus.OVERDUE
    return RowStatus.PARTIALLY_PAID if row.amount_paid else RowStatus.PENDING


def test_the_annotation_and_the_method_agree_on_every_combination(grid, merchant, today):
    cutoff = overdue_cutoff(merchant, today=today)
    rows = installments_with_display_status(
        Installment.objects.filter(plan__in=grid.values(), number__gt=100).select_related("plan"),
        merchant=merchant,
        today=today,
    )

    seen = set()
    for row in rows:
        expected = _expected(row, row.plan.status, cutoff)
        assert row.display_status == expected, (row.plan.status, row.status, row.due_date, row.superseded_at)
        assert row.display_status_for(cutoff=cutoff) == expected
        assert row.display_status_for(cutoff=cutoff, plan_status=row.plan.status) == expected
        seen.add((row.plan.status, row.status, row.amount_paid, row.due_date - cutoff, row.superseded_at is None))
    assert len(seen) == len(PlanStatus.values) * len(STORED) * 3 * 2 == 180
    # Overdue only on active and defaulted plans, in force, due before the cutoff, not fully paid: 2 x 4 rows.
    overdue = [row for row in rows if row.display_status == RowStatus.OVERDUE]
    assert len(overdue) == 8
    assert {row.plan.status for row in overdue} == {PlanStatus.ACTIVE, PlanStatus.DEFAULTED}


@pytest.mark.parametrize("status", RowStatus.values)
def test_the_api_filters_and_shows_the_displayed_status(grid, merchant, manager, api_client, today, status):
    api_client.force_authenticate(manager)
    cutoff = overdue_cutoff(merchant, today=today)
    current = Installment.objects.current().filter(plan__merchant=merchant).select_related("plan")
    expected = sorted(str(row.pk) for row in current if _expected(row, row.plan.status, cutoff) == status)

    response = api_client.get(INSTALLMENTS, {"status": status, "page_size": 200})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(expected) > 0
    assert sorted(item["id"] for item in body["results"]) == expected
    assert {item["status"] for item in body["results"]} == {status}


def test_every_listed_row_shows_its_displayed_status_in_the_api_the_export_and_the_plan(
    grid, merchant, manager, api_client, today
):
    api_client.force_authenticate(manager)
    cutoff = overdue_cutoff(merchant, today=today)
    expected = {
        str(row.pk): _expected(row, row.plan.status, cutoff)
        for row in Installment.objects.current().filter(plan__merchant=merchant).select_related("plan")
    }

    listed = api_client.get(INSTALLMENTS, {"page_size": 200}).json()["results"]
    exported = api_client.get(f"{INSTALLMENTS}export/", HTTP_ACCEPT="text/csv")
    lines = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode().lstrip("\ufeff"))))

    assert {item["id"]: item["status"] for item in listed} == expected
    shown_rows = {
        (plan.reference, row.number): (_expected(row, plan.status, cutoff), row.due_date)
        for plan in grid.values()
        for row in Installment.objects.current().filter(plan=plan)
    }
    assert len(lines) == len(shown_rows)
    for line in lines:
        shown, due_date = shown_rows[(line["plan"], int(line["installment"]))]
        assert line["status"] == shown
        assert int(line["days_overdue"]) == ((today - due_date).days if shown == RowStatus.OVERDUE else 0)
    for plan in grid.values():
        details = api_client.get(f"/api/installments/plans/{plan.pk}/").json()["installments"]
        assert {item["number"]: item["status"] for item in details} == {
            number: shown for (reference, number), (shown, _due) in shown_rows.items() if reference == plan.reference
        }


def test_a_cancelled_plans_overdue_row_is_no_longer_shown_overdue(client, settings, merchant, owner, customer, today):
    plan = plan_make(actor=owner, customer=customer)  # #1 due 2026-02-15: overdue on 2026-03-01
    installments_mark_overdue(merchant=merchant, today=today)
    assert Installment.objects.get(plan=plan, number=1).status == RowStatus.OVERDUE  # the job's mark
    client = signed_in(client, settings, owner)
    assert html(client.get(reverse("installments:plan-detail", args=[plan.pk]))).count(">Overdue</span>") == 1

    plan_cancel(actor=owner, plan=plan, reason="Goods returned")

    body = html(client.get(reverse("installments:plan-detail", args=[plan.pk])))
    assert ">Overdue</span>" not in body
    assert body.count(">Pending</span>") == 4
