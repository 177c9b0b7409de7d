"""The collector's worklist on a phone: a clerk records two promises, one is kept by a payment at the counter,
the other is broken once its date has passed (the daily run), and the list and the figures follow."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from collectors.services import plans_assign
from customers.tests.factories import CustomerFactory
from dailyrun.jobs import daily_jobs_run
from installments.tests.factories import plan_make
from taqsit.tenancy import merchant_scope
from tests.browser.conftest import watched_page
from tests.browser.test_counter import log_in, menu

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser, site: str, csp_violations: list[str]) -> Iterator[Page]:
    """A phone-sized page (390 x 844, touch), as a collector carries on a visit."""
    yield from watched_page(browser, site, csp_violations, viewport=PHONE, has_touch=True, is_mobile=True)


def expect_order(page: Page, expected: list[str]) -> None:
    """The worklist shows ``expected``'s plans in that order, once the page has caught up (a slow machine)."""
    script = "[...document.querySelectorAll('#worklist > li')].map(item => item.dataset.plan)"
    with contextlib.suppress(PlaywrightTimeoutError):  # the assertion below then says what the page shows
        page.wait_for_function(f"expected => JSON.stringify({script}) === JSON.stringify(expected)", arg=expected)
    assert page.evaluate(script) == expected


def promise(page: Page, plan, amount: str, day: str) -> None:
    card = page.locator(f"#plan-{plan.pk}")
    card.get_by_role("link", name="Record a promise").click()
    form = card.locator("#promise-form")
    form.get_by_label("Amount promised").fill(amount)
    form.get_by_label("Promised for").fill(day)
    form.get_by_label("How").select_option("visit")
    form.get_by_role("button", name="Save the promise").click()
    expect(page.get_by_role("alert")).to_contain_text(f"recorded for {day}.")


def test_a_collector_sees_a_promise_kept_and_one_broken(phone: Page, owner, manager, clerk, merchant, today):
    page = phone
    kept_plan, broken_plan, quiet_plan = (
        plan_make(actor=owner, customer=CustomerFactory(merchant=merchant, name=name, phone=f"+1415555010{n}"))
        for n, name in enumerate(("Amina Haddad", "Basma Nour", "Chadi Saleh"))
    )
    plans_assign(actor=manager, plan_ids=[kept_plan.pk, broken_plan.pk, quiet_plan.pk], collector=clerk)

    log_in(page, "clerk")
    menu(page, "Worklist")
    expect(page.locator("h1")).to_have_text("Worklist")
    # Nothing promised yet: the longest overdue first (all three since 15 February), then by plan number.
    expect_order(page, [kept_plan.reference, broken_plan.reference, quiet_plan.reference])
    # Big enough to tap on a visit, and no sideways scrolling at a phone's width.
    button = page.locator(f"#plan-{kept_plan.pk}").get_by_role("link", name="Record a promise")
    assert button.bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    promise(page, kept_plan, "200.00", "2026-03-03")
    promise(page, broken_plan, "200.00", "2026-03-02")
    # Promises waiting go below the plans with none, the soonest first.
    expect_order(page, [quiet_plan.reference, broken_plan.reference, kept_plan.reference])
    expect(page.locator(f"#plan-{kept_plan.pk} [data-promise]")).to_have_text("Promised $200.00 by 03/03/2026")

    # The customer pays at the counter the next day: the promise is kept and the plan is no longer overdue.
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        page.goto(f"/payments/new/{kept_plan.pk}/")
        page.get_by_label("Amount").fill("200.00")
        page.get_by_role("button", name="Record the payment").click()
        expect(page.get_by_text("Payment receipt")).to_be_visible()
        page.goto(f"/plans/{kept_plan.pk}/")
        expect(page.locator("#plan-follow-up [data-promise]").first).to_have_text("Promise kept: $200.00")
        menu(page, "Worklist")
        expect_order(page, [quiet_plan.reference, broken_plan.reference])

    # The day after the other promise's date: the daily run finds it broken and it comes back to the top.
    with time_machine.travel(datetime(2026, 3, 3, 1, 0, tzinfo=UTC), tick=False):
        with merchant_scope(merchant.pk):
            daily_jobs_run(merchant=merchant, day=date(2026, 3, 3))
        page.reload()
        expect_order(page, [broken_plan.reference, quiet_plan.reference])
        expect(page.locator(f"#plan-{broken_plan.pk} [data-promise]")).to_have_text(
            "Promise broken: $200.00 by 03/02/2026"
        )
        page.get_by_label("Promise").select_option("broken")
        page.get_by_role("button", name="Filter").click()
        expect_order(page, [broken_plan.reference])

        page.locator("#main").get_by_role("link", name="Collectors' figures").click()
        this_week = page.locator('#figures tr[data-week="2026-W10"][data-collector="clerk"]')
        expect(this_week.locator('[data-figure="kept"]')).to_have_text("1")
        expect(this_week.locator('[data-figure="broken"]')).to_have_text("1")
        expect(this_week.locator('[data-figure="recovered"]')).to_have_text("$200.00")
        made_week = page.locator('#figures tr[data-week="2026-W09"][data-collector="clerk"]')
        expect(made_week.locator('[data-figure="made"]')).to_have_text("2")
        expect(made_week.locator('[data-figure="contacts"]')).to_have_text("2")
