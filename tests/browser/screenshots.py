"""Take the README's screenshots (docs/screenshots/) of a running Taqsit with the demo data.

    make run                                   # in one terminal: serves the demo merchant on :8000
    .venv/bin/python -m tests.browser.screenshots [--base http://127.0.0.1:8000]

Not a test: it writes files. It logs in as the demo clerk and shoots, in English and Arabic, the dashboard, the
new-plan page with its schedule preview, and a payment receipt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.system_deps import chromium_ensure

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(600)  # the charts draw without animation; let fonts settle
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(OUT / f"{name}.png")  # noqa: T201 - a script's report


def run(base: str, username: str, password: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_ensure(), args=CHROMIUM_ARGS)
        for language in ("en", "ar"):
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
        browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="clerk")
    parser.add_argument("--password", default="demo-pass-2026")
    arguments = parser.parse_args()
    run(arguments.base, arguments.username, arguments.password)
