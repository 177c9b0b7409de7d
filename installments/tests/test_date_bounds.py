"""Dates have bounds: a plan's start and due dates, a reschedule's and a payment's date more than
``DATE_BOUND_YEARS`` (5) years from the merchant's today are refused, naming the range, on the services, the API
and the pages. A plan that starts later takes payments from the day it was agreed."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from installments.models import Installment, InstallmentPlan
from installments.services import plan_reschedule, plan_terms_build
from installments.tests.factories import plan_make
from installments.tests.test_views import plan_data
from payments.models import Payment
from payments.services import payment_post
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db

# On 2026-03-01 (the ``today`` fixture) with the default 5 years.
RANGE = "give a date from 2021-03-01 to 2031-03-01."


def out_of_range(day: str, *, text: str = RANGE) -> str:
    return f"The date {day} is out of range: {text}"


@pytest.mark.parametrize(
    ("terms", "field", "day"),
    [
        ({"start_date": date(2021, 2, 28)}, "start_date", "2021-02-28"),
        ({"start_date": date(206, 1, 15)}, "start_date", "0206-01-15"),
        ({"start_date": date(2031, 3, 2)}, "start_date", "2031-03-02"),
        ({"first_due_date": date(2031, 3, 2)}, "first_due_date", "2031-03-02"),
        ({"due_date": date(9999, 12, 31)}, "due_date", "9999-12-31"),
    ],
)
def test_a_plan_date_out_of_range_is_refused_naming_the_range(owner, customer, today, row_counts, terms, field, day):
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_make(actor=owner, customer=customer, **terms)

    assert excinfo.value.message_dict[field] == [out_of_range(day)]
    assert row_counts() == before


def test_the_preview_refuses_it_too(merchant, today):
    with pytest.raises(ValidationError) as excinfo:
        plan_terms_build(
            merchant=merchant,
            total_amount="500",
            number_of_installments=2,
            installment_frequency="monthly",
            start_date=date(1926, 3, 1),
        )

    assert excinfo.value.message_dict == {"start_date": [out_of_range("1926-03-01")]}


def test_the_bounds_themselves_are_accepted(owner, customer, today):
    earliest = plan_make(actor=owner, customer=customer, start_date=date(2021, 3, 1))
    latest = plan_make(actor=owner, customer=customer, start_date=date(2026, 4, 1), first_due_date=date(2031, 3, 1))

    assert (earliest.start_date, earliest.due_date) == (date(2021, 3, 1), date(2021, 7, 1))
    assert latest.installments.order_by("number").first().due_date == date(2031, 3, 1)


def test_the_number_of_years_is_a_setting(settings, owner, customer, today):
    settings.DATE_BOUND_YEARS = 1

    with pytest.raises(ValidationError) as excinfo:
        plan_make(actor=owner, customer=customer, start_date=date(2025, 2, 28))

    assert excinfo.value.message_dict == {
        "start_date": [out_of_range("2025-02-28", text="give a date from 2025-03-01 to 2027-03-01.")]
    }


def test_a_reschedule_date_out_of_range_is_refused_and_changes_nothing(owner, customer, today, row_counts):
    plan = plan_make(actor=owner, customer=customer)
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        plan_reschedule(
            actor=owner,
            plan=plan,
            number_of_installments=3,
            installment_frequency="monthly",
            start_date=date(2026, 3, 1),
            first_due_date=date(2036, 1, 1),
        )

    assert excinfo.value.message_dict == {"first_due_date": [out_of_range("2036-01-01")]}
    assert row_counts() == before
    assert not Installment.objects.filter(plan=plan, superseded_at__isnull=False).exists()


def test_a_payment_date_out_of_range_is_refused(owner, customer, today, row_counts):
    plan = plan_make(actor=owner, customer=customer, start_date=date(2021, 3, 1))
    before = row_counts()

    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), payment_date=date(2021, 2, 28))

    assert excinfo.value.message_dict == {"payment_date": [out_of_range("2021-02-28")]}
    assert row_counts() == before


# A plan starting later -------------------------------------------------------------------------------------


def test_a_plan_starting_later_takes_payments_from_the_day_it_was_agreed(owner, customer, today, ledger_assert):
    plan = plan_make(actor=owner, customer=customer, start_date=date(2026, 6, 1))  # agreed 2026-03-01
    down = Payment.objects.get(plan=plan, payment_number=1)
    assert (down.is_down_payment, down.payment_date, down.amount) == (True, date(2026, 3, 1), Decimal("200.00"))

    second = payment_post(actor=owner, plan=plan, amount=Decimal("150.00"), payment_date=date(2026, 3, 1))

    assert (second.payment_number, second.status) == (2, Payment.Status.COMPLETED)
    assert [(line.installment.number, line.kind, line.amount) for line in second.allocations.all()] == [
        (1, "principal", Decimal("150.00"))
    ]
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.remaining_balance) == (Decimal("350.00"), Decimal("650.00"))
    ledger_assert(plan)
    with pytest.raises(ValidationError) as excinfo:
        payment_post(actor=owner, plan=plan, amount=Decimal("10.00"), payment_date=date(2026, 2, 28))
    assert excinfo.value.message_dict == {
        "payment_date": ["The payment date 2026-02-28 is before plan P-000001 was agreed (2026-03-01)."]
    }


# The API and the pages say it too ----------------------------------------------------------------------------


def test_the_api_refuses_a_plan_payment_and_reschedule_out_of_range(api_client, manager, owner, customer, today):
    client = api_client
    client.force_authenticate(manager)
    created = client.post(
        "/api/installments/plans/",
        {
            "customer": str(customer.pk),
            "total_amount": "1000.00",
            "number_of_installments": 4,
            "installment_frequency": "monthly",
            "start_date": "0206-01-15",
        },
        format="json",
    )
    plan = plan_make(actor=owner, customer=customer)
    paid = client.post(
        "/api/installments/payments/",
        {"plan": str(plan.pk), "amount": "10.00", "payment_date": "2019-06-01", "payment_method": "cash"},
        format="json",
    )
    rescheduled = client.post(
        f"/api/installments/plans/{plan.pk}/reschedule/",
        {"number_of_installments": 2, "installment_frequency": "monthly", "start_date": "2099-01-01"},
        format="json",
    )

    assert (created.status_code, created.json()) == (400, {"start_date": [out_of_range("0206-01-15")]})
    assert (paid.status_code, paid.json()) == (400, {"payment_date": [out_of_range("2019-06-01")]})
    assert (rescheduled.status_code, rescheduled.json()) == (400, {"start_date": [out_of_range("2099-01-01")]})
    assert InstallmentPlan.objects.count() == 1
    assert Payment.objects.count() == 1  # the down payment


def test_the_plan_form_shows_the_range_on_the_start_date(client, settings, clerk, customer, today):
    client = signed_in(client, settings, clerk)

    response = client.post(
        reverse("installments:plan-create"),
        plan_data(customer=customer, total_amount="300", number_of_installments="3", start_date="0206-03-01"),
    )

    assert response.status_code == 200
    body = html(response)
    assert out_of_range("0206-03-01") in body
    assert 'id="id_start_date_error"' in body
    assert not InstallmentPlan.objects.exists()
