"""Take the README's screenshots (docs/screenshots/) of a running Taqsit with the demo data.

    make run                                   # in one terminal: serves the demo merchant on :8000
    .venv/bin/python -m tests.browser.screenshots [--base http://127.0.0.1:8000]

Not a test: it writes files. It logs in as the demo clerk and shoots, in English and Arabic, the dashboard, the
new-plan page with its schedule preview, and a payment receipt. Then the customer portal on a 390 px phone: it
issues a portal link to a demo customer with a plan being paid off (``manage.py shell``, run against the same
database as the server: the environment's DATABASE_URL, else the embedded one under var/), and shoots their
home, a plan's schedule, the application form with its preview, and the form reporting a transfer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.system_deps import chromium_ensure

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}

# Run by ``manage.py shell``: a portal link for a customer of the demo merchant with a short monthly plan being
# paid off and a few payments on it (a home and a schedule with something on them, short enough to read), and
# that plan's id.
PORTAL_LINK = """
import json
from django.db.models import Count
from django.urls import reverse
from customers.portal_links import portal_link_issue
from installments.models import InstallmentPlan
from demo.loader import DEMO_MERCHANT
plan = (
    InstallmentPlan.objects.filter(merchant__name=DEMO_MERCHANT, status="active", installment_frequency="monthly")
    .annotate(paid=Count("payments")).filter(paid__gte=3)
    .order_by("number_of_installments", "number").select_related("customer").first()
)
issued = portal_link_issue(customer=plan.customer)
print(json.dumps({"path": reverse("portal:link", kwargs={"token": issued.token}), "plan": str(plan.pk)}))
"""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(600)  # the charts draw without animation; let fonts settle
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(OUT / f"{name}.png")  # noqa: T201 - a script's report


def portal_link() -> dict:
    """A fresh portal link (its path) to a demo customer, and the id of their plan being paid off."""
    env = dict(os.environ, DEBUG=os.environ.get("DEBUG", "1"))
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = (ROOT / "var" / "secret_key").read_text().strip()
    shell = [sys.executable, "manage.py", "shell", "--no-imports", "-c", PORTAL_LINK]
    done = subprocess.run(shell, cwd=ROOT, env=env, capture_output=True, text=True, check=True)  # noqa: S603 - our own interpreter, fixed arguments
    return json.loads(done.stdout.strip().splitlines()[-1])


def shoot_portal(browser, base: str) -> None:
    """The portal on a phone, in English and Arabic (the portal's own language switch)."""
    link = portal_link()
    for language in ("en", "ar"):
        context = browser.new_context(base_url=base, viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(link["path"])
        with page.expect_navigation():
            page.select_option("#portal-language", language)  # sends the switch's form
        expect(page.locator("html")).to_have_attribute("lang", language)
        shoot(page, f"portal-home-{language}")

        page.goto(f"/portal/plans/{link['plan']}/")
        shoot(page, f"portal-plan-{language}")

        page.goto("/portal/apply/")
        page.fill("#id_description", "Washing machine" if language == "en" else "غسالة ملابس")
        page.fill("#id_total_amount", "1200")
        page.fill("#id_down_payment", "200")
        page.fill("#id_number_of_installments", "6")
        expect(page.locator("#schedule-preview tbody tr")).to_have_count(6)
        shoot(page, f"portal-apply-{language}")

        page.goto(f"/portal/report/?plan={link['plan']}")
        page.fill("#id_amount", "120.00")
        page.fill("#id_reference", "TRF-2026-0412")
        shoot(page, f"portal-report-{language}")
        context.close()


def run(base: str, username: str, password: str, *, portal_only: bool = False) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_ensure(), args=CHROMIUM_ARGS)
        for language in () if portal_only else ("en", "ar"):
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            page.locator("#main button[type=submit]").click()
            page.wait_for_load_state()

            page.goto("/")
            shoot(page, f"dashboard-{language}")

            page.goto("/plans/new/")
            page.fill("#customer-q", "a")
            page.locator("[data-customer-id]").first.click()
            page.select_option("#id_items-0-product", index=1)
            page.fill("#id_down_payment", "150")
            page.fill("#id_number_of_installments", "6")
            page.select_option("#id_finance_charge_method", "flat")
            page.fill("#id_interest_rate", "12")
            expect(page.locator("[data-preview=installment-amount]")).to_be_visible()
            shoot(page, f"new-plan-{language}")

            page.goto("/plans/?status=active")
            page.locator("table a[href^='/plans/']").first.click()
            page.locator("#payments-title ~ div a[href^='/payments/']").first.click()
            shoot(page, f"receipt-{language}")
            context.close()
        shoot_portal(browser, base)
        browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="clerk")
    parser.add_argument("--password", default="demo-pass-2026")
    parser.add_argument("--portal-only", action="store_true", help="Shoot only the customer portal's pages.")
    arguments = parser.parse_args()
    run(arguments.base, arguments.username, arguments.password, portal_only=arguments.portal_only)
