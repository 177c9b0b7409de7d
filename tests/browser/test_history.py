"""The history panel in a real browser: htmx loads it into the plan page for a manager, older entries come on
demand, and a clerk's page has none. The page breaks nothing of the Content-Security-Policy (conftest.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from installments.tests.factories import plan_make
from payments.services import payment_post
from taqsit import audit

from .test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plan(owner, customer):
    with audit.context(source="web"):
        plan = plan_make(actor=owner, customer=customer)
        payment_post(actor=owner, plan=plan, amount=Decimal("150.00"), payment_date=plan.start_date)
    return plan


def test_a_manager_reads_a_plans_history(page: Page, manager, plan, monkeypatch):
    monkeypatch.setattr("auditlog.views.PAGE_SIZE", 5)
    log_in(page, "manager")

    page.goto(f"/plans/{plan.pk}/")

    history = page.locator("#history")
    expect(history.locator("article")).to_have_count(5)
    newest = history.locator("article").first
    expect(newest).to_contain_text("owner")
    expect(newest).to_contain_text("Payment recorded")
    expect(newest.locator("table")).to_contain_text(re.compile(r"Amount paid\s*\$200\.00\s*\$350\.00"))
    history.get_by_role("link", name="Show older entries").click()
    expect(history.locator("article")).to_have_count(10)


def test_a_clerk_sees_no_history(page: Page, clerk, plan):
    log_in(page, "clerk")

    page.goto(f"/plans/{plan.pk}/")

    expect(page.locator("h1")).to_contain_text("Plan P-000001")
    expect(page.locator("#history")).to_have_count(0)
