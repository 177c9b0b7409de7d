"""The ledger's invariants for a set of plans (payments/invariants.py), which the spreadsheet import checks before
it commits: sound plans break none; each kind of damage is counted by the invariant that names it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F

from installments.models import Installment, InstallmentPlan
from installments.tests.factories import plan_make
from payments.invariants import ledger_problems
from payments.models import Payment, PaymentAllocation
from payments.services import payment_post
from taqsit.planner import nested_loops_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(owner, customer):
    first = plan_make(actor=owner, customer=customer)
    second = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=first, amount=Decimal("250.00"), payment_method="cash")
    return first, second


def test_sound_plans_break_nothing(plans):
    assert ledger_problems(plan_ids=[plan.pk for plan in plans]) == {}


def test_a_plan_whose_total_is_not_its_payments_is_counted(plans):
    first, second = plans
    InstallmentPlan.objects.filter(pk=first.pk).update(amount_paid=F("amount_paid") + Decimal("1.00"))

    assert ledger_problems(plan_ids=[first.pk, second.pk]) == {"plan_amount_paid_is_completed_payments": 1}


def test_an_allocation_short_of_its_payment_is_counted_on_the_payment_and_the_row(plans):
    first, _second = plans
    line = PaymentAllocation.objects.filter(payment__plan=first, payment__payment_number=2, kind="principal").first()
    PaymentAllocation.objects.filter(pk=line.pk).update(amount=F("amount") - Decimal("0.01"))

    assert ledger_problems(plan_ids=[first.pk]) == {
        "payment_allocated_in_full": 1,
        "installment_paid_is_allocations": 1,
    }


def test_a_gap_in_payment_numbers_and_a_paid_row_without_a_date_are_counted(plans):
    first, second = plans
    Payment.objects.filter(plan=second, payment_number=1).update(payment_number=3)
    Installment.objects.filter(plan=first, status="paid").update(paid_on=None)

    assert ledger_problems(plan_ids=[first.pk, second.pk]) == {
        "payment_numbers_gapless": 1,
        "paid_installment_has_date": 1,
    }


def test_only_the_plans_asked_about_are_checked(plans):
    first, second = plans
    InstallmentPlan.objects.filter(pk=second.pk).update(amount_paid=F("amount_paid") + Decimal("1.00"))

    assert ledger_problems(plan_ids=[first.pk]) == {}


def test_the_checks_plan_without_nested_loops_and_put_the_setting_back(plans):
    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_nestloop')")
            return cursor.fetchone()[0]

    with nested_loops_off():
        inside = setting()
    assert (inside, setting()) == ("off", "on")
    assert ledger_problems(plan_ids=[plan.pk for plan in plans]) == {}
    assert setting() == "on"
