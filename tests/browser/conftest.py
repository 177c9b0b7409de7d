"""Playwright (Python) driving Debian's Chromium against pytest-django's live server.

The browser is the one tests/system_deps.py finds (CHROMIUM_PATH, Debian's /usr/bin/chromium, or Playwright's
own build); `make test` installs one first when there is none. Every test gets a fresh browser context (no
cookies), the live server runs the production settings over plain HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test.utils import override_settings
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django import live_server_helper

from tests.system_deps import chromium_path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.fail("No Chromium found: `make test` installs one (tests/system_deps.py), or set CHROMIUM_PATH.")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between browser
    # steps are still plain synchronous code, so Django's async-safety check is lifted for these tests only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def live_server(request) -> Iterator[live_server_helper.LiveServer]:
    """pytest-django's live server, started without the redirect to HTTPS: SecurityMiddleware reads that
    setting once, when the server thread builds its handler, so it must be off while the server starts."""
    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(SECURE_SSL_REDIRECT=False):
        server = live_server_helper.LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's address, serving the production settings over plain HTTP."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return live_server.url


@pytest.fixture
def csp_violations() -> list[str]:
    """What the browser refused under the Content-Security-Policy while a test ran (Chromium says it on the
    console: "Refused to execute inline script ... violates the following Content Security Policy ...")."""
    return []


@pytest.fixture
def page(browser: Browser, site: str, csp_violations: list[str]) -> Iterator[Page]:
    """A tablet-sized page (768 x 1024, as at the counter) in a fresh context. Every test also checks that the
    pages it went through broke none of the Content-Security-Policy (settings.py): nothing refused."""
    yield from watched_page(browser, site, csp_violations, viewport={"width": 768, "height": 1024})


def watched_page(browser: Browser, site: str, csp_violations: list[str], **options) -> Iterator[Page]:
    """A page in a fresh context (``options`` for ``new_context``: the viewport, touch...) whose refusals by the
    Content-Security-Policy are collected, and asserted none when it closes."""
    context = browser.new_context(base_url=site, locale="en-US", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            csp_violations.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert csp_violations == [], "the Content-Security-Policy refused something"
