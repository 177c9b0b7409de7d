"""The owner turns WhatsApp on from the settings page, in Arabic (right to left): htmx loads the message settings
into the page and saves them in place; the customer form then offers the customer's preferred channel. The pages
break nothing of the Content-Security-Policy (conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from notifications.models import NotificationSettings

from .test_counter import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_owner_turns_whatsapp_on_from_the_settings_page(page: Page, site, owner, merchant):
    log_in(page, "owner")
    page.context.add_cookies([{"name": "django_language", "value": "ar", "url": site}])

    page.goto("/settings/")

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    section = page.locator("#message-settings")
    expect(section.locator("legend")).to_have_text("الرسائل إلى العملاء")
    section.locator('input[name="whatsapp_enabled"]').check()
    section.locator('select[name="phone_channel"]').select_option("sms")
    section.get_by_role("button", name="حفظ إعدادات الرسائل").click()

    expect(section.get_by_role("status")).to_have_text("تم حفظ إعدادات الرسائل.")
    expect(section.locator('input[name="whatsapp_enabled"]')).to_be_checked()
    policy = NotificationSettings.objects.get(merchant=merchant)
    assert (policy.whatsapp_enabled, policy.phone_channel, policy.sms_enabled) == (True, "sms", True)

    page.goto("/customers/new/")
    choice = page.locator('select[name="preferred_channel"]')
    expect(choice.locator("option")).to_have_text(["اختيار المتجر", "واتساب", "رسالة SMS"])
