"""Playwright fixtures that drive Debian's headless Chromium (/usr/bin/chromium).

Reusable by every browser test: `browser` is one Chromium per test module, `page` a fresh
context and page per test, `demo_sandbox` a loopback sandbox with the demo data per module (the
target of a dashboard started with a sandbox key). Without /usr/bin/chromium the tests are
skipped with the reason.
Module scope on purpose: Playwright's sync API keeps an event loop running in the main thread
while it is open, which would break the pytest-asyncio tests collected after a browser module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    """Headless Chromium with `CHROMIUM_ARGS` and `extra_args` (skips the test without it)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is missing at /usr/bin/chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="module")
def demo_sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as running:
        yield running
