"""After a reschedule the schedule still adds up where people read it: the rows in force, what was paid on
superseded rows and the down payment held equal the total payable plus fees, on the page, in the API and in the
check the bench runs (``plans_schedule_gaps``); numbers carry on and new rows fall due after the last paid one."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from installments.models import Installment
from installments.selectors import plan_schedule_totals, plans_schedule_gaps
from installments.services import plan_reschedule
from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post, payment_refund, payment_void
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


def _current(plan) -> list[tuple[int, date, Decimal, Decimal, str]]:
    rows = Installment.objects.current().filter(plan=plan).order_by("number")
    return [(row.number, row.due_date, row.amount_due, row.amount_paid, row.status) for row in rows]


@pytest.fixture
def rescheduled(owner, customer, today):
    """The issue's case on a declining-balance plan: 1,000.00 with 100.00 down, 18 % over six months from
    2025-12-10; 400.00 paid (rows 1 and 2, part of row 3), then the rest spread over three months from today."""
    plan = plan_make(
        actor=owner,
        customer=customer,
        down_payment=Decimal("100.00"),
        number_of_installments=6,
        start_date=date(2025, 12, 10),
        finance_charge_method="declining_balance",
        interest_rate=Decimal("18"),
    )
    payment_post(actor=owner, plan=plan, amount=Decimal("400.00"), payment_date=date(2026, 2, 20))
    plan_reschedule(actor=owner, plan=plan, number_of_installments=3, installment_frequency="monthly", start_date=today)
    plan.refresh_from_db()
    return plan


def test_a_plan_rescheduled_after_a_part_payment_still_adds_up(rescheduled, ledger_assert):
    plan = rescheduled
    paid, pending = Installment.Status.PAID, Installment.Status.PENDING
    # PMT(1.5 %, 6, 900.00) = 157.97; interest 13.50, 11.33, 9.13, 6.90, 4.63, 2.33 (47.82). 400.00 paid rows 1
    # and 2 and 84.06 of row 3 (its 9.13 interest first): row 3 stays, closed at 84.06, and its principal left
    # (73.91) with rows 4-6 (460.05 principal, 13.86 interest) makes 547.82 over three rows due from 2026-04-01.
    assert plan.total_payable == Decimal("1047.82")
    assert _current(plan) == [
        (1, date(2026, 1, 10), Decimal("157.97"), Decimal("157.97"), paid),
        (2, date(2026, 2, 10), Decimal("157.97"), Decimal("157.97"), paid),
        (3, date(2026, 3, 10), Decimal("84.06"), Decimal("84.06"), paid),
        (4, date(2026, 4, 1), Decimal("182.60"), Decimal("0"), pending),
        (5, date(2026, 5, 1), Decimal("182.60"), Decimal("0"), pending),
        (6, date(2026, 6, 1), Decimal("182.62"), Decimal("0"), pending),
    ]
    closed = Installment.objects.current().get(plan=plan, number=3)
    assert (closed.interest, closed.principal, closed.paid_on) == (
        Decimal("9.13"),
        Decimal("74.93"),
        date(2026, 2, 20),
    )
    new_rows = Installment.objects.current().filter(plan=plan, number__gte=4)
    assert sum(row.interest for row in new_rows) == Decimal("13.86")
    assert plan.down_payment + sum(row[2] for row in _current(plan)) == plan.total_payable
    assert plans_schedule_gaps(plan_ids=[plan.pk]) == {}
    totals = plan_schedule_totals(plan=plan)
    assert (totals.down_payment, totals.rows, totals.total) == (
        Decimal("100.00"),
        Decimal("947.82"),
        Decimal("1047.82"),
    )
    assert plan.number_of_installments == 6
    ledger_assert(plan)


def test_the_api_and_the_page_show_a_schedule_that_adds_up(rescheduled, client, settings, api_client, manager):
    api_client.force_authenticate(manager)
    shown = api_client.get(f"/api/installments/plans/{rescheduled.pk}/").json()
    assert [item["number"] for item in shown["installments"]] == [1, 2, 3, 4, 5, 6]
    assert Decimal(shown["down_payment"]) + sum(
        Decimal(item["amount_due"]) for item in shown["installments"]
    ) == Decimal(shown["total_payable"])

    body = html(signed_in(client, settings, manager).get(reverse("installments:plan-detail", args=[rescheduled.pk])))

    assert 'data-schedule="down-payment">$100.00<' in body
    assert 'data-schedule="total">$1,047.82<' in body


def test_refunding_or_voiding_the_down_payment_keeps_the_schedule_adding_up(
    client, settings, owner, customer, today, ledger_assert
):
    refunded = plan_make(actor=owner, customer=customer)
    voided = plan_make(actor=owner, customer=customer)

    payment_refund(actor=owner, payment=Payment.objects.get(plan=refunded, payment_number=1), reason="Returned")
    payment_void(actor=owner, payment=Payment.objects.get(plan=voided, payment_number=1), reason="Typed twice")

    for plan in (refunded, voided):
        plan.refresh_from_db()
        # The 200.00 is owed again, on the first unpaid row: the rows now carry the whole total payable.
        assert sum(row[2] for row in _current(plan)) == plan.total_payable == Decimal("1000.00")
        totals = plan_schedule_totals(plan=plan)
        assert (totals.down_payment, totals.rows, totals.total) == (
            Decimal("0"),
            Decimal("1000.00"),
            Decimal("1000.00"),
        )
        assert plans_schedule_gaps(plan_ids=[plan.pk]) == {}
        ledger_assert(plan)
    body = html(signed_in(client, settings, owner).get(reverse("installments:plan-detail", args=[refunded.pk])))
    assert 'data-schedule="down-payment"' not in body
    assert 'data-schedule="total">$1,000.00<' in body


def test_the_check_finds_a_schedule_that_does_not_add_up(owner, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    Installment.objects.filter(plan=plan, number=4).update(amount_due=Decimal("150.00"), principal=Decimal("150.00"))

    assert plans_schedule_gaps(plan_ids=[plan.pk]) == {plan.pk: (Decimal("1000.000"), Decimal("950.000"))}
    assert plans_schedule_gaps() == {plan.pk: (Decimal("1000.000"), Decimal("950.000"))}


def test_a_new_schedule_must_fall_due_after_the_last_paid_row(owner, customer, today, row_counts):
    plan = plan_make(actor=owner, customer=customer)  # rows due 2026-02-15, 03-15, 04-15, 05-15
    payment_post(actor=owner, plan=plan, amount=Decimal("300.00"))  # row 1 paid, 100.00 on row 2 (03-15)
    before = row_counts()
    message = (
        "The new schedule would start on {first}, not after 2026-03-15, the due date of installment 2, which is "
        "paid or partly paid: choose a first due date after 2026-03-15."
    )

    with pytest.raises(ValidationError) as by_start:
        plan_reschedule(
            actor=owner, plan=plan, number_of_installments=4, installment_frequency="weekly", start_date=today
        )
    with pytest.raises(ValidationError) as by_first_due:
        plan_reschedule(
            actor=owner,
            plan=plan,
            number_of_installments=4,
            installment_frequency="weekly",
            start_date=today,
            first_due_date=date(2026, 3, 15),
        )

    assert by_start.value.message_dict == {"start_date": [message.format(first="2026-03-08")]}
    assert by_first_due.value.message_dict == {"first_due_date": [message.format(first="2026-03-15")]}
    assert row_counts() == before
    plan_reschedule(
        actor=owner,
        plan=plan,
        number_of_installments=4,
        installment_frequency="weekly",
        start_date=today,
        first_due_date=date(2026, 3, 16),
    )
    assert [(row[0], row[1], row[2]) for row in _current(plan)] == [
        (1, date(2026, 2, 15), Decimal("200.00")),
        (2, date(2026, 3, 15), Decimal("100.00")),
        (3, date(2026, 3, 16), Decimal("125.00")),
        (4, date(2026, 3, 23), Decimal("125.00")),
        (5, date(2026, 3, 30), Decimal("125.00")),
        (6, date(2026, 4, 6), Decimal("125.00")),
    ]


def test_the_reschedule_page_explains_a_start_before_a_paid_row(client, settings, owner, manager, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("300.00"))  # 100.00 on row 2, due 2026-03-15
    client = signed_in(client, settings, manager)

    response = client.post(
        reverse("installments:plan-reschedule", args=[plan.pk]),
        {"number_of_installments": "4", "installment_frequency": "weekly", "start_date": "2026-03-01"},
    )

    assert response.status_code == 200
    body = html(response)
    assert "choose a first due date after 2026-03-15." in body
    assert 'id="id_start_date_error"' in body
    assert not Installment.objects.filter(plan=plan, superseded_at__isnull=False).exists()


def test_plans_rescheduled_under_the_old_rule_are_brought_to_add_up(owner, customer, today, api_client, manager):
    """The migration that closes the paid part of rows the old reschedule superseded."""
    from importlib import import_module

    from django.apps import apps
    from django.utils import timezone

    migration = import_module("installments.migrations.0003_close_paid_parts_of_superseded_rows")
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date(2026, 2, 20))
    # What the old rule left: rows 2-4 superseded (50.00 paid on row 2), the 550.00 left over two rows numbered
    # on from the last fully paid row.
    old_two = Installment.objects.get(plan=plan, number=2)
    Installment.objects.filter(plan=plan, number__in=(2, 3, 4)).update(superseded_at=timezone.now())
    for number, due in ((2, date(2026, 4, 1)), (3, date(2026, 5, 1))):
        Installment.objects.create(
            merchant=plan.merchant, plan=plan, number=number, due_date=due, amount_due=Decimal("275.00"),
            principal=Decimal("275.00"),
        )  # fmt: skip
    api_client.force_authenticate(manager)
    before = api_client.get(f"/api/installments/plans/{plan.pk}/").json()["installments"]
    assert sum(Decimal(item["amount_due"]) for item in before) == Decimal("750.00")  # + 200.00 down: not 1000.00

    migration.superseded_paid_parts_close(apps, None)

    after = api_client.get(f"/api/installments/plans/{plan.pk}/").json()["installments"]
    assert [(item["number"], item["due_date"], item["amount_due"], item["status"]) for item in after] == [
        (1, "2026-02-15", "200.00", "paid"),
        (2, "2026-03-15", "50.00", "paid"),
        (3, "2026-04-01", "275.00", "pending"),
        (4, "2026-05-01", "275.00", "pending"),
    ]
    assert after[1]["paid_on"] == "2026-02-20"
    assert Installment.objects.current().get(plan=plan, number=2).pk == old_two.pk
    assert plans_schedule_gaps(plan_ids=[plan.pk]) == {}
    plan.refresh_from_db()
    assert plan.number_of_installments == 4
    payment_post(actor=owner, plan=plan, amount=Decimal("550.00"))
    plan.refresh_from_db()
    assert plan.status == "completed"
