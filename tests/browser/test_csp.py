"""The Content-Security-Policy in a real browser: the pages with charts, live htmx parts, the admin and Swagger UI
all work with nothing refused (the ``page`` fixture fails a test on any refusal Chromium reports)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from installments.tests.factories import plan_make
from taqsit.tests.factories import TEST_PASSWORD
from tests.browser.test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_pages_run_their_scripts_under_the_policy(page: Page, owner, customer, csp_violations):
    plan = plan_make(actor=owner, customer=customer)
    log_in(page, "owner")

    response = page.goto("/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    # Chart.js drew both charts (dashboard.js ran, from our origin).
    expect(page.locator("#aging-chart")).to_be_visible()
    assert page.evaluate("Chart.getChart(document.getElementById('aging-chart')) !== undefined")
    assert page.evaluate("Chart.getChart(document.getElementById('weekly-chart')) !== undefined")

    # htmx: the customer search answers while typing.
    page.goto("/customers/")
    page.get_by_role("searchbox").fill("Amina")
    expect(page.locator("#customer-results")).to_contain_text("Amina Haddad")

    page.goto(f"/plans/{plan.pk}/")
    expect(page.locator("h1")).to_contain_text(plan.reference)
    assert csp_violations == []


def test_swagger_ui_runs_under_the_policy(page: Page, owner):
    log_in(page, "owner")

    response = page.goto("/api/docs/")

    assert response is not None and "'nonce-" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Taqsit API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()


def test_the_admin_runs_under_the_policy(page: Page, superuser):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(superuser.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.locator("#site-name")).to_contain_text("Taqsit")
    page.goto("/admin/installments/installmentplan/")
    expect(page.locator("#changelist")).to_be_visible()
