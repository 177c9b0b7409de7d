"""Payments at the counter: the pre-filled form, idempotent posting, errors that keep the input, the printable
receipt, refund and void."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from installments.models import InstallmentPlan
from installments.services import plan_cancel
from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from taqsit.tests.factories import TEST_PASSWORD
from taqsit.tests.pages import html, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(owner, customer, today):
    """1000.00, 200.00 down, 4 x 200.00 from 2026-01-15: on 2026-03-01 #1 (due 15 Feb) is overdue."""
    return plan_make(actor=owner, customer=customer)


def _form_value(body: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', body).group(1)


def pay(*, amount="200.00", token="web-pay-1", **extra) -> dict:  # noqa: S107
    return {
        "token": token,
        "amount": amount,
        "payment_date": "2026-03-01",
        "payment_method": "cash",
        "reference": "",
        "notes": "",
        **extra,
    }


def test_the_form_is_pre_filled_with_what_is_overdue(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    body = html(client.get(reverse("payments:payment-create", args=[plan.pk])))
    assert _form_value(body, "amount") == "200.00"
    assert _form_value(body, "payment_date") == "2026-03-01"
    assert _form_value(body, "token").startswith("web-")
    # Each form gets its own token.
    assert _form_value(html(client.get(reverse("payments:payment-create", args=[plan.pk]))), "token") != _form_value(
        body, "token"
    )


def test_with_nothing_overdue_the_next_installment_is_offered(client, settings, owner, clerk, customer, today):
    plan = plan_make(actor=owner, customer=customer, start_date=date(2026, 2, 20), total_amount=Decimal("700.00"))
    body = html(signed_in(client, settings, clerk).get(reverse("payments:payment-create", args=[plan.pk])))
    assert _form_value(body, "amount") == "125.00"


def test_recording_a_payment_leads_to_its_receipt(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    response = client.post(
        reverse("payments:payment-create", args=[plan.pk]),
        pay(amount="250.00", payment_method="card", reference="POS-7781"),
        follow=True,
    )
    payment = Payment.objects.get(plan=plan, payment_number=2)
    assert response.redirect_chain[-1][0] == reverse("payments:payment-receipt", args=[payment.pk])
    assert (payment.amount, payment.payment_method, payment.reference, payment.received_by) == (
        Decimal("250.00"),
        "card",
        "POS-7781",
        clerk,
    )
    body = html(response)
    assert f"Payment 2 of plan {plan.reference} was recorded." in body
    assert 'data-receipt="amount">$250.00<' in body
    assert 'data-receipt="remaining">$550.00<' in body
    assert f"No. {plan.reference}-2" in body
    assert "Viejos Recuerdos" in body
    assert "Amina Haddad" in body
    assert "#1 · 02/15/2026</td><td>Principal</td>" in body
    assert "#2 · 03/15/2026</td><td>Principal</td>" in body
    assert 'href="/static/css/print.css" media="print"' in body
    assert "data-print" in body


def test_a_double_click_or_a_retry_records_one_payment(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-create", args=[plan.pk])
    first = client.post(url, pay())
    second = client.post(url, pay())
    assert first["Location"] == second["Location"]
    assert Payment.objects.filter(plan=plan).count() == 2  # the down payment and this one
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("400.00")


def test_a_token_reused_for_another_amount_is_refused_with_a_fresh_token(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-create", args=[plan.pk])
    client.post(url, pay())
    response = client.post(url, pay(amount="150.00"))
    body = html(response)
    assert "This idempotency key was already used for a different payment." in body
    assert _form_value(body, "token") not in ("", "web-pay-1")
    assert _form_value(body, "amount") == "150.00"
    assert Payment.objects.filter(plan=plan).count() == 2


def test_an_overpayment_is_refused_and_the_form_keeps_its_input(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    response = client.post(
        reverse("payments:payment-create", args=[plan.pk]), pay(amount="900.00", reference="Cheque 55")
    )
    assert response.status_code == 200
    body = html(response)
    assert f"900.00 exceeds the remaining balance 800.00 of plan {plan.reference}." in body
    assert 'id="id_amount_error"' in body
    assert _form_value(body, "amount") == "900.00"
    assert _form_value(body, "reference") == "Cheque 55"
    assert _form_value(body, "token") == "web-pay-1"
    assert Payment.objects.filter(plan=plan).count() == 1


def test_a_clerk_of_a_spanish_shop_reads_the_refusal_in_spanish(client, settings, merchant, clerk, plan):
    merchant.language = "es"
    merchant.save(update_fields=["language"])
    client = signed_in(client, settings, None)
    client.post(reverse("login"), {"username": "clerk", "password": TEST_PASSWORD})

    # A Spanish page reads amounts the Spanish way (1.200,50).
    response = client.post(reverse("payments:payment-create", args=[plan.pk]), pay(amount="900,00"))

    assert response.status_code == 200
    body = html(response)
    assert '<html lang="es" dir="ltr">' in body
    assert (
        '<div class="invalid-feedback d-block" id="id_amount_error">'
        f"900.00 supera el saldo pendiente 800.00 del plan {plan.reference}.</div>"
    ) in body
    assert "exceeds the remaining balance" not in body
    assert _form_value(body, "amount") == "900,00"
    assert Payment.objects.filter(plan=plan).count() == 1


def test_a_closed_plan_takes_no_payment(client, settings, owner, clerk, plan):
    plan_cancel(actor=owner, plan=plan, reason="Returned")
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-create", args=[plan.pk])
    body = html(client.get(url))
    assert "This plan is Cancelled: it takes no payments." in body
    assert 'name="amount"' not in body
    response = client.post(url, pay())
    assert f"Plan {plan.reference} is cancelled: it takes no payments." in html(response)
    assert Payment.objects.filter(plan=plan).count() == 1


def test_a_manager_refunds_a_payment_after_confirming(client, settings, owner, manager, plan):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("200.00"))
    client = signed_in(client, settings, manager)
    url = reverse("payments:payment-refund", args=[payment.pk])
    assert "Give payment 2 of plan" in html(client.get(url))
    assert "This field is required." in html(client.post(url, {"reason": ""}))
    response = client.post(url, {"reason": "Customer changed mind"}, follow=True)
    payment.refresh_from_db()
    plan.refresh_from_db()
    assert (payment.status, payment.reversal_reason, payment.reversed_by) == (
        Payment.Status.REFUNDED,
        "Customer changed mind",
        manager,
    )
    assert plan.amount_paid == Decimal("200.00")
    assert f"Payment 2 of plan {plan.reference} was refunded." in html(response)
    # Refunded once; a second refund is explained, not done.
    response = client.post(url, {"reason": "again"}, follow=True)
    assert "Payment 2 is refunded." in html(response)


def test_voiding_a_payment(client, settings, owner, plan):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"))
    client = signed_in(client, settings, owner)
    client.post(reverse("payments:payment-void", args=[payment.pk]), {"reason": "Typed twice"})
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    body = html(client.get(reverse("payments:payment-receipt", args=[payment.pk])))
    assert "This payment is Voided." in body


def test_the_receipt_of_a_completed_plan_shows_no_balance_left(client, settings, owner, viewer, plan):
    payment = payment_post(actor=owner, plan=plan, amount=Decimal("800.00"))
    plan.refresh_from_db()
    assert plan.status == InstallmentPlan.Status.COMPLETED
    body = html(signed_in(client, settings, viewer).get(reverse("payments:payment-receipt", args=[payment.pk])))
    assert 'data-receipt="remaining">$0.00<' in body
    assert 'data-receipt="amount">$800.00<' in body


def test_a_receipt_printed_later_shows_the_balance_as_it_stood_after_that_payment(client, settings, owner, plan):
    first = payment_post(actor=owner, plan=plan, amount=Decimal("150.00"), payment_date=date(2026, 3, 1))
    payment_post(actor=owner, plan=plan, amount=Decimal("300.00"), payment_date=date(2026, 3, 1))

    body = html(signed_in(client, settings, owner).get(reverse("payments:payment-receipt", args=[first.pk])))

    # 1000.00 payable: 200.00 down + 150.00 paid leaves 650.00, whatever was paid since.
    assert 'data-receipt="amount">$150.00<' in body
    assert 'data-receipt="remaining">$650.00<' in body
    assert ">$350.00<" in body  # total paid on the plan by then
