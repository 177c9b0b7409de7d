"""A customer's application (``plan_apply``): always pending, origin portal, the same rules as a plan the staff
create; approving it expects the down payment instead of recording it received; the approval queue, the plan
list and page, the API and the admin tell the customers' applications apart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan, PlanItem
from installments.services import (
    application_terms,
    plan_apply,
    plan_approve,
    plan_preview,
    plan_reject,
)
from installments.tests.factories import ProductFactory, plan_make
from payments.models import Payment, PaymentAllocation
from payments.services import payment_complete, payment_fail, payment_post, payment_void
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db
Status = InstallmentPlan.Status
PORTAL = InstallmentPlan.Origin.PORTAL
COUNTER = InstallmentPlan.Origin.COUNTER


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are asserted in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


def schedule_of(plan: InstallmentPlan) -> list[tuple]:
    rows = Installment.objects.current().filter(plan=plan).order_by("number")
    return [(row.number, row.due_date, row.amount_due, row.principal, row.interest) for row in rows]


def apply(customer, **overrides) -> InstallmentPlan:
    """1000.00 described as a sofa, nothing down, 3 monthly installments from today (2026-03-01)."""
    terms = {
        "total_amount": "1000.00",
        "description": "Three-seat sofa",
        "number_of_installments": 3,
        "installment_frequency": "monthly",
    }
    terms.update(overrides)
    return plan_apply(customer=customer, **terms)


# The service ---------------------------------------------------------------------------------------------


def test_an_application_for_a_product_is_a_pending_portal_plan_with_its_exact_schedule(merchant, customer, today):
    sofa = ProductFactory(merchant=merchant, name="Sofa", price=Decimal("1000.00"))
    plan = plan_apply(
        customer=customer,
        items=[{"product": sofa.pk}],
        down_payment="100.00",
        number_of_installments=3,
        installment_frequency="monthly",
    )
    plan.refresh_from_db()
    assert (plan.status, plan.origin, plan.created_by, plan.reference) == (Status.PENDING, PORTAL, None, "P-000001")
    assert (plan.total_amount, plan.down_payment, plan.finance_charge, plan.total_payable) == (
        Decimal("1000.00"),
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("1000.00"),
    )
    assert (plan.finance_charge_method, plan.interest_rate, plan.start_date) == ("none", Decimal("0"), today)
    assert schedule_of(plan) == [
        (1, date(2026, 4, 1), Decimal("300.00"), Decimal("300.00"), Decimal("0.00")),
        (2, date(2026, 5, 1), Decimal("300.00"), Decimal("300.00"), Decimal("0.00")),
        (3, date(2026, 6, 1), Decimal("300.00"), Decimal("300.00"), Decimal("0.00")),
    ]
    assert list(plan.items.values_list("product", "description", "quantity", "unit_price", "line_total")) == [
        (sofa.pk, "Sofa", 1, Decimal("1000.00"), Decimal("1000.00"))
    ]
    assert plan.amount_paid == Decimal("0.00")
    assert not Payment.objects.filter(plan=plan).exists()


def test_an_application_by_description_and_total_adds_up_to_the_unit(merchant, customer, today):
    plan = apply(customer, start_date=date(2026, 3, 10))
    rows = schedule_of(plan)
    assert [row[2] for row in rows] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    assert sum(row[2] for row in rows) == plan.total_payable == Decimal("1000.00")
    assert [row[1] for row in rows] == [date(2026, 4, 10), date(2026, 5, 10), date(2026, 6, 10)]
    assert list(plan.items.values_list("product", "description", "quantity", "unit_price")) == [
        (None, "Three-seat sofa", 1, Decimal("1000.00"))
    ]
    assert (plan.status, plan.origin, plan.notes) == (Status.PENDING, PORTAL, "")


def test_an_application_in_a_currency_without_minor_unit(merchant, customer, today):
    merchant.currency = "JPY"
    merchant.save(update_fields=["currency"])
    customer.refresh_from_db()
    plan = apply(customer, total_amount="100000", number_of_installments=3)
    assert [row[2] for row in schedule_of(plan)] == [Decimal("33333"), Decimal("33333"), Decimal("33334")]


def test_an_application_is_pending_whatever_the_approval_policy(merchant, clerk, customer, today):
    assert merchant.requires_approval is False
    counter = plan_make(actor=clerk, customer=customer)
    plan = apply(customer)
    assert counter.status == Status.ACTIVE  # the counter's plan under the same policy
    assert (plan.status, plan.origin) == (Status.PENDING, PORTAL)
    assert counter.origin == COUNTER


def test_the_preview_is_the_schedule_the_application_gets(merchant, customer, today):
    terms = application_terms(
        merchant=merchant,
        total_amount="1000.00",
        description="Three-seat sofa",
        number_of_installments=3,
        installment_frequency="monthly",
    )
    preview = plan_preview(merchant=merchant, **terms)
    schedule = preview.schedule
    plan = apply(customer)
    assert [(row.number, row.due_date, row.amount, row.principal, row.interest) for row in schedule.rows] == (
        schedule_of(plan)
    )
    assert (schedule.total_payable, schedule.installment_amount) == (Decimal("1000.00"), Decimal("333.33"))
    # No finance charge on an application: its APR is 0.00, disclosed in the preview and kept on the plan.
    assert (preview.disclosure.apr, plan.apr) == (Decimal("0.00"), Decimal("0.00"))
    # Nothing to preview until a price and a number of installments are given; nothing saved either way.
    assert plan_preview(merchant=merchant, **{**terms, "number_of_installments": None}) is None
    assert InstallmentPlan.objects.count() == 1


BAD_APPLICATIONS = [
    pytest.param({"total_amount": "-5.00"}, "total_amount", id="negative-total"),
    pytest.param({"total_amount": "10.001"}, "total_amount", id="total-past-the-unit"),
    pytest.param({"total_amount": None}, "total_amount", id="no-total"),
    pytest.param({"down_payment": "1000.00"}, "down_payment", id="down-payment-covers-all"),
    pytest.param({"number_of_installments": 0}, "number_of_installments", id="no-installments"),
    pytest.param({"installment_frequency": "daily"}, "installment_frequency", id="unknown-frequency"),
    pytest.param({"start_date": date(1999, 1, 1)}, "start_date", id="start-long-ago"),
    pytest.param({"description": ""}, "description", id="nothing-described"),
    pytest.param({"description": "x" * 256}, "description", id="description-too-long"),
    pytest.param(
        {"description": "Sofa", "items": [{"description": "Sofa", "unit_price": "1000.00"}]},
        "description",
        id="items-and-description",
    ),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_APPLICATIONS)
def test_a_refused_application_names_its_field_and_writes_nothing(customer, today, row_counts, overrides, field):
    before = row_counts()
    with pytest.raises(ValidationError) as refused:
        apply(customer, **overrides)
    assert field in refused.value.message_dict, refused.value.message_dict
    assert row_counts() == before


def test_the_same_terms_are_refused_with_the_same_message_as_at_the_counter(customer, owner, today):
    with pytest.raises(ValidationError) as counter:
        plan_make(actor=owner, customer=customer, down_payment=Decimal("1000.00"), total_amount=Decimal("1000.00"))
    with pytest.raises(ValidationError) as portal:
        apply(customer, down_payment="1000.00")
    assert portal.value.message_dict["down_payment"] == counter.value.message_dict["down_payment"]


def test_another_merchants_product_is_refused(customer, other_merchant, today, row_counts):
    theirs = ProductFactory(merchant=other_merchant, price=Decimal("500.00"))
    before = row_counts()
    with pytest.raises(ValidationError) as refused:
        plan_apply(customer=customer, items=[{"product": theirs.pk}], number_of_installments=2,
                   installment_frequency="monthly")  # fmt: skip
    assert refused.value.message_dict == {"items": ["Item 1: no such product."]}
    assert row_counts() == before


def test_an_inactive_merchant_takes_no_application(merchant, customer, today, row_counts):
    merchant.is_active = False
    merchant.save(update_fields=["is_active"])
    before = row_counts()
    with pytest.raises(ValidationError) as refused:
        apply(customer)
    assert refused.value.message_dict == {"merchant": ["Viejos Recuerdos is not taking applications at the moment."]}
    assert row_counts() == before


def test_open_applications_are_capped_per_customer(settings, merchant, owner, customer, today, row_counts):
    settings.PORTAL_OPEN_APPLICATIONS_MAX = 2
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    plan_make(actor=owner, customer=customer)  # pending, but from the counter: not counted
    first = apply(customer)
    apply(customer)
    apply(CustomerFactory(merchant=merchant))  # another customer has their own count
    before = row_counts()
    with pytest.raises(ValidationError) as refused:
        apply(customer)
    assert refused.value.message_dict == {
        "customer": [
            "You already have 2 applications waiting for the shop's answer: wait for one of them before applying again."
        ]
    }
    assert row_counts() == before
    plan_reject(actor=owner, plan=first, reason="Out of stock")
    assert apply(customer).status == Status.PENDING


def test_the_cap_defaults_to_three(customer, today):
    for _ in range(3):
        apply(customer)
    with pytest.raises(ValidationError) as refused:
        apply(customer)
    assert list(refused.value.message_dict) == ["customer"]


# Deciding -------------------------------------------------------------------------------------------------


def test_approving_an_application_keeps_its_schedule_and_expects_the_down_payment(
    merchant, manager, clerk, customer, today, ledger_assert
):
    plan = apply(customer, down_payment="100.00")
    schedule = schedule_of(plan)
    assert [row[2] for row in schedule] == [Decimal("300.00")] * 3
    plan = plan_approve(actor=manager, plan=plan)
    assert (plan.status, plan.decided_by, plan.amount_paid) == (Status.ACTIVE, manager, Decimal("0.00"))
    assert schedule_of(plan) == schedule
    down = Payment.objects.get(plan=plan)
    assert (down.payment_number, down.amount, down.status, down.is_down_payment, down.received_by) == (
        1,
        Decimal("100.00"),
        Payment.Status.PENDING,
        True,
        None,
    )
    assert not PaymentAllocation.objects.filter(payment=down).exists()
    assert plan.remaining_balance == Decimal("1000.00")
    ledger_assert(plan)
    # The customer pays it at the counter: the clerk confirms it, and it is held as the down payment.
    payment_complete(actor=clerk, payment=down)
    plan.refresh_from_db()
    assert (plan.amount_paid, plan.remaining_balance, plan.last_payment_number) == (
        Decimal("100.00"),
        Decimal("900.00"),
        1,
    )
    assert list(PaymentAllocation.objects.filter(payment=down).values_list("kind", "installment", "amount")) == [
        ("down_payment", None, Decimal("100.00"))
    ]
    ledger_assert(plan)
    # Regular payments follow as number 2.
    assert payment_post(actor=clerk, plan=plan, amount="300.00").payment_number == 2
    ledger_assert(plan)


@pytest.mark.parametrize("how", ["fail", "void"])
def test_an_expected_down_payment_never_paid_is_owed_on_the_schedule(manager, customer, today, ledger_assert, how):
    plan = plan_approve(actor=manager, plan=apply(customer, down_payment="100.00"))
    down = Payment.objects.get(plan=plan)
    if how == "fail":
        payment_fail(actor=manager, payment=down, reason="The customer did not come.")
    else:
        payment_void(actor=manager, payment=down, reason="Recorded by mistake.")
    plan.refresh_from_db()
    assert [row[2] for row in schedule_of(plan)] == [Decimal("400.00"), Decimal("300.00"), Decimal("300.00")]
    assert (plan.amount_paid, plan.remaining_balance) == (Decimal("0.00"), Decimal("1000.00"))
    ledger_assert(plan)
    # Still collectable: the whole balance is paid on the rows and closes the plan.
    payment_post(actor=manager, plan=plan, amount="1000.00")
    plan.refresh_from_db()
    assert (plan.status, plan.remaining_balance) == (Status.COMPLETED, Decimal("0.00"))
    ledger_assert(plan)


def test_approving_an_application_with_nothing_down_records_no_payment(manager, customer, today, ledger_assert):
    plan = plan_approve(actor=manager, plan=apply(customer))
    assert plan.status == Status.ACTIVE
    assert not Payment.objects.filter(plan=plan).exists()
    ledger_assert(plan)


def test_approving_a_counter_application_still_records_the_down_payment_received(
    merchant, manager, clerk, customer, today
):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    plan = plan_approve(actor=manager, plan=plan_make(actor=clerk, customer=customer, start_date=today))
    down = Payment.objects.get(plan=plan)
    assert (down.status, down.received_by, plan.amount_paid) == (Payment.Status.COMPLETED, manager, Decimal("200.00"))


def test_rejecting_an_application_needs_the_reason_and_keeps_it(manager, customer, today):
    plan = apply(customer)
    with pytest.raises(ValidationError) as refused:
        plan_reject(actor=manager, plan=plan, reason="  ")
    assert refused.value.message_dict == {"reason": ["Say why the application is rejected."]}
    plan = plan_reject(actor=manager, plan=plan, reason="We no longer sell this sofa.")
    assert (plan.status, plan.status_reason, plan.decided_by) == (
        Status.REJECTED,
        "We no longer sell this sofa.",
        manager,
    )


# Pages ----------------------------------------------------------------------------------------------------

BADGE = '<span class="badge text-bg-info" data-origin="portal">Customer application</span>'


def test_the_approval_queue_marks_and_filters_the_customers_applications(
    client, settings, merchant, clerk, manager, customer, today
):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    counter = plan_make(actor=clerk, customer=customer)
    portal = apply(customer)
    client = signed_in(client, settings, manager)
    url = reverse("installments:plan-pending")
    body = html(client.get(url))
    assert counter.reference in body
    assert portal.reference in body
    assert body.count(BADGE) == 1
    assert body.index(counter.reference) < body.index(BADGE) and body.index(portal.reference) < body.index(BADGE)
    assert 'id="pending-filter"' in body
    assert '<option value="portal">Customer application</option>' in body
    only = html(client.get(url, {"origin": "portal"}))
    assert portal.reference in only
    assert counter.reference not in only
    counters = html(client.get(url, {"origin": "counter"}))
    assert (portal.reference in counters, counter.reference in counters) == (False, True)


def _queue_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_approval_queue_runs_as_many_queries_for_20_applications_as_for_2(
    client, settings, merchant, manager, today, django_assert_max_num_queries
):
    client = signed_in(client, settings, manager)
    url = reverse("installments:plan-pending")
    counts = []
    for size in (2, 20):
        for _ in range(size - InstallmentPlan.objects.count()):
            apply(CustomerFactory(merchant=merchant))
        with django_assert_max_num_queries(10):
            counts.append(_queue_queries(client, f"{url}?origin=portal"))
    assert counts[0] == counts[1]


def test_the_plan_list_marks_and_filters_by_origin(client, settings, owner, customer, today):
    counter = plan_make(actor=owner, customer=customer)
    portal = apply(customer)
    client = signed_in(client, settings, owner)
    body = html(client.get(reverse("installments:plan-list")))
    assert body.count(BADGE) == 1
    only = html(client.get(reverse("installments:plan-list"), {"origin": "portal"}))
    assert (portal.reference in only, counter.reference in only) == (True, False)
    both = html(client.get(reverse("installments:plan-list"), {"origin": "portal", "status": "active"}))
    assert "No plans here." in both


def test_the_plan_page_says_the_customer_applied_and_when(client, settings, manager, owner, customer, today):
    plan = apply(customer)
    client = signed_in(client, settings, manager)
    body = html(client.get(reverse("installments:plan-detail", args=[plan.pk])))
    assert "Applied for by the customer on 03/01/2026" in body
    assert BADGE in body
    counter = plan_make(actor=owner, customer=customer)
    assert "Applied for by the customer" not in html(client.get(reverse("installments:plan-detail", args=[counter.pk])))


def test_the_approval_page_tells_the_down_payment_is_expected(client, settings, manager, customer, today):
    plan = apply(customer, down_payment="100.00")
    client = signed_in(client, settings, manager)
    url = reverse("installments:plan-approve", args=[plan.pk])
    assert (
        f"Approve plan {plan.reference} for {customer.name}? It becomes active; its down payment of 100.00 is "
        "expected at the counter and is recorded as a payment to confirm when the customer pays it."
    ) in html(client.get(url))
    client.post(url)
    plan.refresh_from_db()
    assert plan.status == Status.ACTIVE
    assert Payment.objects.get(plan=plan).status == Payment.Status.PENDING


def test_rejecting_from_the_page_needs_a_reason(client, settings, manager, customer, today):
    plan = apply(customer)
    client = signed_in(client, settings, manager)
    url = reverse("installments:plan-reject", args=[plan.pk])
    assert "This field is required." in html(client.post(url, {"reason": ""}))
    client.post(url, {"reason": "Out of stock"})
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == (Status.REJECTED, "Out of stock")


# API ------------------------------------------------------------------------------------------------------

PLANS = "/api/installments/plans/"


def test_the_api_filters_plans_by_origin_and_shows_it(api_client, manager, owner, customer, other_owner, today):
    counter = plan_make(actor=owner, customer=customer)
    portal = apply(customer)
    theirs = apply(CustomerFactory(merchant=other_owner.merchant))
    api_client.force_authenticate(manager)
    body = api_client.get(f"{PLANS}?origin=portal").json()
    assert [(plan["reference"], plan["origin"]) for plan in body["results"]] == [(portal.reference, "portal")]
    assert theirs.pk not in [plan["id"] for plan in body["results"]]
    body = api_client.get(f"{PLANS}?origin=counter").json()
    assert [(plan["reference"], plan["origin"]) for plan in body["results"]] == [(counter.reference, "counter")]
    assert api_client.get(f"{PLANS}{portal.pk}/").json()["origin"] == "portal"
    refused = api_client.get(f"{PLANS}?origin=web")
    assert refused.status_code == 400
    assert list(refused.json()) == ["origin"]


def test_origin_is_read_only_on_the_api(api_client, owner, customer, today):
    api_client.force_authenticate(owner)
    plan = plan_make(actor=owner, customer=customer)
    response = api_client.patch(f"{PLANS}{plan.pk}/", {"origin": "portal"}, format="json")
    assert response.status_code == 400
    assert "origin" in response.json()
    plan.refresh_from_db()
    assert plan.origin == COUNTER


def test_the_api_approves_and_rejects_applications(api_client, manager, customer, today):
    api_client.force_authenticate(manager)
    approved, rejected = apply(customer, down_payment="100.00"), apply(customer)
    body = api_client.post(f"{PLANS}{approved.pk}/approve/").json()
    assert (body["status"], body["origin"], body["amount_paid"]) == ("active", "portal", "0.00")
    refused = api_client.post(f"{PLANS}{rejected.pk}/reject/", {}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["reason"]
    body = api_client.post(f"{PLANS}{rejected.pk}/reject/", {"reason": "Out of stock"}, format="json").json()
    assert (body["status"], body["status_reason"]) == ("rejected", "Out of stock")


def test_the_admin_filters_plans_by_origin(client, settings, superuser, customer, today):
    portal = apply(customer)
    client = signed_in(client, settings, superuser)
    body = html(client.get(reverse("admin:installments_installmentplan_changelist"), {"origin__exact": "portal"}))
    assert portal.reference in body
    assert "By origin" in body
    assert PlanItem.objects.filter(plan=portal).count() == 1
