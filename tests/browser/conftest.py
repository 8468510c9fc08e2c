"""Playwright fixtures that drive Debian's headless Chromium (/usr/bin/chromium).

Reusable by every browser test: `browser` is one Chromium per test module, `page` a fresh
context and page per test, `demo_sandbox` a loopback sandbox with the demo data per module (the
target of a dashboard started with a sandbox key). Without /usr/bin/chromium the tests are
skipped with the reason. `disconnect` is what a person does on Patients to disconnect one
connection (up to the confirmation).
Module scope on purpose: Playwright's sync API keeps an event loop running in the main thread
while it is open, which would break the pytest-asyncio tests collected after a browser module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

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


def disconnect(page: Page, base: str, patient: str, connection: str) -> None:
    """Open `patient` on Patients, pick `connection` to disconnect and confirm."""
    page.goto(f"{base}/patients?open={patient}")
    # the page's last section drawn: the run is over, nothing redraws the select under the click
    expect(page.get_by_role("heading", name="Records")).to_be_visible(timeout=60_000)
    picker = page.get_by_test_id("stSelectbox").filter(has_text="Connection to disconnect")
    option = page.get_by_role("option", name=connection)
    deadline = time.monotonic() + 60
    while not option.count():  # open the list (again, if a late redraw closed it)
        assert time.monotonic() < deadline, "the connection is not offered for disconnecting"
        picker.click()
        page.wait_for_timeout(500)
    option.click()
    page.get_by_role("button", name="Disconnect the selected connection").click()
    page.get_by_role("button", name="Yes, disconnect").click()
