"""Playwright pages against pytest-django's live_server, driving Debian's /usr/bin/chromium.

`playwright install` cannot download browsers here, so the system chromium is launched directly.
Without it the browser tests are skipped locally, but fail under CI=true: CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on the main thread, which makes Django refuse
    # ORM calls from test code ("async unsafe"). The test thread never runs async code itself.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def console_messages() -> list[Any]:
    """Every console message and uncaught page error of `page`, in order."""
    return []


def console_errors(console_messages: list[Any]) -> list[str]:
    """Console errors (CSP violations included) and uncaught page errors, except the browser's
    own /favicon.ico probe (the portal has no favicon; that 404 is not something a page did)."""
    errors = []
    for message in console_messages:
        if getattr(message, "type", "error") != "error":
            continue
        location = getattr(message, "location", None) or {}
        if location.get("url", "").endswith("/favicon.ico"):
            continue
        errors.append(str(getattr(message, "text", message)))
    return errors


@pytest.fixture
def page(browser: Any, live_server: Any, console_messages: list[Any]) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    browser_page = context.new_page()

    def record(message: Any) -> None:
        console_messages.append(message)

    browser_page.on("console", record)
    browser_page.on("pageerror", record)
    yield browser_page
    context.close()
