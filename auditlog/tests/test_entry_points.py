"""One test per entry point: a page, the admin, the API, a job's set-based UPDATE, and the shell. Each checks the
entry the database wrote: its object, actor, role, source, business action, request context and diff."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from rest_framework_simplejwt.tokens import RefreshToken

import manage
from auditlog.models import Entry
from dailyrun.jobs import daily_jobs_run
from dailyrun.tasks import daily_jobs_catch_up_task
from installments.models import Installment
from installments.tests.factories import plan_make
from payments.models import Payment
from taqsit.celery import app
from taqsit.tests.pages import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(owner, customer, today):
    """1000.00, 200.00 down, 4 x 200.00 monthly from 2026-01-15: on 2026-03-01 #1 (due 15 Feb) is overdue."""
    return plan_make(actor=owner, customer=customer)


def entries(**filters) -> list[Entry]:
    return list(Entry.objects.filter(**filters).order_by("id"))


def test_a_payment_recorded_at_the_counter(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    settings.TRUSTED_PROXIES = 1  # the request id is the proxy's
    form = {
        "token": "web-pay-1",
        "amount": "200.00",
        "payment_date": "2026-03-01",
        "payment_method": "cash",
        "reference": "R-17",
        "notes": "",
    }

    response = client.post(
        reverse("payments:payment-create", args=[plan.pk]), form, HTTP_X_REQUEST_ID="counter-42", REMOTE_ADDR="10.1.2.3"
    )

    assert response.status_code == 302
    payment = Payment.objects.get(plan=plan, payment_number=2)
    [entry] = entries(object_type="payments.payment", object_id=str(payment.pk))
    assert (entry.operation, entry.source, entry.action) == ("insert", "web", "payment.post")
    assert (entry.actor_id, entry.role, entry.merchant_id, entry.plan_id) == (
        clerk.pk,
        "clerk",
        plan.merchant_id,
        plan.pk,
    )
    assert (entry.request_id, entry.ip) == ("counter-42", "10.1.2.3")
    assert entry.before is None
    assert {key: entry.after[key] for key in ("amount", "payment_number", "payment_method", "reference", "status")} == {
        "amount": Decimal("200.000"),
        "payment_number": 2,
        "payment_method": "cash",
        "reference": "R-17",
        "status": "completed",
    }
    assert entry.context == {
        "source": "web",
        "request_id": "counter-42",
        "ip": "10.1.2.3",
        "method": "POST",
        "path": f"/payments/new/{plan.pk}/",
        "actor": str(clerk.pk),
        "role": "clerk",
        "merchant": str(plan.merchant_id),
        "action": "payment.post",
    }
    # The same request, the same context: the payment, the installment it paid, the allocation that says so,
    # and the plan's payment counter and running total (one save, one entry).
    same_request = entries(context_id=entry.context_id)
    assert [(e.object_type, e.operation) for e in same_request] == [
        ("payments.payment", "insert"),
        ("installments.installment", "update"),
        ("payments.paymentallocation", "insert"),
        ("installments.installmentplan", "update"),
    ]
    assert [(e.before, e.after) for e in same_request if e.object_type == "installments.installmentplan"] == [
        ({"amount_paid": Decimal("200.000"), "last_payment_number": 1},
         {"amount_paid": Decimal("400.000"), "last_payment_number": 2}),
    ]  # fmt: skip
    assert {e.action for e in same_request} == {"payment.post"}
    assert same_request[3].plan_id == plan.pk  # an allocation's plan is its payment's
    first = Installment.objects.get(plan=plan, number=1)
    [row] = entries(object_type="installments.installment", object_id=str(first.pk), context_id=entry.context_id)
    assert (row.before["status"], row.after["status"]) == ("pending", "paid")
    assert (row.before["amount_paid"], row.after["amount_paid"]) == (Decimal("0.000"), Decimal("200.000"))


def test_a_plan_approved_by_an_admin_action(client, settings, superuser, owner, merchant, customer, today):
    merchant.requires_approval = True
    merchant.save(update_fields=["requires_approval"])
    plan = plan_make(actor=owner, customer=customer)
    client = signed_in(client, settings, superuser)

    response = client.post(
        reverse("admin:installments_installmentplan_changelist"),
        {"action": "approve_plans", "_selected_action": [str(plan.pk)], "select_across": "0", "index": "0"},
    )

    assert response.status_code == 302
    changes = entries(object_type="installments.installmentplan", object_id=str(plan.pk), operation="update")
    noon = "2026-03-01T12:00:00+00:00"
    assert [(e.before, e.after) for e in changes] == [
        ({"decided_at": None, "decided_by_id": None}, {"decided_at": noon, "decided_by_id": str(superuser.pk)}),
        ({"status": "pending", "status_changed_at": None}, {"status": "active", "status_changed_at": noon}),
        # the down payment, payment number 1
        ({"amount_paid": Decimal("0.000"), "last_payment_number": 0},
         {"amount_paid": Decimal("200.000"), "last_payment_number": 1}),
    ]  # fmt: skip
    entry = changes[1]
    assert (entry.source, entry.action, entry.actor_id, entry.role) == (
        "admin",
        "plan.approve",
        superuser.pk,
        "platform_admin",
    )
    # The merchant is the plan's (its owner reads this), not the platform admin's (none).
    assert (entry.merchant_id, entry.context["merchant"]) == (merchant.pk, None)
    assert {(e.source, e.action, e.actor_id) for e in changes} == {("admin", "plan.approve", superuser.pk)}
    # The down payment the approval recorded carries the same action.
    [down] = entries(object_type="payments.payment", plan_id=plan.pk)
    assert (down.action, down.source, down.after["is_down_payment"], down.after["amount"]) == (
        "plan.approve",
        "admin",
        True,
        Decimal("200.000"),
    )


def test_a_payment_posted_through_the_api(api_client, settings, manager, plan):
    settings.TRUSTED_PROXIES = 1  # the request id is the proxy's
    token = RefreshToken.for_user(manager).access_token
    body = {"plan": str(plan.pk), "amount": "150.00", "payment_date": "2026-02-20", "payment_method": "card"}

    response = api_client.post(
        reverse("api:payment-list"),
        body,
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_REQUEST_ID="api-7",
    )

    assert response.status_code == 201, response.content
    [entry] = entries(object_type="payments.payment", object_id=response.json()["id"])
    # The actor came from the JWT, known only once DRF authenticated the request in the view.
    assert (entry.source, entry.action, entry.actor_id, entry.role, entry.request_id, entry.ip) == (
        "api",
        "payment.post",
        manager.pk,
        "manager",
        "api-7",
        "127.0.0.1",
    )
    assert (entry.after["amount"], entry.after["payment_method"], entry.after["received_by_id"]) == (
        Decimal("150.000"),
        "card",
        str(manager.pk),
    )
    assert entry.context["path"] == "/api/installments/payments/"


def test_the_daily_job_marking_installments_overdue(owner, customer, plan):
    second = plan_make(actor=owner, customer=customer, start_date=date(2026, 1, 10))
    overdue = [
        Installment.objects.get(plan=plan, number=1),  # due 15 Feb
        Installment.objects.get(plan=second, number=1),  # due 10 Feb
    ]

    results = daily_jobs_run(merchant=plan.merchant, day=date(2026, 3, 1))

    assert results["installments_mark_overdue"] == 2
    marked = entries(object_type="installments.installment", action="installments.mark_overdue")
    # One set-based UPDATE, one entry per row it changed, each with only what changed.
    assert sorted(entry.object_id for entry in marked) == sorted(str(row.pk) for row in overdue)
    for entry in marked:
        assert (entry.operation, entry.source, entry.actor_id, entry.role) == ("update", "job", None, "")
        assert (entry.before, entry.after) == ({"status": "pending"}, {"status": "overdue"})
        assert entry.context == {"source": "job", "job": "daily_jobs_run", "action": "installments.mark_overdue"}
        assert entry.merchant_id == plan.merchant_id
    assert {entry.plan_id for entry in marked} == {plan.pk, second.pk}
    assert len({entry.context_id for entry in marked}) == 1


def test_a_job_run_by_a_celery_task(plan):
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        daily_jobs_catch_up_task.apply(args=[str(plan.merchant_id)], task_id="task-1")
    finally:
        app.conf.task_always_eager = eager

    [entry] = entries(object_type="installments.installment", action="installments.mark_overdue")
    assert (entry.source, entry.actor_id, entry.before, entry.after) == (
        "job",
        None,
        {"status": "pending"},
        {"status": "overdue"},
    )
    assert entry.context == {
        "source": "job",
        "task": "notifications.tasks.daily_jobs_catch_up_task",
        "task_id": "task-1",
        "job": "daily_jobs_run",
        "action": "installments.mark_overdue",
    }


def test_a_customer_changed_from_the_shell(owner, customer, monkeypatch):
    monkeypatch.setattr("taqsit.audit._os_user", lambda: "operator")
    # A command closes the connections when it ends; this one is the test's, holding its transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    code = (
        "from customers.models import Customer; from customers.services import customer_update; "
        "from taqsit.models import User; "
        f"customer_update(actor=User.objects.get(pk='{owner.pk}'), customer=Customer.objects.get(pk='{customer.pk}'),"
        " name='Amina H. Haddad', notes='Moved to Lyon.')"
    )

    manage.main(["manage.py", "shell", "-c", code])

    [entry] = entries(object_type="customers.customer", object_id=str(customer.pk), operation="update")
    assert (entry.source, entry.action, entry.actor_id, entry.role, entry.customer_id) == (
        "shell",
        "customer.update",
        owner.pk,
        "owner",
        customer.pk,
    )
    assert (entry.before, entry.after) == (
        {"name": "Amina Haddad", "notes": ""},
        {"name": "Amina H. Haddad", "notes": "Moved to Lyon."},
    )
    assert entry.context == {
        "source": "shell",
        "command": "shell",
        "os_user": "operator",
        "action": "customer.update",
        "actor": str(owner.pk),
        "role": "owner",
        "merchant": str(customer.merchant_id),
    }
    assert (entry.request_id, entry.ip) == ("", None)


def test_what_happens_outside_any_entry_point_is_captured_without_context(merchant):
    merchant.grace_days = 4
    merchant.save(update_fields=["grace_days", "updated_at"])

    [entry] = entries(object_type="taqsit.merchant", operation="update")
    assert (entry.before, entry.after, entry.source, entry.action, entry.actor_id, entry.context) == (
        {"grace_days": 0},
        {"grace_days": 4},
        "",
        "",
        None,
        None,
    )
    assert uuid.UUID(entry.object_id) == merchant.pk
