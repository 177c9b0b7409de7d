"""Payments at the counter: the pre-filled form, idempotent posting, errors that keep the input, the printable
receipt, refund and void."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.services import plan_cancel
from installments.tests.factories import late_fee_make, plan_make
from payments.models import Payment
from payments.services import payment_post, payment_refund
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


# Pending payments: confirm or fail from the plan, the receipt and the dashboard --------------------------------


@pytest.fixture
def cheque(owner, plan) -> Payment:
    """Payment 2 of the plan: a 250.00 cheque, recorded pending."""
    return payment_post(
        actor=owner, plan=plan, amount=Decimal("250.00"), payment_method="cheque", reference="CHQ-881", status="pending"
    )


def test_the_plan_and_the_receipt_offer_a_writer_to_confirm_or_fail_a_pending_payment(
    client, settings, clerk, viewer, plan, cheque
):
    complete = reverse("payments:payment-complete", args=[cheque.pk])
    fail = reverse("payments:payment-fail", args=[cheque.pk])

    as_clerk = signed_in(client, settings, clerk)
    plan_page = html(as_clerk.get(reverse("installments:plan-detail", args=[plan.pk])))
    receipt = html(as_clerk.get(reverse("payments:payment-receipt", args=[cheque.pk])))
    as_viewer = signed_in(client, settings, viewer)
    viewer_page = html(as_viewer.get(reverse("installments:plan-detail", args=[plan.pk])))

    for body in (plan_page, receipt):
        assert f'href="{complete}" data-action="complete"' in body
        assert f'href="{fail}" data-action="fail"' in body
    assert complete not in viewer_page
    assert as_viewer.post(complete).status_code == 403
    cheque.refresh_from_db()
    assert cheque.status == Payment.Status.PENDING


def test_a_clerk_confirms_a_cleared_cheque_after_a_confirm_step(client, settings, clerk, plan, cheque, ledger_assert):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-complete", args=[cheque.pk])

    question = html(client.get(url))
    cheque.refresh_from_db()
    assert cheque.status == Payment.Status.PENDING  # a GET only asks
    assert (
        f"Has payment 2 of plan {plan.reference} ($250.00, cheque, reference CHQ-881) cleared? "
        "It is allocated to the plan now."
    ) in question

    response = client.post(url, follow=True)

    assert response.redirect_chain == [(reverse("installments:plan-detail", args=[plan.pk]), 302)]
    assert f"Payment 2 of plan {plan.reference} was confirmed and allocated." in html(response)
    cheque.refresh_from_db()
    assert (cheque.status, cheque.settled_by) == (Payment.Status.COMPLETED, clerk)
    assert list(cheque.allocations.order_by("id").values_list("installment__number", "kind", "amount")) == [
        (1, "principal", Decimal("200.000")),
        (2, "principal", Decimal("50.000")),
    ]
    ledger_assert(plan)
    # Confirmed once: a second confirmation is explained, not done.
    again = client.post(url, follow=True)
    assert "Payment 2 is completed, not pending." in html(again)
    assert cheque.allocations.count() == 2


def test_a_bounced_cheque_is_marked_failed_with_its_reason(client, settings, clerk, plan, cheque, ledger_assert):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-fail", args=[cheque.pk])

    assert 'name="reason"' in html(client.get(url))
    refused = client.post(url, {"reason": ""})
    response = client.post(url, {"reason": "Insufficient funds"}, follow=True)

    assert "This field is required." in html(refused)
    assert f"Payment 2 of plan {plan.reference} was marked failed." in html(response)
    cheque.refresh_from_db()
    assert (cheque.status, cheque.reversal_reason, cheque.settled_by) == (
        Payment.Status.FAILED,
        "Insufficient funds",
        clerk,
    )
    plan.refresh_from_db()
    assert plan.amount_paid == Decimal("200.00")
    ledger_assert(plan)


def test_a_cheque_that_no_longer_fits_the_balance_is_refused_with_the_balance(
    client, settings, owner, clerk, plan, cheque, ledger_assert
):
    payment_post(actor=owner, plan=plan, amount=Decimal("700.00"))  # paid in cash meanwhile: 100.00 left
    client = signed_in(client, settings, clerk)

    response = client.post(reverse("payments:payment-complete", args=[cheque.pk]), follow=True)

    assert f"250.00 exceeds the remaining balance 100.00 of plan {plan.reference}." in html(response)
    cheque.refresh_from_db()
    assert (cheque.status, cheque.allocations.count()) == (Payment.Status.PENDING, 0)
    ledger_assert(plan)


def test_another_merchants_pending_payment_is_not_found_on_the_pages(client, settings, other_owner, cheque):
    client = signed_in(client, settings, other_owner)

    for name in ("payments:payment-complete", "payments:payment-fail"):
        assert client.get(reverse(name, args=[cheque.pk])).status_code == 404
        assert client.post(reverse(name, args=[cheque.pk]), {"reason": "x"}).status_code == 404
    cheque.refresh_from_db()
    assert cheque.status == Payment.Status.PENDING


def test_the_dashboard_lists_the_payments_to_confirm_and_returns_there(
    client, settings, owner, clerk, customer, plan, cheque, other_owner, other_merchant
):
    theirs = plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant, name="Someone Else"))
    payment_post(actor=other_owner, plan=theirs, amount=Decimal("99.00"), reference="THEIRS-1", status="pending")
    second = plan_make(actor=owner, customer=customer)
    transfer = payment_post(
        actor=owner,
        plan=second,
        amount=Decimal("80.50"),
        payment_method="bank_transfer",
        reference="TRF-12",
        payment_date=date(2026, 2, 27),
        status="pending",
    )
    payment_post(actor=owner, plan=second, amount=Decimal("10.00"))  # completed: not listed
    client = signed_in(client, settings, clerk)
    dashboard = reverse("taqsit:dashboard")

    body = html(client.get(dashboard))

    assert "2 pending payments, $330.50, wait to clear." in body
    assert "THEIRS-1" not in body and "Someone Else" not in body
    rows = re.findall(r'<tr data-payment="([^"]+)">(.*?)</tr>', body, flags=re.DOTALL)
    assert [pk for pk, _row in rows] == [str(transfer.pk), str(cheque.pk)]  # oldest first
    first = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[0][1])).split()
    assert first == ["02/27/2026", "Amina", "Haddad", second.reference, "·", "2", "Bank", "transfer", "TRF-12",
                     "$80.50", "Confirm", "Failed"]  # fmt: skip
    complete = reverse("payments:payment-complete", args=[transfer.pk])
    assert f'href="{complete}?next=/"' in body

    response = client.post(f"{complete}?next=/", follow=True)

    assert response.redirect_chain == [(dashboard, 302)]
    after = html(response)
    assert "1 pending payment, $250.00, waits to clear." in after
    assert str(transfer.pk) not in after


def test_the_dashboard_has_no_list_when_nothing_waits_to_clear(client, settings, clerk, plan):
    body = html(signed_in(client, settings, clerk).get(reverse("taqsit:dashboard")))

    assert 'id="to-confirm"' not in body


def test_a_confirmation_page_never_sends_the_clerk_to_another_site(client, settings, clerk, plan, cheque):
    client = signed_in(client, settings, clerk)

    response = client.post(reverse("payments:payment-complete", args=[cheque.pk]) + "?next=https://evil.example/")

    assert response["Location"] == reverse("installments:plan-detail", args=[plan.pk])


# Receipts reprinted later, and a form sent twice -------------------------------------------------------------


def _receipt_figures(body: str) -> dict[str, str]:
    return dict(re.findall(r'data-receipt="([\w-]+)">(.*?)</dd>', body, flags=re.DOTALL))


def test_a_reprinted_receipt_shows_every_figure_as_it_was_when_paid(client, settings, owner, plan):
    first = payment_post(actor=owner, plan=plan, amount=Decimal("250.00"))
    client = signed_in(client, settings, owner)
    printed = _receipt_figures(html(client.get(reverse("payments:payment-receipt", args=[first.pk]))))
    payment_post(actor=owner, plan=plan, amount=Decimal("300.00"))

    reprinted = html(client.get(reverse("payments:payment-receipt", args=[first.pk])))

    # 200.00 down + 250.00: 550.00 left, installment 1 paid, 150.00 left of installment 2 (due 15 March).
    assert (
        _receipt_figures(reprinted)
        == printed
        == {
            "amount": "$250.00",
            "remaining": "$550.00",
            "installments-paid": "1",
            "next-due": 'March 15, 2026 · <span class="money">$150.00</span>',
        }
    )
    assert ">$450.00<" in reprinted  # total paid on the plan by then


def test_a_receipt_counts_the_late_fees_charged_and_open_when_it_was_paid(client, settings, owner, plan):
    late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 3, 1), amount=Decimal("10.00"))
    first = payment_post(actor=owner, plan=plan, amount=Decimal("100.00"))
    payment_post(actor=owner, plan=plan, amount=Decimal("110.00"))

    body = html(signed_in(client, settings, owner).get(reverse("payments:payment-receipt", args=[first.pk])))

    # 10.00 fee first, then 90.00 of installment 1: 110.00 of it left, due 15 February.
    assert _receipt_figures(body) == {
        "amount": "$100.00",
        "remaining": "$710.00",
        "installments-paid": "0",
        "next-due": 'Feb. 15, 2026 · <span class="money">$110.00</span>',
    }


def test_the_figures_of_existing_payments_are_backfilled_from_the_ledger(owner, customer, plan, today):
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC), tick=False):  # after the down payment
        late_fee_make(installment=plan.installments.get(number=1), period=date(2026, 3, 1), amount=Decimal("10.00"))
    posted = []
    for minute, amount, status in [(1, "150.00", "completed"), (2, "300.00", "pending"), (3, "260.00", "completed")]:
        with time_machine.travel(datetime(2026, 3, 1, 12, minute, tzinfo=UTC), tick=False):
            posted.append(payment_post(actor=owner, plan=plan, amount=Decimal(amount), status=status))
    with time_machine.travel(datetime(2026, 3, 1, 12, 4, tzinfo=UTC), tick=False):
        other = plan_make(actor=owner, customer=customer)
    with time_machine.travel(datetime(2026, 3, 1, 12, 5, tzinfo=UTC), tick=False):
        posted.append(payment_post(actor=owner, plan=other, amount=Decimal("800.00")))  # completes it
    with time_machine.travel(datetime(2026, 3, 1, 12, 6, tzinfo=UTC), tick=False):
        payment_refund(actor=owner, payment=posted[0], reason="Card charge-back")  # later: no receipt changes
        posted.append(payment_post(actor=owner, plan=plan, amount=Decimal("40.00")))
    fields = ["paid_after", "balance_after", "installments_paid_after", "next_due_date_after", "next_amount_due_after"]
    recorded = {row["pk"]: row for row in Payment.objects.values("pk", *fields)}
    Payment.objects.update(**dict.fromkeys(fields))
    [migration] = Path(__file__).parents[1].glob("migrations/*_payment_confirmed_by_and_receipt_figures.py")

    importlib.import_module(f"payments.migrations.{migration.stem}").receipt_figures_backfill(apps, None)

    assert {row["pk"]: row for row in Payment.objects.values("pk", *fields)} == recorded
    assert recorded[posted[2].pk] == {
        "pk": posted[2].pk,
        "paid_after": Decimal("610.000"),  # 200.00 down + 150.00 + 260.00; the pending 300.00 moved nothing
        "balance_after": Decimal("400.000"),  # 1000.00 + the 10.00 fee - 610.00
        "installments_paid_after": 2,
        "next_due_date_after": date(2026, 4, 15),
        "next_amount_due_after": Decimal("200.000"),
    }
    assert (recorded[posted[3].pk]["balance_after"], recorded[posted[3].pk]["next_due_date_after"]) == (
        Decimal("0.000"),
        None,
    )
    # After the 150.00 refund: 200.00 + 260.00 + 40.00 paid of 1010.00 (the 10.00 fee included).
    assert (recorded[posted[4].pk]["paid_after"], recorded[posted[4].pk]["balance_after"]) == (
        Decimal("500.000"),
        Decimal("510.000"),
    )


def test_sending_the_form_again_with_the_same_amount_asks_first(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-create", args=[plan.pk])
    client.post(url, pay(token="web-pay-1", seen_payment="1"))
    again = html(client.get(url))  # Back: the page is fetched again, with a fresh token

    warned = client.post(url, pay(token=_form_value(again, "token"), seen_payment=_form_value(again, "seen_payment")))

    body = html(warned)
    assert warned.status_code == 200
    assert "Payment 2 of $200.00 (completed) was recorded for this plan at noon. Is this another payment?" in body
    assert 'name="record_again"' in body
    assert _form_value(body, "token") == _form_value(again, "token")
    assert Payment.objects.filter(plan=plan).count() == 2

    confirmed = client.post(
        url, pay(token=_form_value(again, "token"), seen_payment=_form_value(body, "seen_payment"), record_again="on")
    )

    third = Payment.objects.get(plan=plan, payment_number=3)
    assert confirmed["Location"] == reverse("payments:payment-receipt", args=[third.pk])
    assert third.amount == Decimal("200.00")


def test_a_form_shown_before_another_payment_was_recorded_asks_first(client, settings, owner, clerk, plan):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-create", args=[plan.pk])
    form = html(client.get(url))
    payment_post(actor=owner, plan=plan, amount=Decimal("75.00"))  # another clerk, meanwhile

    body = html(client.post(url, pay(token=_form_value(form, "token"), seen_payment=_form_value(form, "seen_payment"))))

    assert "Payment 2 of $75.00 (completed) was recorded for this plan at noon." in body
    assert Payment.objects.filter(plan=plan).count() == 2


def test_the_same_amount_later_or_another_amount_is_recorded_without_a_question(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-create", args=[plan.pk])
    client.post(url, pay(token="web-pay-1", amount="100.00", seen_payment="1"))

    other_amount = client.post(url, pay(token="web-pay-2", amount="150.00", seen_payment="2"))
    with time_machine.travel(datetime(2026, 3, 1, 12, 11, tzinfo=UTC), tick=False):
        later = client.post(url, pay(token="web-pay-3", amount="100.00", seen_payment="3"))

    assert (other_amount.status_code, later.status_code) == (302, 302)
    assert list(Payment.objects.filter(plan=plan).order_by("payment_number").values_list("amount", flat=True)) == [
        Decimal("200.000"),
        Decimal("100.000"),
        Decimal("150.000"),
        Decimal("100.000"),
    ]


def test_the_same_form_sent_again_says_nothing_new_was_recorded(client, settings, clerk, plan):
    client = signed_in(client, settings, clerk)
    url = reverse("payments:payment-create", args=[plan.pk])
    first = client.post(url, pay(seen_payment="1"))

    again = client.post(url, pay(seen_payment="1"), follow=True)

    assert again.redirect_chain == [(first["Location"], 302)]
    assert (
        f"This form had already been sent: nothing new was recorded. This is the receipt of payment 2 of plan "
        f"{plan.reference}, recorded at noon."
    ) in html(again)
    assert Payment.objects.filter(plan=plan).count() == 2


def test_a_spanish_clerk_confirms_a_cheque_in_spanish(client, settings, merchant, clerk, plan, cheque):
    merchant.language = "es"
    merchant.save(update_fields=["language"])
    client = signed_in(client, settings, None)
    client.post(reverse("login"), {"username": "clerk", "password": TEST_PASSWORD})

    question = html(client.get(reverse("payments:payment-complete", args=[cheque.pk])))
    done = html(client.post(reverse("payments:payment-complete", args=[cheque.pk]), follow=True))

    assert "Confirmar el pago 2" in question
    assert "Se cobró: confirmar" in question
    assert f"El pago 2 del plan {plan.reference} se confirmó y se imputó." in done
