"""Signing the contract on a touch screen, in a real browser: on a 360 px phone the clerk opens the plan's
contract, hands the screen over, the customer draws a signature with a finger, and the contract shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from installments.contract import contract_build
from installments.models import ContractSignature
from installments.tests.factories import plan_make
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def phone(browser: Browser, site: str, csp_violations: list[str]):
    """A 360 px touch phone, in a fresh context; nothing may break the Content-Security-Policy."""
    context = browser.new_context(
        base_url=site, viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True, locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on(
        "console",
        lambda message: csp_violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()
    assert csp_violations == [], "the Content-Security-Policy refused something"


def test_the_customer_signs_the_contract_with_a_finger_on_a_phone(phone, clerk, customer):
    plan = plan_make(actor=clerk, customer=customer)
    log_in(phone, "clerk")

    phone.goto(f"/plans/{plan.pk}/")
    phone.locator("#plan-contract").click()
    expect(phone.locator("article.contract h1")).to_have_text("Installment sale contract")
    phone.wait_for_load_state("load")  # the contract's stylesheet too: the text is there before it under load
    # The page fits the phone: nothing wider than the screen but the contract's own scrolling box.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.get_by_role("link", name="Sign on screen").click()

    submit = phone.locator("#signature-submit")
    expect(submit).to_be_disabled()  # nothing drawn yet
    pad = phone.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box["width"] > 250
    # A finger's stroke: signature_pad listens to pointer events, which a touch screen sends too.
    phone.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    phone.mouse.down()
    for step in range(1, 30):
        phone.mouse.move(box["x"] + 20 + step * 8, box["y"] + box["height"] / 2 + (step % 5) * 6)
    phone.mouse.up()
    expect(submit).to_be_enabled()
    submit.click()

    expect(phone.get_by_role("alert")).to_contain_text("Amina Haddad signed the contract.")
    expect(phone.locator("[data-signer=customer] img")).to_be_visible()
    signature = ContractSignature.objects.get()
    assert signature.signer == "customer"
    assert signature.text_sha256 == contract_build(plan=plan).text_sha256
    assert signature.image.read().startswith(b"\x89PNG")
