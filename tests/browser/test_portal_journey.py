"""A customer's whole journey on the portal, on a phone (390 x 844), in English and in Arabic: the shop issues
their link; they open it, see their plans, a plan's schedule and a receipt, apply for a new plan with the live
schedule preview, and report a transfer with a photo of the proof; a clerk confirms it from the "to confirm"
list; the customer sees it completed, with its receipt.

Every figure is asserted as the page writes it in the customer's language (``money_html``, the filter the
templates use); no page scrolls sideways at 390 px; the Content-Security-Policy refuses nothing (the ``page``
fixture's check covers the phone's context too)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Browser, BrowserContext, Page, expect

from customers.portal_links import portal_link_issue
from customers.tests.factories import CustomerFactory
from installments.models import InstallmentPlan
from installments.tests.factories import plan_make
from payments.models import Payment
from payments.services import payment_post
from payments.tests.reports import PNG
from taqsit.models import Merchant
from taqsit.money_format import money_html
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
LOCALES = {"en": "en-US", "ar": "ar"}


def shown(amount: str, language: str) -> str:
    """``amount`` in US dollars as a page in ``language`` writes it."""
    with translation.override(language):
        return money_html(Decimal(amount), "USD")


def said(message: str, language: str, **values) -> str:
    with translation.override(language):
        return gettext(message) % values if values else gettext(message)


def no_sideways_scroll(page: Page) -> None:
    # Measured once the page's stylesheets are in: a page's text can be there before its styles are.
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


@pytest.fixture
def phone(browser: Browser, site: str, csp_violations: list[str], request) -> Iterator[BrowserContext]:
    """A phone-sized context (390 x 844, touch) in the customer's language; what the Content-Security-Policy
    refuses there is collected with the ``page`` fixture's, which fails the test on any."""
    language = request.node.callspec.params["language"]
    context = browser.new_context(
        base_url=site, viewport=PHONE, locale=LOCALES[language], is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.on(
        "console",
        lambda message: (
            csp_violations.append(f"phone: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    yield context
    context.close()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_customers_journey_from_the_link_to_a_confirmed_transfer(
    page: Page, phone: BrowserContext, site, settings, merchant, owner, clerk, today, language
):
    settings.SITE_URL = site
    Merchant.objects.filter(pk=merchant.pk).update(portal_enabled=True)
    merchant.refresh_from_db()
    customer = CustomerFactory(merchant=merchant, name="Amina Haddad", language=language)
    # 1000.00 with 200.00 down (payment 1), four monthly installments of 200.00 from 2026-01-15; the first
    # paid at the counter (payment 2): 600.00 left.
    plan = plan_make(actor=owner, customer=customer)
    payment_post(actor=owner, plan=plan, amount=Decimal("200.00"), payment_date=date(2026, 2, 15))

    # The shop issues the customer's link (the staff page's button and the API call this service).
    issued = portal_link_issue(customer=customer, actor=owner)

    # The customer opens it on their phone: their plans.
    customer_page = phone.new_page()
    customer_page.goto(issued.url)
    expect(customer_page).to_have_url(f"{site}/portal/")
    html = customer_page.locator("html")
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    expect(html).to_have_attribute("lang", language)
    main = customer_page.locator("#main")
    expect(main.locator("h1")).to_have_text(said("Hello, %(name)s", language, name="Amina Haddad"))
    card = main.locator(f"#plan-{plan.pk}")
    expect(card).to_contain_text(plan.reference)
    expect(card.locator("[data-remaining]")).to_have_text(shown("600.00", language))
    expect(card.locator("[data-paid]")).to_have_text(shown("400.00", language))  # the down payment, the first row
    no_sideways_scroll(customer_page)

    # The plan's schedule: what was paid on each row.
    card.get_by_role("link", name=plan.reference).click()
    expect(main.locator("h1")).to_have_text(said("Plan %(ref)s", language, ref=plan.reference))
    expect(main.locator("[data-figure=remaining]")).to_have_text(shown("600.00", language))
    rows = main.locator(".portal-schedule tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0).locator("[data-cell=due]")).to_have_text(shown("200.00", language))
    expect(rows.nth(0).locator("[data-cell=paid]")).to_have_text(shown("200.00", language))
    expect(rows.nth(1).locator("[data-cell=paid]")).to_have_text(shown("0.00", language))
    no_sideways_scroll(customer_page)

    # The receipt of the installment paid at the counter.
    counter_payment = Payment.objects.get(plan=plan, payment_number=2)
    main.locator(f"#payment-{counter_payment.pk}").get_by_role("link", name=said("Receipt", language)).click()
    expect(main.locator("[data-receipt=amount]")).to_have_text(shown("200.00", language))
    paid_after = main.locator("dt", has_text=said("Total paid on the plan", language)).locator("xpath=following::dd[1]")
    expect(paid_after).to_have_text(shown("400.00", language))
    expect(main.locator("[data-receipt=remaining]")).to_have_text(shown("600.00", language))
    no_sideways_scroll(customer_page)

    # Apply for a new plan: the preview follows the terms as they are typed.
    customer_page.locator(".portal-nav").get_by_role("link", name=said("Apply", language)).click()
    expect(main.locator("h1")).to_have_text(said("Apply for a plan", language))
    no_sideways_scroll(customer_page)
    customer_page.locator("#id_description").fill("Washing machine")
    customer_page.locator("#id_total_amount").fill("1200")
    customer_page.locator("#id_down_payment").fill("200")
    customer_page.locator("#id_number_of_installments").fill("4")
    installment = customer_page.locator("[data-preview=installment-amount]")
    expect(installment).to_have_text(shown("250.00", language))
    expect(customer_page.locator("#schedule-preview tbody tr")).to_have_count(4)
    expect(customer_page.locator("[data-preview=total-payable]")).to_have_text(shown("1200.00", language))
    customer_page.locator("#id_number_of_installments").fill("5")
    expect(installment).to_have_text(shown("200.00", language))
    expect(customer_page.locator("#schedule-preview tbody tr")).to_have_count(5)
    no_sideways_scroll(customer_page)
    main.get_by_role("button", name=said("Send my application", language)).click()

    expect(customer_page).to_have_url(f"{site}/portal/")
    expect(main.get_by_role("alert")).to_have_text(
        said(
            "Your application was sent to %(shop)s; you will be told when it is approved or rejected.",
            language,
            shop=merchant.name,
        )
    )
    application = InstallmentPlan.objects.get(customer=customer, origin=InstallmentPlan.Origin.PORTAL)
    assert (application.status, application.total_amount, application.installment_amount) == (
        InstallmentPlan.Status.PENDING,
        Decimal("1200.00"),
        Decimal("200.00"),
    )
    waiting = main.locator(f"#plan-{application.pk}")
    expect(waiting).to_contain_text(application.reference)
    expect(waiting).to_contain_text(said("Pending approval", language))
    expect(waiting).to_contain_text(said("Waiting for the shop's approval.", language))

    # Report a transfer with a photo of the proof, from the plan's page.
    card.get_by_role("link", name=plan.reference).click()
    main.get_by_role("link", name=said("Report a payment", language)).click()
    expect(customer_page).to_have_url(f"{site}/portal/report/?plan={plan.pk}")
    expect(main.locator("h1")).to_have_text(said("Report a payment", language))
    no_sideways_scroll(customer_page)
    # Only the plan being paid off is offered; the application waiting for approval is not.
    expect(customer_page.locator("#id_plan option")).to_have_count(1)
    expect(customer_page.locator("#id_plan")).to_have_value(str(plan.pk))
    expect(customer_page.locator("#id_payment_date")).to_have_value("2026-03-01")
    customer_page.locator("#id_amount").fill("200.00")
    customer_page.locator("#id_payment_method").select_option("bank_transfer")
    customer_page.locator("#id_reference").fill("TRF-5521")
    customer_page.locator("#id_proof").set_input_files(
        files=[{"name": "transfer.png", "mimeType": "image/png", "buffer": PNG}]
    )
    main.get_by_role("button", name=said("Send the report", language)).click()
    expect(main.get_by_role("alert")).to_have_text(said("Sent: the shop will confirm it.", language))
    reported = Payment.objects.get(plan=plan, reference="TRF-5521")
    assert (reported.status, reported.origin, reported.amount, reported.proof.content_type) == (
        Payment.Status.PENDING,
        Payment.Origin.PORTAL,
        Decimal("200.00"),
        "image/png",
    )
    # Pending: nothing counts until the shop confirms it.
    expect(card.locator("[data-remaining]")).to_have_text(shown("600.00", language))
    customer_page.locator(".portal-nav").get_by_role("link", name=said("Payments", language)).click()
    listed = main.locator(f"#payment-{reported.pk}")
    expect(listed).to_have_attribute("data-status", "pending")
    expect(listed.locator("[data-cell=amount]")).to_have_text(shown("200.00", language))
    expect(listed).to_contain_text(said("Waiting for the shop to confirm.", language))
    no_sideways_scroll(customer_page)

    # A clerk confirms it from the "to confirm" list (the counter's tablet, in English).
    log_in(page, "clerk")
    row = page.locator("#to-confirm tr", has_text="TRF-5521")
    expect(row.locator('[data-origin="portal"]')).to_have_text("Reported by the customer")
    expect(row).to_contain_text("Amina Haddad")
    row.get_by_role("link", name="Confirm").click()
    expect(page.locator("h1")).to_have_text("Confirm payment 3")
    page.locator("#main").get_by_role("button", name="It cleared: confirm").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Payment 3 of plan {plan.reference} was confirmed and allocated."
    )
    reported.refresh_from_db()
    assert (reported.status, reported.settled_by) == (Payment.Status.COMPLETED, clerk)

    # The customer sees it completed, with its receipt: 400.00 left, 600.00 paid.
    customer_page.reload()
    expect(listed).to_have_attribute("data-status", "completed")
    expect(listed).to_contain_text(said("Completed", language))
    listed.get_by_role("link", name=said("Receipt", language)).click()
    expect(main.locator("[data-receipt=amount]")).to_have_text(shown("200.00", language))
    expect(main.locator("[data-receipt=remaining]")).to_have_text(shown("400.00", language))
    customer_page.locator(".portal-nav").get_by_role("link", name=said("Plans", language)).click()
    expect(card.locator("[data-remaining]")).to_have_text(shown("400.00", language))
    expect(card.locator("[data-paid]")).to_have_text(shown("600.00", language))
    no_sideways_scroll(customer_page)
