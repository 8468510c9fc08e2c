"""The dashboard as a person uses it: `streamlit run dashboard.py` with no configuration, Chromium.

Also takes the README's screenshots and checks that no `mb_sk_` string ever reaches the browser,
in an HTTP response body or a websocket frame. The screenshots go to docs/screenshots/ when
`MEDBLOCKS_UPDATE_SCREENSHOTS=1`, else to the test's temporary directory (so an ordinary run
leaves the working tree clean).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.streamlit_app import Leaks, screenshot_dir, streamlit_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard() -> Iterator[str]:
    with streamlit_server() as base:
        yield base


def streamlit_ready(page: Page) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)


def launch(page: Page, base: str, patient_id: str, *, direct: bool) -> str:
    page.goto(f"{base}/launch")
    expect(page.get_by_role("heading", name="Launch a session")).to_be_visible(timeout=30_000)
    if direct:
        page.get_by_text("direct", exact=True).click()
        source = page.get_by_label("Source", exact=True)
        expect(source).to_be_visible()
        source.click()
        page.get_by_role("option").first.click()
    patient = page.get_by_label("Patient id")
    patient.fill(patient_id)
    patient.press("Enter")
    create = page.get_by_role("button", name="Create session")
    expect(create).to_be_enabled(timeout=15_000)
    create.click()
    link = page.get_by_role("link", name="Open the hosted page")
    expect(link).to_be_visible(timeout=30_000)
    href = link.get_attribute("href")
    assert href and "/c/" in href
    return href


def sign_in(page: Page) -> None:
    page.fill("#username", "user_good")
    page.fill("#password", "pass_good")
    page.click("#sign-in")


def test_overview_launch_approve_and_deny(page: Page, dashboard: str, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1000})
    leaks = Leaks(page)

    page.goto(dashboard)
    expect(page.get_by_text("Embedded sandbox (local emulator, demo data)").first).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_test_id("stMetric").filter(has_text="Patients")).to_contain_text(
        re.compile(r"Patients\s*\d+"), timeout=60_000
    )
    expect(page.get_by_role("tab", name="Failure codes")).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 1150})
    page.wait_for_timeout(1500)  # let the Vega chart draw before the screenshot
    page.screenshot(path=str(shots / "overview.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(f"{dashboard}/health?status=failed&status=refresh_failed&status=expired")
    expect(page.get_by_role("tab", name="Needs attention")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / "connection-health.png"))

    # The frame (dashboard.py) is drawn around every page, also after switching pages in the app.
    sidebar = page.get_by_test_id("stSidebar")
    target = "Embedded sandbox (local emulator, demo data)"
    expect(sidebar.get_by_text(target)).to_be_visible()
    expect(sidebar.get_by_text("Reveal names and emails")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Launch")).to_be_visible()  # writes are allowed
    sidebar.get_by_role("link", name="Sources").click()
    expect(page.get_by_role("heading", name="Sources")).to_be_visible(timeout=60_000)
    expect(sidebar.get_by_text(target)).to_be_visible()
    expect(sidebar.get_by_text("Reveal names and emails")).to_be_visible()

    # Picker mode: approve, Done, back on the return page.
    hosted = launch(page, dashboard, "browser_picker_1", direct=False)
    page.goto(hosted)
    page.get_by_role("link", name="Connect").first.click()
    sign_in(page)
    page.get_by_role("button", name="Approve").click()
    page.click("#finish")
    page.get_by_role("button", name=re.compile("^Done")).click()
    page.wait_for_url(re.compile(r"/connected\?"), timeout=30_000)
    assert "patient_session_id=ps_" in page.url
    expect(page.get_by_text("Connected — pulling records")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r": active$"))).to_be_visible()
    page.screenshot(path=str(shots / "return-connected.png"), full_page=True)

    # Direct mode: deny, the return page shows the failure, its code and the request id.
    hosted = launch(page, dashboard, "browser_direct_1", direct=True)
    page.goto(hosted)
    sign_in(page)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(re.compile(r"/connected\?.*success=false"), timeout=30_000)
    expect(page.get_by_text("Connection failed")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"user_denied.*declined"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Request id: [0-9a-f-]{36}$"))).to_be_visible()

    assert {p.name for p in shots.glob("*.png")} >= {
        "overview.png",
        "connection-health.png",
        "return-connected.png",
    }
    assert leaks.bodies > 20 and leaks.frames > 20
    assert leaks.seen == []
