"""The dashboard in a real browser: every figure of the statistics shown, its three charts drawn."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from payments.tests.test_stats import book_build
from tests.browser.test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dashboard_shows_the_statistics_and_draws_its_charts(page: Page, merchant, owner, manager, today):
    book_build(merchant, owner, manager)
    log_in(page, "owner")

    page.goto("/")

    # 555.00 paid of 1,050.00 fallen due: gala's first row, closed at the 100.00 paid on it when the rest was
    # rescheduled, counts on both sides (payments/tests/test_stats.py).
    expect(page.locator('[data-figure="collection-rate"]')).to_have_text("52.86%")
    expect(page.locator('[data-figure="collected"]')).to_have_text("$1,045.00")
    expect(page.locator("#top-overdue tbody tr")).to_have_count(3)
    expect(page.locator("#expected-months tbody tr")).to_have_count(6)
    for chart in ("aging-chart", "weekly-chart", "expected-chart"):
        assert page.evaluate(f"Chart.getChart(document.getElementById('{chart}')) !== undefined"), chart
    if os.environ.get("TAQSIT_SHOT"):
        page.screenshot(path=os.environ["TAQSIT_SHOT"], full_page=True)
