"""The platform admin: superusers only, history read-only, and every write through the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from installments.models import Installment, InstallmentPlan, LateFee, Product
from installments.services import plan_approve
from installments.tests.factories import ProductFactory, late_fee_make, plan_make
from payments.models import Payment, PaymentAllocation
from payments.services import payment_post
from taqsit.models import Merchant, User

pytestmark = pytest.mark.django_db

PLAN_STATUS = InstallmentPlan.Status


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def action_post(client, model, action: str, objects, *, reason: str = ""):
    """What the changelist's action bar posts: the action, the ticked rows and the reason box.

    The redirect back to the changelist is followed, so its messages are shown (and consumed) there.
    """
    url = admin_url(model, "changelist")
    response = client.post(
        url,
        {
            "action": action,
            "_selected_action": [str(obj.pk) for obj in objects],
            "select_across": "0",
            "index": "0",
            "reason": reason,
        },
        follow=True,
    )
    assert response.redirect_chain == [(url, 302)]
    return response


def form_data(response) -> dict:
    """The change form's current values as a browser would post them back, with the inlines' management forms."""
    form = response.context["adminform"].form
    data: dict = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The test client speaks http; production settings would redirect every request to https.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def ledger(merchant, owner, customer):
    """An active plan (1000.00, 200.00 down, 4 x 200.00) with a 10.00 late fee on installment 1 and a payment of
    300.00 allocated to it: 10.00 fee, 200.00 to installment 1, 90.00 to installment 2."""
    plan = plan_make(actor=owner, customer=customer)
    first = plan.installments.get(number=1)
    fee = late_fee_make(installment=first, period=date(2026, 3, 1), amount=Decimal("10.00"))
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("300.00"), payment_date=date(2026, 3, 10))
    return SimpleNamespace(
        plan=plan,
        installment=first,
        fee=fee,
        payment=payment,
        allocation=payment.allocations.order_by("created_at", "id").first(),
        product=ProductFactory(merchant=merchant, name="Fridge", sku="FR-1", price=Decimal("800.00")),
    )


# Every page renders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "pick"),
    [
        (Merchant, lambda ledger, users: ledger.plan.merchant),
        (User, lambda ledger, users: users.owner),
        (Customer, lambda ledger, users: ledger.plan.customer),
        (Product, lambda ledger, users: ledger.product),
        (InstallmentPlan, lambda ledger, users: ledger.plan),
        (Installment, lambda ledger, users: ledger.installment),
        (LateFee, lambda ledger, users: ledger.fee),
        (Payment, lambda ledger, users: ledger.payment),
        (PaymentAllocation, lambda ledger, users: ledger.allocation),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_every_changelist_and_change_page_renders_for_a_platform_admin(admin_client, ledger, owner, model, pick):
    obj = pick(ledger, SimpleNamespace(owner=owner))

    changelist = admin_client.get(admin_url(model, "changelist"))
    change = admin_client.get(admin_url(model, "change", obj.pk))

    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    assert change.status_code == 200
    assert change.context["original"] == obj


def test_plan_change_page_shows_items_installments_payments_and_summary(admin_client, ledger):
    response = admin_client.get(admin_url(InstallmentPlan, "change", ledger.plan.pk))

    inlines = {inline.opts.model: inline for inline in response.context["inline_admin_formsets"]}
    assert set(inlines) == {InstallmentPlan.items.rel.related_model, Installment, Payment}
    assert [form.original.number for form in inlines[Installment]] == [1, 2, 3, 4]
    assert [form.original.payment_number for form in inlines[Payment]] == [1, 2]
    for inline in inlines.values():
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission
    content = response.content.decode()
    # The summary: 1010.00 owed with the fee, 500.00 paid (200.00 down + 300.00), 510.00 left.
    assert "<tr><th>Amount paid</th><td>500.00 USD</td></tr>" in content
    assert "<tr><th>Remaining balance</th><td>510.00 USD</td></tr>" in content
    assert "<tr><th>Installments paid</th><td>1 / 4</td></tr>" in content


@pytest.mark.parametrize("count", [3, 30])
def test_plan_changelist_runs_a_constant_number_of_queries(
    admin_client, merchant, owner, customer, django_assert_max_num_queries, count
):
    for _index in range(count):
        plan_make(actor=owner, customer=customer)

    with django_assert_max_num_queries(8):
        response = admin_client.get(admin_url(InstallmentPlan, "changelist"))
    # The ledger's lists too: every plan has its down payment and four installments.
    for model, rows in ((Payment, count), (Installment, 4 * count)):
        with django_assert_max_num_queries(8):
            listed = admin_client.get(admin_url(model, "changelist"))
        assert listed.context["cl"].result_count == rows

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert len(rows) == count
    assert {row.next_due_date for row in rows} == {date(2026, 2, 15)}
    content = response.content.decode()
    assert 'name="reason"' in content
    assert "P-000001" in content
    assert f"P-{count:06d}" in content
    # total payable, amount paid (the down payment) and what is left, rounded to the cent with the currency.
    assert '<td class="field-total_payable_display">1000.00 USD</td>' in content
    assert '<td class="field-amount_paid_display">200.00 USD</td>' in content
    assert '<td class="field-remaining_balance_display">800.00 USD</td>' in content


def test_plan_changelist_filters_by_merchant_and_finds_a_plan_by_its_reference(
    admin_client, owner, customer, other_owner, other_merchant
):
    own = [plan_make(actor=owner, customer=customer) for _index in range(3)]
    other = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))

    by_merchant = admin_client.get(admin_url(InstallmentPlan, "changelist"), {"merchant": str(other_merchant.pk)})
    by_reference = admin_client.get(admin_url(InstallmentPlan, "changelist"), {"q": "P-000002"})
    by_name = admin_client.get(admin_url(InstallmentPlan, "changelist"), {"q": "Amina"})

    assert list(by_merchant.context["cl"].result_list) == [other]
    assert {plan.pk for plan in by_reference.context["cl"].result_list} == {own[1].pk}
    assert {plan.pk for plan in by_name.context["cl"].result_list} == {plan.pk for plan in own}


# Platform admins only -------------------------------------------------------------------------------------


def test_a_merchant_owner_gets_no_admin_access_even_as_staff(client, owner, ledger):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)

    for url in (
        reverse("admin:index"),
        admin_url(InstallmentPlan, "changelist"),
        admin_url(InstallmentPlan, "change", ledger.plan.pk),
        admin_url(Customer, "add"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url

    # And every ModelAdmin refuses on its own, whatever the site does.
    request = RequestFactory().get("/")
    request.user = owner
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"taqsit", "customers", "installments", "payments"}:
            assert not model_admin.has_module_permission(request), model
            assert not model_admin.has_view_permission(request), model
            assert not model_admin.has_change_permission(request), model


# Lifecycle actions ----------------------------------------------------------------------------------------


@pytest.fixture
def pending_plan(merchant, owner, customer):
    merchant.requires_approval = True
    merchant.save()
    return plan_make(actor=owner, customer=customer)


def test_approve_action_activates_a_pending_plan_and_records_its_down_payment(admin_client, superuser, pending_plan):
    assert pending_plan.status == PLAN_STATUS.PENDING

    response = action_post(admin_client, InstallmentPlan, "approve_plans", [pending_plan])

    assert messages_of(response) == ["Approved 1 installment plan."]
    pending_plan.refresh_from_db()
    assert pending_plan.status == PLAN_STATUS.ACTIVE
    assert pending_plan.decided_by == superuser
    assert pending_plan.amount_paid == Decimal("200.00")
    down = Payment.objects.get(plan=pending_plan)
    assert (down.payment_number, down.amount, down.is_down_payment, down.received_by) == (
        1,
        Decimal("200.00"),
        True,
        superuser,
    )


def test_approve_action_refuses_an_active_plan_with_the_services_message(admin_client, owner, customer):
    plan = plan_make(actor=owner, customer=customer)

    response = action_post(admin_client, InstallmentPlan, "approve_plans", [plan])

    assert messages_of(response) == ["P-000001: Plan P-000001 is active: it cannot be approved."]
    plan.refresh_from_db()
    assert plan.status == PLAN_STATUS.ACTIVE
    assert plan.decided_by is None
    assert Payment.objects.filter(plan=plan).count() == 1


def test_approve_action_reports_each_refusal_and_counts_the_rest(admin_client, owner, customer, pending_plan):
    active = plan_approve(actor=owner, plan=plan_make(actor=owner, customer=customer))

    response = action_post(admin_client, InstallmentPlan, "approve_plans", [pending_plan, active])

    assert sorted(messages_of(response)) == [
        "Approved 1 installment plan.",
        "P-000002: Plan P-000002 is active: it cannot be approved.",
    ]
    pending_plan.refresh_from_db()
    assert pending_plan.status == PLAN_STATUS.ACTIVE


def test_reject_action_needs_a_reason(admin_client, superuser, pending_plan):
    refused = action_post(admin_client, InstallmentPlan, "reject_plans", [pending_plan], reason="  ")

    assert messages_of(refused) == ["P-000001: Say why the application is rejected."]
    pending_plan.refresh_from_db()
    assert pending_plan.status == PLAN_STATUS.PENDING

    done = action_post(admin_client, InstallmentPlan, "reject_plans", [pending_plan], reason="No income proof")

    assert messages_of(done) == ["Rejected 1 installment plan."]
    pending_plan.refresh_from_db()
    assert (pending_plan.status, pending_plan.status_reason, pending_plan.decided_by) == (
        PLAN_STATUS.REJECTED,
        "No income proof",
        superuser,
    )
    assert not Payment.objects.filter(plan=pending_plan).exists()


def test_cancel_and_mark_defaulted_actions_call_the_services(admin_client, owner, customer):
    first = plan_make(actor=owner, customer=customer)
    second = plan_make(actor=owner, customer=customer)

    no_reason = action_post(admin_client, InstallmentPlan, "cancel_plans", [first])
    cancelled = action_post(admin_client, InstallmentPlan, "cancel_plans", [first], reason="Goods returned")
    defaulted = action_post(admin_client, InstallmentPlan, "mark_plans_defaulted", [second])

    assert messages_of(no_reason) == ["P-000001: Say why the plan is cancelled."]
    assert messages_of(cancelled) == ["Cancelled 1 installment plan."]
    assert messages_of(defaulted) == ["Marked defaulted 1 installment plan."]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.status_reason) == (PLAN_STATUS.CANCELLED, "Goods returned")
    assert (second.status, second.status_reason) == (PLAN_STATUS.DEFAULTED, "Overdue past the merchant's limit.")


def test_plan_change_page_saves_only_the_notes(admin_client, ledger):
    url = admin_url(InstallmentPlan, "change", ledger.plan.pk)
    data = form_data(admin_client.get(url))
    data.update(notes="Customer asked for reminders by SMS", total_amount="5.00", status="completed")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    ledger.plan.refresh_from_db()
    assert ledger.plan.notes == "Customer asked for reminders by SMS"
    assert (ledger.plan.total_amount, ledger.plan.status) == (Decimal("1000.000"), PLAN_STATUS.ACTIVE)


def test_plans_cannot_be_added_or_deleted_in_the_admin(admin_client, ledger):
    assert admin_client.get(admin_url(InstallmentPlan, "add")).status_code == 403
    assert admin_client.post(admin_url(InstallmentPlan, "delete", ledger.plan.pk), {"post": "yes"}).status_code == 403
    assert InstallmentPlan.objects.filter(pk=ledger.plan.pk).exists()


# The ledger is read-only ----------------------------------------------------------------------------------


def test_refund_action_reverses_the_allocations(admin_client, superuser, ledger):
    originals = list(ledger.payment.allocations.order_by("created_at", "id"))
    assert [(line.kind, line.amount) for line in originals] == [
        ("late_fee", Decimal("10.000")),
        ("principal", Decimal("200.000")),
        ("principal", Decimal("90.000")),
    ]

    refused = action_post(admin_client, Payment, "refund_payments", [ledger.payment])
    response = action_post(admin_client, Payment, "refund_payments", [ledger.payment], reason="Paid twice")

    assert messages_of(refused) == ["Payment 2 of P-000001: Give the reason."]
    assert messages_of(response) == ["Refunded 1 payment."]
    ledger.payment.refresh_from_db()
    assert (ledger.payment.status, ledger.payment.reversal_reason, ledger.payment.reversed_by) == (
        Payment.Status.REFUNDED,
        "Paid twice",
        superuser,
    )
    reversals = {line.reversal_of_id: line.amount for line in ledger.payment.allocations.filter(amount__lt=0)}
    assert reversals == {line.pk: -line.amount for line in originals}
    ledger.plan.refresh_from_db()
    assert ledger.plan.amount_paid == Decimal("200.000")
    rows = {row.number: row for row in ledger.plan.installments.all()}
    assert (rows[1].amount_paid, rows[1].late_fee_paid, rows[2].amount_paid) == (
        Decimal("0"),
        Decimal("0"),
        Decimal("0"),
    )


def test_void_action_refuses_a_payment_already_refunded(admin_client, ledger):
    action_post(admin_client, Payment, "refund_payments", [ledger.payment], reason="Paid twice")

    response = action_post(admin_client, Payment, "void_payments", [ledger.payment], reason="Mistake")

    assert messages_of(response) == ["Payment 2 of P-000001: Payment 2 is refunded."]
    ledger.payment.refresh_from_db()
    assert ledger.payment.status == Payment.Status.REFUNDED


@pytest.mark.parametrize(
    ("model", "attribute", "field"),
    [
        (Payment, "payment", "amount"),
        (PaymentAllocation, "allocation", "amount"),
        (Installment, "installment", "amount_due"),
        (LateFee, "fee", "amount"),
    ],
    ids=["payment", "allocation", "installment", "late-fee"],
)
def test_money_rows_cannot_be_added_changed_or_deleted(admin_client, ledger, model, attribute, field):
    obj = getattr(ledger, attribute)
    before = getattr(obj, field)

    add = admin_client.get(admin_url(model, "add"))
    delete = admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
    change = admin_client.post(admin_url(model, "change", obj.pk), {field: "1.00"})
    view = admin_client.get(admin_url(model, "change", obj.pk))
    changelist = admin_client.get(admin_url(model, "changelist"))

    assert (add.status_code, delete.status_code, change.status_code) == (403, 403, 403)
    obj.refresh_from_db()
    assert getattr(obj, field) == before
    assert view.context["has_change_permission"] is False
    assert view.context["adminform"].form.fields == {}
    action_form = changelist.context["action_form"]
    actions = [name for name, _label in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in actions


# Customers, products and merchants go through the services ------------------------------------------------


def customer_post_data(merchant, **overrides) -> dict:
    data = {
        "merchant": str(merchant.pk),
        "name": "Omar Khalil",
        "phone": "(415) 555-0142",
        "email": "",
        "national_id": "",
        "address": "",
        "language": "ar",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_adding_a_customer_stores_the_phone_in_e164(admin_client, superuser, merchant):
    response = admin_client.post(admin_url(Customer, "add"), customer_post_data(merchant))

    assert response.status_code == 302
    customer = Customer.objects.get(name="Omar Khalil")
    assert (customer.phone, customer.merchant, customer.language, customer.created_by) == (
        "+14155550142",
        merchant,
        "ar",
        superuser,
    )


def test_adding_a_customer_with_a_taken_phone_is_a_form_error(admin_client, merchant, customer):
    local = f"({customer.phone[2:5]}) {customer.phone[5:8]}-{customer.phone[8:]}"

    response = admin_client.post(admin_url(Customer, "add"), customer_post_data(merchant, phone=local))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"] == [
        f"Amina Haddad already has the phone {customer.phone}."
    ]
    assert Customer.objects.count() == 1


def test_an_unreadable_phone_is_a_form_error(admin_client, merchant):
    response = admin_client.post(admin_url(Customer, "add"), customer_post_data(merchant, phone="12"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"] == ["'12' is not a valid phone number for US."]
    assert not Customer.objects.exists()


def test_changing_a_customer_goes_through_the_service(admin_client, customer):
    url = admin_url(Customer, "change", customer.pk)
    data = form_data(admin_client.get(url))
    data.update(name="  Amina H. Haddad ", phone="415 555 0199")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Amina H. Haddad", "+14155550199")


def test_adding_a_product_checks_the_currency_and_the_sku(admin_client, merchant):
    ProductFactory(merchant=merchant, name="Fridge", sku="FR-1")
    data = {"merchant": str(merchant.pk), "name": "Oven", "sku": "FR-1", "price": "450.005", "is_active": "on"}

    refused = admin_client.post(admin_url(Product, "add"), data)
    added = admin_client.post(admin_url(Product, "add"), {**data, "sku": "OV-1", "price": "450.50"})

    errors = refused.context["adminform"].form.errors
    assert errors["sku"] == ["The SKU FR-1 is already used by Fridge."]
    assert errors["price"] == ["450.005 has more decimal places than USD allows (2)."]
    assert added.status_code == 302
    assert Product.objects.get(sku="OV-1").price == Decimal("450.50")


def test_merchant_policy_errors_are_form_errors(admin_client, merchant):
    url = admin_url(Merchant, "change", merchant.pk)
    data = form_data(admin_client.get(url))
    data.update(late_fee_method="fixed", late_fee_amount="0")

    refused = admin_client.post(url, data)
    saved = admin_client.post(url, {**data, "late_fee_amount": "5.00", "grace_days": "3"})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["late_fee_amount"] == [
        "A fixed late fee needs an amount greater than zero."
    ]
    assert saved.status_code == 302
    merchant.refresh_from_db()
    assert (merchant.late_fee_method, merchant.late_fee_amount, merchant.grace_days) == (
        "fixed",
        Decimal("5.000"),
        3,
    )


def test_merchant_currency_is_read_only_once_it_has_plans(admin_client, ledger):
    response = admin_client.get(admin_url(Merchant, "change", ledger.plan.merchant_id))

    assert "currency" not in response.context["adminform"].form.fields
    assert "name" in response.context["adminform"].form.fields


def test_the_last_owner_cannot_be_demoted_in_the_user_admin(admin_client, owner):
    url = admin_url(User, "change", owner.pk)
    data = form_data(admin_client.get(url))
    data.update(role="clerk")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"] == ["A merchant needs at least one active owner."]
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_a_service_refusal_at_save_is_an_error_message_and_nothing_is_written(admin_client, merchant, monkeypatch):
    """The form checks what the service checks; if the service still refuses (a race), nothing is saved."""

    def refuse(**kwargs):
        raise ValidationError({"phone": "A customer with the phone +14155550142 already exists."})

    monkeypatch.setattr("customers.admin.customer_create", refuse)
    url = admin_url(Customer, "add")

    response = admin_client.post(url, customer_post_data(merchant), follow=True)

    assert response.redirect_chain == [(url, 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "A customer with the phone +14155550142 already exists."
    ]
    assert not Customer.objects.exists()
    assert not LogEntry.objects.exists()


def test_adding_a_member_of_staff_needs_a_merchant(admin_client, merchant):
    data = {
        "username": "cashier",
        "usable_password": "true",
        "password1": "Counter-Pass-2026",
        "password2": "Counter-Pass-2026",
        "role": "clerk",
        "email": "cashier@example.com",
    }

    refused = admin_client.post(admin_url(User, "add"), data)
    added = admin_client.post(admin_url(User, "add"), {**data, "merchant": str(merchant.pk)})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["merchant"] == [
        "A member of staff belongs to a merchant (platform admins: createsuperuser)."
    ]
    assert added.status_code == 302
    user = User.objects.get(username="cashier")
    assert (user.merchant, user.role, user.is_superuser) == (merchant, "clerk", False)
    assert user.check_password("Counter-Pass-2026")
