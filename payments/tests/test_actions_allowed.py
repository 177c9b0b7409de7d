"""A payment's buttons (confirm, failed, refund, void) show exactly where the services accept its status: both
read ``PAYMENT_ACTION_STATUSES``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from installments.tests.factories import plan_make
from payments.models import PAYMENT_ACTION_STATUSES, Payment
from payments.services import payment_complete, payment_fail, payment_post, payment_refund, payment_void

pytestmark = pytest.mark.django_db

SERVICES = {
    "complete": lambda actor, payment: payment_complete(actor=actor, payment=payment),
    "fail": lambda actor, payment: payment_fail(actor=actor, payment=payment, reason="Cheque bounced"),
    "refund": lambda actor, payment: payment_refund(actor=actor, payment=payment, reason="Goods returned"),
    "void": lambda actor, payment: payment_void(actor=actor, payment=payment, reason="Recorded in error"),
}


def _payment_in(status: str, *, actor, plan, today) -> Payment:
    """A payment brought to ``status`` the way the counter does it."""
    pending = status in (Payment.Status.PENDING, Payment.Status.FAILED)
    payment = payment_post(
        actor=actor,
        plan=plan,
        amount=Decimal("100.00"),
        payment_date=today,
        payment_method="cheque",
        status=Payment.Status.PENDING if pending else Payment.Status.COMPLETED,
    )
    if status == Payment.Status.FAILED:
        payment = payment_fail(actor=actor, payment=payment, reason="Cheque bounced")
    elif status == Payment.Status.REFUNDED:
        payment = payment_refund(actor=actor, payment=payment, reason="Goods returned")
    elif status == Payment.Status.VOIDED:
        payment = payment_void(actor=actor, payment=payment, reason="Recorded in error")
    return payment


@pytest.mark.parametrize("status", Payment.Status.values)
@pytest.mark.parametrize("action", sorted(SERVICES))
def test_a_payment_button_shows_exactly_where_the_service_accepts_the_status(manager, customer, today, status, action):
    plan = plan_make(actor=manager, customer=customer)
    payment = _payment_in(status, actor=manager, plan=plan, today=today)

    shown = action in payment.status_actions
    try:
        SERVICES[action](manager, payment)
    except ValidationError as exc:
        refused_for_status = "status" in exc.error_dict
    else:
        refused_for_status = False

    assert payment.status == status
    assert shown is not refused_for_status
    assert shown is (status in PAYMENT_ACTION_STATUSES[action])


def test_the_plan_page_offers_each_payment_its_own_actions(client, manager, customer, today):
    plan = plan_make(actor=manager, customer=customer)
    pending = _payment_in(Payment.Status.PENDING, actor=manager, plan=plan, today=today)
    completed = _payment_in(Payment.Status.COMPLETED, actor=manager, plan=plan, today=today)
    client.force_login(manager)

    body = client.get(reverse("installments:plan-detail", args=[plan.pk])).content.decode()

    offered = {
        (payment.payment_number, name)
        for payment in (pending, completed)
        for name in ("complete", "fail", "refund", "void")
        if reverse(f"payments:payment-{name}", args=[payment.pk]) in body
    }
    assert offered == {
        (pending.payment_number, "complete"),
        (pending.payment_number, "fail"),
        (pending.payment_number, "void"),
        (completed.payment_number, "refund"),
        (completed.payment_number, "void"),
    }
