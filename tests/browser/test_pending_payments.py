"""Pending cheques in a real browser: the dashboard's list to confirm, the confirm step, and a payment form sent
again after Back (never a second payment)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from payments.tests.reports import report
from tests.browser.test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerk_confirms_a_cheque_from_the_dashboard(page: Page, owner, clerk, customer):
    plan = plan_make(actor=owner, customer=customer)
    cheque = payment_post(
        actor=owner, plan=plan, amount=Decimal("250.00"), payment_method="cheque", reference="CHQ-9", status="pending"
    )

    log_in(page, "clerk")
    listed = page.locator("#to-confirm")
    expect(listed).to_contain_text("1 pending payment, $250.00, waits to clear.")
    row = listed.locator("tr", has_text="CHQ-9")
    expect(row).to_contain_text("Amina Haddad")
    row.get_by_role("link", name="Confirm").click()
    expect(page.locator("h1")).to_have_text("Confirm payment 2")
    page.locator("#main").get_by_role("button", name="It cleared: confirm").click()

    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.get_by_role("alert")).to_contain_text(
        f"Payment 2 of plan {plan.reference} was confirmed and allocated."
    )
    expect(page.locator("#to-confirm")).to_have_count(0)
    cheque.refresh_from_db()
    assert (cheque.status, cheque.settled_by) == (Payment.Status.COMPLETED, clerk)


def test_back_and_submit_again_records_no_second_payment(page: Page, owner, clerk, customer):
    plan = plan_make(actor=owner, customer=customer)
    log_in(page, "clerk")
    page.goto(f"/payments/new/{plan.pk}/")
    page.get_by_label("Amount").fill("200.00")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_text("Payment receipt")).to_be_visible()

    page.go_back()
    page.get_by_label("Amount").fill("200.00")
    page.get_by_role("button", name="Record the payment").click()

    # A form kept by the browser replays its first payment; one fetched again asks before recording the same
    # amount twice. Either way the clerk is told, and nothing is recorded twice.
    expect(page.locator("#main")).to_contain_text(
        re.compile(r"This form had already been sent|Payment 2 of \$200\.00 \(completed\) was recorded for this plan")
    )
    assert Payment.objects.filter(plan=plan).count() == 2


def test_a_clerk_sees_the_proof_of_a_reported_transfer_and_confirms_it(page: Page, owner, clerk, customer, today):
    plan = plan_make(actor=owner, customer=customer)
    reported = report(customer=customer, plan=plan, amount="150.00", reference="TRF-77")

    log_in(page, "clerk")
    row = page.locator("#to-confirm tr", has_text="TRF-77")
    expect(row.locator('[data-origin="portal"]')).to_have_text("Reported by the customer")
    expect(row.get_by_role("link", name="Proof")).to_have_attribute("href", f"/payments/{reported.pk}/proof/")

    page.goto(f"/payments/{reported.pk}/")
    proof = page.locator("#proof img")
    expect(proof).to_be_visible()
    # The image came through the proof view and the browser decoded it (a broken image has no natural width).
    assert proof.evaluate("image => image.complete && image.naturalWidth") == 1
    page.locator("#main").get_by_role("link", name="It cleared: confirm").click()
    page.locator("#main").get_by_role("button", name="It cleared: confirm").click()

    expect(page.get_by_role("alert")).to_contain_text(
        f"Payment 2 of plan {plan.reference} was confirmed and allocated."
    )
    reported.refresh_from_db()
    assert (reported.status, reported.settled_by, reported.origin) == (Payment.Status.COMPLETED, clerk, "portal")
