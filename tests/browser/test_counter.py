"""The counter in a real browser: a clerk's day, a manager's approval, a viewer's read-only pages, and Arabic
right to left. Each test drives Debian's Chromium with Playwright against the live server on a tablet-sized
page, so the menu is the collapsed one a tablet shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.tests.factories import plan_make
from payments.models import Payment
from taqsit.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.locator("#main").get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text(re.compile("Dashboard|لوحة"))


def menu(page: Page, name: str) -> None:
    """Follow a link of the main menu, opening it first where the screen is too narrow to show it, and wait for
    the page it leads to (a slow machine must not let the next step read the page before)."""
    link = page.locator("#main-nav").get_by_role("link", name=name, exact=True)
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        page.wait_for_load_state("load")  # the menu opens by Bootstrap's script
        toggler.click()
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{href}")


def test_a_clerk_signs_a_customer_up_sells_on_installment_and_takes_a_payment(page: Page, clerk):
    log_in(page, "clerk")

    menu(page, "Customers")
    page.locator("#main").get_by_role("link", name="New customer").click()
    page.get_by_label("Name").fill("Layla Mansour")
    page.get_by_role("textbox", name="Phone").fill("+1 415 555 2671")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Layla Mansour")
    expect(page.get_by_role("alert")).to_contain_text("Customer Layla Mansour was added.")

    page.locator("#main").get_by_role("link", name="New plan").click()
    expect(page.locator("#customer-chosen")).to_contain_text("Layla Mansour")
    page.get_by_label("Cash price").fill("1200")
    page.get_by_label("Down payment").fill("200")
    page.get_by_label("Number of installments").fill("4")
    amount = page.locator("[data-preview=installment-amount]")
    expect(amount).to_have_text("$250.00")
    expect(page.locator("[data-preview=count]")).to_contain_text("4 ×")
    # The preview follows every change of the terms.
    page.get_by_label("Number of installments").fill("5")
    expect(amount).to_have_text("$200.00")
    expect(page.locator("#schedule-preview tbody tr")).to_have_count(5)

    page.get_by_role("button", name="Create the plan").click()
    expect(page.locator("h1")).to_contain_text("Plan P-000001")
    expect(page.get_by_role("alert")).to_contain_text("Plan P-000001 was created.")
    plan = InstallmentPlan.objects.get(customer__name="Layla Mansour")
    assert (plan.total_amount, plan.down_payment, plan.number_of_installments) == (1200, 200, 5)

    page.get_by_role("link", name="Record a payment").click()
    expect(page.get_by_label("Amount")).to_have_value("200.00")
    # An impatient double click records one payment (the page sends the form once; the server would replay it).
    page.get_by_role("button", name="Record the payment").dblclick()

    expect(page.get_by_text("Payment receipt")).to_be_visible()
    expect(page.locator("[data-receipt=amount]")).to_have_text("$200.00")
    expect(page.locator("[data-receipt=remaining]")).to_have_text("$800.00")
    expect(page.locator("main")).to_contain_text("Viejos Recuerdos")
    expect(page.locator("main")).to_contain_text("Layla Mansour")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    payments = Payment.objects.filter(plan=plan).order_by("payment_number")
    assert [(p.payment_number, p.amount, p.is_down_payment) for p in payments] == [(1, 200, True), (2, 200, False)]


def test_a_manager_approves_a_pending_application(page: Page, merchant, clerk, manager, customer):
    merchant.requires_approval = True
    merchant.save()
    plan = plan_make(actor=clerk, customer=customer)
    assert plan.status == InstallmentPlan.Status.PENDING

    log_in(page, "manager")
    menu(page, "Pending applications")
    row = page.locator("tr", has_text=plan.reference)
    row.get_by_role("link", name="Approve").click()
    expect(page.locator("h1")).to_have_text(f"Approve plan {plan.reference}")
    page.locator("#main").get_by_role("button", name="Approve").click()

    expect(page.get_by_role("alert")).to_contain_text(f"Plan {plan.reference} was approved.")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    plan.refresh_from_db()
    assert plan.status == InstallmentPlan.Status.ACTIVE
    assert plan.decided_by == manager


def test_a_viewer_finds_no_form(page: Page, owner, viewer, customer):
    plan = plan_make(actor=owner, customer=customer)
    log_in(page, "viewer")
    for path in (
        "/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/plans/",
        f"/plans/{plan.pk}/",
        "/plans/collections/",
    ):
        page.goto(path)
        expect(page.locator("#main form[method=post]")).to_have_count(0)
        expect(
            page.locator("#main").get_by_role("link", name=re.compile("^(New|Edit|Record|Approve|Cancel)"))
        ).to_have_count(0)
    response = page.goto("/plans/new/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")


def test_the_arabic_dashboard_reads_right_to_left(page: Page, owner, clerk, customer):
    CustomerFactory(merchant=clerk.merchant)
    plan_make(actor=owner, customer=customer)
    log_in(page, "clerk")
    page.locator(".navbar-toggler").click()
    page.get_by_label("Language").select_option("ar")

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("h1")).to_have_text("لوحة المتابعة")
    assert page.locator("link[href*='bootstrap.rtl.min.css']").count() == 1
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    # Laid out from the right: the shop's name starts the bar on the right, the first card is on the right.
    width = page.viewport_size["width"]
    brand = page.locator(".navbar-brand").bounding_box()
    assert brand["x"] > width / 2
    cards = page.locator("#figures .card")
    assert cards.nth(0).bounding_box()["x"] > cards.nth(1).bounding_box()["x"]
    # Money in Arabic, in the merchant's currency.
    expect(page.locator("[data-figure=outstanding]")).to_contain_text("US$")
