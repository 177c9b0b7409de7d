"""Each rule of plans written once (issue 12): the buttons a page shows come from the statuses the lifecycle
services check; the collections filters, the aging buckets, days overdue, what is due now and a customer's
balance are selectors; a new customer and a plan are one service; the admin checks with ``product_validate``
and shows the displayed status of installments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan, Product
from installments.selectors import (
    aging_condition,
    customer_balance,
    installments_overdue,
    installments_overdue_filter,
    plan_actions_allowed,
    plan_summary,
)
from installments.services import (
    plan_approve,
    plan_cancel,
    plan_create_with_customer,
    plan_reject,
    plan_reschedule,
    product_validate,
)
from installments.tests.factories import ProductFactory, plan_make
from payments.services import payment_post
from taqsit.tests.factories import MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = InstallmentPlan.Status

SERVICES = {
    "approve": lambda actor, plan: plan_approve(actor=actor, plan=plan),
    "reject": lambda actor, plan: plan_reject(actor=actor, plan=plan, reason="Changed their mind"),
    "cancel": lambda actor, plan: plan_cancel(actor=actor, plan=plan, reason="Goods returned"),
    "reschedule": lambda actor, plan: plan_reschedule(
        actor=actor,
        plan=plan,
        number_of_installments=2,
        installment_frequency="monthly",
        start_date=date(2026, 3, 1),
    ),
}


@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize("action", sorted(SERVICES))
def test_a_button_shows_exactly_where_the_service_accepts_the_status(manager, customer, today, status, action):
    plan = plan_make(actor=manager, customer=customer)
    changes = {"status": status}
    if status == Status.COMPLETED:  # a completed plan is paid up (a CHECK constraint)
        changes["amount_paid"] = F("total_payable") + F("late_fees")
    InstallmentPlan.objects.filter(pk=plan.pk).update(**changes)
    plan.refresh_from_db()

    shown = plan_actions_allowed(plan=plan, user=manager)[action]
    try:
        SERVICES[action](manager, plan)
    except ValidationError as exc:
        refused_for_status = "status" in exc.error_dict
    else:
        refused_for_status = False

    assert shown is not refused_for_status
    assert shown is (status in InstallmentPlan.ACTION_STATUSES[action])


def test_a_clerk_is_offered_the_payment_only(clerk, customer, today):
    plan = plan_make(actor=clerk, customer=customer)

    assert plan_actions_allowed(plan=plan, user=clerk) == {
        "approve": False,
        "reject": False,
        "cancel": False,
        "reschedule": False,
        "pay": True,
        "reverse": False,
    }


def test_the_pending_list_offers_approve_and_reject_on_applications(client, settings, manager, merchant, customer):
    merchant.requires_approval = True
    merchant.save()
    plan = plan_make(actor=manager, customer=customer)
    client.force_login(manager)

    body = client.get(reverse("installments:plan-pending")).content.decode()

    assert plan.status == Status.PENDING
    assert body.count(reverse("installments:plan-approve", args=[plan.pk])) == 1
    assert body.count(reverse("installments:plan-reject", args=[plan.pk])) == 1


# Collections, aging, days overdue ------------------------------------------------------------------------


def _rows(queryset) -> list[tuple[str, int, int]]:
    return [(row.plan.customer.name, row.number, row.days_overdue) for row in queryset]


def test_the_collections_rows_carry_their_days_overdue(merchant, overdue_book, today):
    assert _rows(installments_overdue(merchant=merchant, today=today)) == [
        ("Badr", 1, 59),
        ("Badr", 2, 28),
        ("Chadi", 1, 14),
        ("Ali", 1, 14),
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"search": "bádr"}, [("Badr", 1, 59), ("Badr", 2, 28)]),
        ({"search": "555 0111"}, [("Ali", 1, 14)]),
        ({"aging": "1-30"}, [("Badr", 2, 28), ("Chadi", 1, 14), ("Ali", 1, 14)]),
        ({"aging": "31-60"}, [("Badr", 1, 59)]),
        ({"aging": "61-90"}, []),
        ({"min_amount": Decimal("150.00")}, [("Chadi", 1, 14), ("Ali", 1, 14)]),
        ({"search": "ali", "aging": "31-60"}, []),
    ],
)
def test_the_collections_filters_are_one_selector(merchant, overdue_book, today, filters, expected):
    rows = installments_overdue_filter(installments_overdue(merchant=merchant, today=today), today=today, **filters)

    assert _rows(rows) == expected


def test_an_unknown_aging_bucket_is_refused():
    with pytest.raises(ValueError, match=r"^No aging bucket '0-1'\.$"):
        aging_condition("0-1", today=date(2026, 3, 1))


# What is due now, the customer's balance -------------------------------------------------------------------


def test_what_is_due_now_is_the_overdue_amount_else_the_next_installment(owner, customer, today):
    plan = plan_make(actor=owner, customer=customer)

    overdue = plan_summary(plan=plan, today=today)
    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"), payment_date=today, payment_method="cash")
    plan.refresh_from_db()
    next_one = plan_summary(plan=plan, today=today)

    assert (overdue.overdue_amount, overdue.due_now) == (Decimal("200.00"), Decimal("200.00"))
    assert (next_one.overdue_amount, next_one.due_now) == (Decimal("0.00"), Decimal("200.00"))


def test_what_is_due_now_is_never_more_than_the_balance(owner, customer, today):
    plan = plan_make(actor=owner, customer=customer, start_date=date(2025, 10, 1))
    payment_post(actor=owner, plan=plan, amount=Decimal("650.00"), payment_date=today, payment_method="cash")
    plan.refresh_from_db()

    summary = plan_summary(plan=plan, today=today)

    assert (summary.overdue_amount, summary.remaining_balance, summary.due_now) == (
        Decimal("150.00"),
        Decimal("150.00"),
        Decimal("150.00"),
    )


def test_the_customer_balance_counts_open_plans_only(manager, customer, today):
    first = plan_make(actor=manager, customer=customer)
    second = plan_make(actor=manager, customer=customer, total_amount=Decimal("600.00"))
    cancelled = plan_make(actor=manager, customer=customer)
    plan_cancel(actor=manager, plan=cancelled, reason="Goods returned")
    plans = list(InstallmentPlan.objects.filter(pk__in=[first.pk, second.pk, cancelled.pk]))

    assert customer_balance(plans=plans) == Decimal("1200.00")


# A new customer and a plan in one service ------------------------------------------------------------------


def test_a_new_customer_and_a_plan_are_created_together(clerk, merchant, today):
    plan = plan_create_with_customer(
        actor=clerk,
        customer={"name": "Omar Khalil", "phone": "415 555 0142", "language": "ar"},
        total_amount=Decimal("1000.00"),
        down_payment=Decimal("200.00"),
        number_of_installments=4,
        installment_frequency="monthly",
        start_date=date(2026, 3, 1),
    )

    assert (plan.customer.name, plan.customer.phone, plan.customer.merchant, plan.status) == (
        "Omar Khalil",
        "+14155550142",
        merchant,
        Status.ACTIVE,
    )
    assert plan.installments.count() == 4


def test_a_refused_plan_leaves_no_new_customer(clerk, today, row_counts):
    before = row_counts()

    with pytest.raises(ValidationError) as refused:
        plan_create_with_customer(
            actor=clerk,
            customer={"name": "Omar Khalil", "phone": "415 555 0142"},
            total_amount=Decimal("1000.00"),
            down_payment=Decimal("1200.00"),
            number_of_installments=4,
            installment_frequency="monthly",
            start_date=date(2026, 3, 1),
        )

    assert "down_payment" in refused.value.error_dict
    assert row_counts() == before
    assert not Customer.objects.filter(name="Omar Khalil").exists()


# The admin: product_validate, the displayed status -------------------------------------------------------------


def test_product_validate_names_each_problem_and_writes_nothing(merchant):
    ProductFactory(merchant=merchant, name="Fridge", sku="FR-1")
    candidate = Product(merchant=merchant, name="  Oven ", sku=" FR-1 ", price=Decimal("-1"))

    with pytest.raises(ValidationError) as refused:
        product_validate(product=candidate)

    assert refused.value.message_dict == {
        "price": ["-1.00 must be greater than zero."],
        "sku": ["The SKU FR-1 is already used by Fridge."],
    }
    assert (candidate.name, candidate.sku) == ("Oven", "FR-1")
    assert Product.objects.count() == 1


def test_the_admin_lists_show_each_row_by_its_own_merchants_grace(admin_client, owner, customer, today):
    lenient = MerchantFactory(name="Lenient", grace_days=30)
    lenient_owner = UserFactory(merchant=lenient, role="owner", username="lenient-owner")
    strict_plan = plan_make(actor=owner, customer=customer)
    lenient_plan = plan_make(actor=lenient_owner, customer=CustomerFactory(merchant=lenient, name="Lina"))

    response = admin_client.get(reverse("admin:installments_installment_changelist"))

    shown = {
        (row.plan_id, row.number): (row.status, row.display_status_label)
        for row in response.context["cl"].result_list
        if row.number <= 2
    }
    assert shown == {
        (strict_plan.pk, 1): (Installment.Status.PENDING, "Overdue"),
        (strict_plan.pk, 2): (Installment.Status.PENDING, "Pending"),
        (lenient_plan.pk, 1): (Installment.Status.PENDING, "Pending"),
        (lenient_plan.pk, 2): (Installment.Status.PENDING, "Pending"),
    }
    assert response.content.decode().count('class="field-display_status_display">Overdue</td>') == 1


def test_the_plan_admin_schedule_shows_the_displayed_status(admin_client, owner, customer, today):
    plan = plan_make(actor=owner, customer=customer)

    response = admin_client.get(reverse("admin:installments_installmentplan_change", args=[plan.pk]))

    inline = next(
        formset for formset in response.context["inline_admin_formsets"] if formset.formset.model is Installment
    )
    assert [form.instance.display_status_label for form in inline.formset.forms] == [
        "Overdue",
        "Pending",
        "Pending",
        "Pending",
    ]
