"""The new-plan page in a real browser: picking a product shows its price, item rows come and go (the preview
follows), amounts typed the Spanish way, the reschedule page's live preview and the plan page's payoff quote."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from installments.models import InstallmentPlan
from installments.tests.factories import ProductFactory, plan_make

from .test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerk_picks_products_removes_a_row_and_sells_the_rest(page: Page, merchant, clerk, customer):
    tv = ProductFactory(merchant=merchant, name="TV 55", sku="", price=Decimal("1250.00"))
    ProductFactory(merchant=merchant, name="Fridge", sku="", price=Decimal("800.00"))
    log_in(page, "clerk")
    page.goto(f"/plans/new/?customer={customer.pk}")

    page.locator("#id_items-0-product").select_option(label="Fridge")
    first = page.locator(".item-row").nth(0)
    expect(first.locator("[data-product-price]")).to_have_text("Price: $800.00")
    expect(first.locator("input[name$='-unit_price']")).to_have_attribute("placeholder", "800.00")

    page.get_by_role("button", name="Add an item").click()
    page.locator("#id_items-1-product").select_option(label="TV 55")
    page.locator("#id_items-1-quantity").fill("2")
    page.get_by_label("Number of installments").fill("5")
    expect(page.locator("[data-preview=total-payable]")).to_have_text("$3,300.00")

    # The fridge goes: the TV's row becomes row 0, and the preview follows.
    first.get_by_role("button", name="Remove").click()
    expect(page.locator(".item-row")).to_have_count(1)
    expect(page.locator("input[name=items-TOTAL_FORMS]")).to_have_value("1")
    expect(page.locator("#id_items-0-product")).to_have_value(str(tv.pk))
    expect(page.locator("#id_items-0-quantity")).to_have_value("2")
    expect(page.locator("[data-product-price]")).to_have_text("Price: $1,250.00")
    expect(page.locator("[data-preview=total-payable]")).to_have_text("$2,500.00")

    page.get_by_role("button", name="Create the plan").click()
    expect(page.locator("h1")).to_contain_text("Plan P-000001")
    plan = InstallmentPlan.objects.get()
    assert [(item.description, item.quantity, item.unit_price) for item in plan.items.all()] == [
        ("TV 55", 2, Decimal("1250.000"))
    ]


def test_a_spanish_clerk_types_amounts_the_spanish_way(page: Page, site, merchant, clerk, customer):
    log_in(page, "clerk")
    page.context.add_cookies([{"name": "django_language", "value": "es", "url": site}])
    page.goto(f"/plans/new/?customer={customer.pk}")

    page.get_by_label("Precio al contado").fill("1.200,50")
    page.get_by_label("Número de cuotas").fill("2")
    expect(page.locator("[data-preview=installment-amount]")).to_have_text("600,25\xa0US$")
    page.get_by_label("Precio al contado").fill("1,200")
    expect(page.locator("[data-preview=errors]")).to_contain_text("Introduzca un importe como 1.200,50.")


def test_the_reschedule_page_previews_the_new_schedule_as_the_terms_change(page: Page, owner, manager, customer):
    plan = plan_make(actor=owner, customer=customer)
    log_in(page, "manager")
    page.goto(f"/plans/{plan.pk}/reschedule/")

    rows = page.locator("#reschedule-preview tbody tr")
    expect(rows).to_have_count(4)
    page.get_by_label("Number of installments").fill("8")
    expect(rows).to_have_count(8)
    expect(rows.first.locator("td").nth(2)).to_have_text("$100.00")
    assert plan.installments.filter(superseded_at__isnull=False).count() == 0  # a preview saves nothing


def test_the_plan_page_quotes_the_payoff_for_the_date_picked(page: Page, owner, clerk, customer):
    plan = plan_make(actor=owner, customer=customer, finance_charge_method="flat", interest_rate=Decimal("12"))
    log_in(page, "clerk")
    page.goto(f"/plans/{plan.pk}/")

    panel = page.locator("#payoff")
    expect(panel.locator("[data-payoff=amount]")).to_have_text("$832.00")
    page.get_by_label("Pay on").fill("2026-03-01")
    expect(panel.locator("[data-payoff=note]")).to_contain_text("The interest includes $24.00 not yet due")
    expect(panel.locator("[data-payoff=principal]")).to_have_text("$800.00")
    expect(panel.locator("[data-payoff=amount]")).to_have_text("$832.00")
    page.get_by_label("Pay on").fill("2026-01-01")
    expect(panel.locator("[data-payoff=errors]")).to_contain_text("is before plan")
