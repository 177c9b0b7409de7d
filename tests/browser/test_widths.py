"""No page scrolls sideways, on a laptop (1280 and 1366 px) or a phone (390 px), in English or Arabic, and the
plan page's Refund and Void buttons are on screen: nothing is cut off or hidden behind a sideways scroll."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page

from installments.tests.factories import plan_make
from payments.services import payment_post, payment_refund
from taqsit import audit

from .test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 1366, 390)

# The page's width against the window's, and (to say what to fix) the first elements sticking out of the
# window that no scrolling box of their own holds.
FITS = """() => {
  const beyond = (el) => {
    const rect = el.getBoundingClientRect();
    return (rect.right > window.innerWidth + 1 || rect.left < -1) && rect.width > 0;
  };
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: [...document.querySelectorAll("body *")]
      .filter((el) => beyond(el) && !beyond(el.parentElement))
      .slice(0, 4).map((el) => el.tagName + "." + el.className + (el.id ? "#" + el.id : "")),
  };
}"""

# Every Refund and Void button of the page, with whether it lies inside the viewport and inside the box that
# clips it (a scrolling table wrapper): a button scrolled out of its table is as unreachable as one off screen.
REVERSALS = """() => [...document.querySelectorAll("a[href$='/refund/'], a[href$='/void/']")].map((button) => {
  const rect = button.getBoundingClientRect();
  let inside = rect.left >= 0 && rect.right <= window.innerWidth && rect.width > 0;
  for (let box = button.parentElement; box; box = box.parentElement) {
    const style = getComputedStyle(box);
    if (style.overflowX !== "visible") {
      const clip = box.getBoundingClientRect();
      inside = inside && rect.left >= clip.left - 1 && rect.right <= clip.right + 1;
    }
  }
  return {href: button.getAttribute("href"), inside};
})"""


@pytest.fixture
def shop(owner, manager, customer):
    """A plan with a down payment, a payment, a refunded one and the rest open: Refund and Void buttons."""
    with audit.context(source="web"):
        plan = plan_make(actor=owner, customer=customer)
        payment_post(actor=owner, plan=plan, amount=Decimal("150.00"), payment_date=plan.start_date)
        refunded = payment_post(actor=owner, plan=plan, amount=Decimal("50.00"), payment_date=plan.start_date)
        payment_refund(actor=owner, payment=refunded, reason="Paid twice")
    return plan


def _pages(plan, owner) -> list[str]:
    payment = plan.payments.order_by("payment_number").last()
    return [
        "/",
        "/customers/",
        "/customers/new/",
        f"/customers/{plan.customer_id}/",
        f"/customers/{plan.customer_id}/edit/",
        "/plans/",
        "/plans/new/",
        "/plans/pending/",
        "/plans/collections/",
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/reschedule/",
        f"/plans/{plan.pk}/cancel/",
        f"/payments/new/{plan.pk}/",
        f"/payments/{payment.pk}/",
        f"/payments/{payment.pk}/refund/",
        f"/payments/{payment.pk}/void/",
        f"/audit/plans/{plan.pk}/",
        f"/audit/customers/{plan.customer_id}/",
        "/staff/",
        "/staff/new/",
        f"/staff/{owner.pk}/",
        "/settings/",
        "/accounts/password/change/",
    ]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_no_page_scrolls_sideways_and_refund_and_void_are_on_screen(page: Page, site, owner, shop, language):
    log_in(page, "owner")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])
    overflowing, cut_off = [], []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for url in _pages(shop, owner):
            response = page.goto(url)
            assert response.status == 200, url
            page.wait_for_load_state("networkidle")  # the htmx panels (history, previews) are in
            fits = page.evaluate(FITS)
            if fits["scrollWidth"] > fits["innerWidth"]:
                overflowing.append((width, url, fits))
            cut_off += [(width, url, button["href"]) for button in page.evaluate(REVERSALS) if not button["inside"]]
    assert overflowing == []
    assert cut_off == []


def test_the_plan_page_has_refund_and_void_buttons_to_check(page: Page, site, owner, shop):
    log_in(page, "owner")
    page.goto(f"/plans/{shop.pk}/")
    # The down payment and payment 2 are completed: a Refund and a Void each; the refunded payment 3 has none.
    reversible = [payment.pk for payment in shop.payments.filter(status="completed").order_by("payment_number")]
    assert [button["href"] for button in page.evaluate(REVERSALS)] == [
        f"/payments/{pk}/{action}/" for pk in reversed(reversible) for action in ("refund", "void")
    ]


# Where the minus sign and the digits of the first negative amount of the page are drawn.
MINUS_AND_DIGITS = """() => {
  const amount = [...document.querySelectorAll(".money")].find((el) => el.textContent.includes("-"));
  const text = amount.firstChild;
  const box = (start, end) => {
    const range = document.createRange();
    range.setStart(text, start);
    range.setEnd(text, end);
    return range.getBoundingClientRect();
  };
  const minus = text.data.indexOf("-");
  const digits = text.data.slice(minus + 1).search(/[0-9]/) + minus + 1;
  const last = text.data.search(/[0-9][^0-9]*$/);
  return {text: text.data, minus: box(minus, minus + 1), first: box(digits, digits + 1), last: box(last, last + 1)};
}"""


def test_a_negative_amount_in_arabic_keeps_its_minus_on_the_right(page: Page, site, owner, shop):
    log_in(page, "owner")
    page.context.add_cookies([{"name": "django_language", "value": "ar", "url": site}])
    page.goto(f"/plans/{shop.pk}/")

    drawn = page.evaluate(MINUS_AND_DIGITS)

    # The refund's reversed allocation, as the money filter writes it (taqsit/tests/test_templatetags.py).
    assert drawn["text"] == "\u200f\u061c-50.00\xa0\u2068US$\u2069"
    # Right to left: the minus is read first, so it is drawn right of the number, touching it.
    assert drawn["minus"]["x"] >= drawn["first"]["x"] + drawn["first"]["width"] - 1
    assert drawn["minus"]["x"] >= drawn["last"]["x"] + drawn["last"]["width"] - 1
    assert drawn["minus"]["x"] - (drawn["last"]["x"] + drawn["last"]["width"]) < 4
