"""The portal's reading pages on a phone (360 and 390 px), in English and Arabic: nothing scrolls sideways, the
schedule reads as a card per row, the figures are on screen as formatted, and the Content-Security-Policy
refuses nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import translation
from playwright.sync_api import Browser

from customers.models import Customer
from customers.portal_links import portal_link_issue
from installments.tests.factories import plan_make
from notifications.models import Notification
from payments.models import Payment
from payments.services import payment_fail, payment_post
from taqsit import audit
from taqsit.models import Merchant
from taqsit.money_format import money_html

from .conftest import TIMEOUT_MS
from .test_widths import FITS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal_shop(owner, customer):
    """The customer's plan with payments (one pending, one failed), a message, and a personal link."""
    Merchant.objects.filter(pk=customer.merchant_id).update(portal_enabled=True)
    customer.merchant.refresh_from_db()
    with audit.context(source="web"):
        plan = plan_make(actor=owner, customer=customer)
        payment_post(actor=owner, plan=plan, amount=Decimal("250.00"), payment_date=date.today())
        payment_post(actor=owner, plan=plan, amount=Decimal("100.00"), payment_date=date.today(), status="pending")
        failed = payment_post(
            actor=owner, plan=plan, amount=Decimal("75.00"), payment_date=date.today(), status="pending"
        )
        payment_fail(actor=owner, payment=failed, reason="The transfer never arrived at the shop's bank account.")
    now = datetime.now(UTC)
    note = Notification.objects.create(
        merchant=customer.merchant,
        customer=customer,
        channel="sms",
        kind=Notification.Kind.REMINDER_UPCOMING,
        day=date.today(),
        status="sent",
        subject="Payment due soon",
        body="Your installment of 200.00 is due soon. https://shop.example/portal/l/a-very-long-token-that-must-wrap/",
        send_after=now,
        sent_at=now,
    )
    return plan, note, portal_link_issue(customer=customer)


@pytest.mark.parametrize("width", [360, 390])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_reading_pages_fit_a_phone(browser: Browser, site, csp_violations, customer, portal_shop, width, language):
    Customer.objects.filter(pk=customer.pk).update(language=language)
    plan, note, link = portal_shop
    receipt = Payment.objects.get(plan=plan, payment_number=2)
    context = browser.new_context(base_url=site, viewport={"width": width, "height": 800}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            csp_violations.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    try:
        page.goto(f"/portal/l/{link.token}/")
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        for path in (
            "/portal/",
            f"/portal/plans/{plan.pk}/",
            "/portal/payments/",
            f"/portal/payments/{receipt.pk}/receipt/",
            "/portal/messages/",
            f"/portal/messages/{note.pk}/",
        ):
            page.goto(path)
            fits = page.evaluate(FITS)
            assert fits["scrollWidth"] <= width, (path, fits)
        page.goto(f"/portal/plans/{plan.pk}/")
        # A card per schedule row on a phone: the column names are hidden, each value is named beside it.
        assert page.locator("table.portal-schedule thead").is_hidden()
        with translation.override(language):
            remaining = money_html(Decimal("550.00"), "USD")
        assert page.locator('[data-figure="remaining"]').inner_text() == remaining
        assert page.locator('[data-payoff="amount"]').is_visible()
    finally:
        context.close()
    assert csp_violations == []
