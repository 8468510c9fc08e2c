"""The pages the other browser tests do not photograph, each seen working in Chromium.

`streamlit run dashboard.py` with nothing configured (the embedded sandbox, the mirror in a
temporary file): a launch from the Launch page approved on the hosted page, then Patients,
Sessions, Sources, Hospital status, Alerts, Audit, Webhooks (an event's payload open) and
Contract & drift (drawn, not photographed: before a run it only says so), each opened by its
deep link and checked to have drawn its title, with no exception box and no "Page not found",
before its screenshot. The README's screenshots: into docs/screenshots/ with
`MEDBLOCKS_UPDATE_SCREENSHOTS=1`, else into the test's temporary directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.streamlit_app import screenshot_dir, streamlit_server
from tests.browser.test_dashboard import launch, sign_in

pytestmark = pytest.mark.browser

WIDE: ViewportSize = {"width": 1400, "height": 1000}


def settled(page: Page, title: str) -> None:
    """The page's title drawn, the script idle, and nothing broken on screen."""
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(timeout=60_000)
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    expect(idle).to_have_count(1, timeout=60_000)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)


def photograph(page: Page, shots: Path, name: str, height: int) -> None:
    """The app scrolls inside its own pane: a window `height` tall shows the whole page."""
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(1000)  # a taller window redraws the tables and charts
    page.screenshot(path=str(shots / name))
    page.set_viewport_size(WIDE)


def test_the_other_pages_drawn_after_a_launch(page: Page, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(WIDE)
    with streamlit_server() as base:
        # A first mirror page registers the mirror's receiver, so the approval's events reach it.
        page.goto(f"{base}/overview")
        settled(page, "Overview")
        hosted = launch(page, base, "browser_screens_1", direct=True)
        expect(page.get_by_text(re.compile(r"^Waiting for the patient"))).to_be_visible(
            timeout=30_000
        )
        settled(page, "Launch a session")
        photograph(page, shots, "launch.png", 1450)

        page.goto(hosted)
        sign_in(page)
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(re.compile(r"/connected\?.*success=true"), timeout=30_000)
        expect(page.get_by_text("Connected — pulling records")).to_be_visible(timeout=30_000)

        for path, title in [
            ("patients", "Patients"),
            ("sessions", "Sessions"),
            ("sources", "Sources"),
            ("hospitals", "Hospital status"),
            ("alerts", "Alerts"),
            ("audit", "Audit"),
        ]:
            page.goto(f"{base}/{path}")
            settled(page, title)
            photograph(page, shots, f"{path}.png", 860)
        page.goto(f"{base}/contract")  # no run yet: drawn, not photographed
        settled(page, "Contract & drift")
        expect(page.get_by_text("No contract run yet")).to_be_visible()

        page.goto(f"{base}/webhooks")
        settled(page, "Webhooks")
        event = page.get_by_label("Event", exact=True)
        expect(event).to_be_visible(timeout=60_000)
        event.click()
        page.get_by_role("option").first.click()
        expect(page.get_by_text(re.compile(r"^Payload \("))).to_be_visible(timeout=30_000)
        settled(page, "Webhooks")
        photograph(page, shots, "webhooks.png", 1400)
