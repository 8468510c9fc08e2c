"""Which hospital fails most, and since when, in a real Chromium against `streamlit run
dashboard.py` on the embedded sandbox's demo data: Overview names the worst hospital with its
patients failing and since when, its link opens Hospital status on that hospital, and the
drill-down opens Connection health filtered to its failing connections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.streamlit_app import streamlit_server

pytestmark = pytest.mark.browser

WORST = re.compile(r"^(.+): (\d+) patients? failing now \(since (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\)")


def test_overview_names_the_worst_hospital_and_drills_down(page: Page, tmp_path: Path) -> None:
    with streamlit_server() as base:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{base}/overview")
        expect(page.get_by_text("Worst hospitals now")).to_be_visible(timeout=90_000)
        links = page.locator('a[href*="hospitals?hospital="]')
        expect(links.first).to_be_visible(timeout=30_000)
        text = links.first.inner_text().strip()
        found = WORST.match(text)
        assert found, text
        name, patients = found.group(1), int(found.group(2))
        assert patients >= 1

        links.first.click()
        expect(page.get_by_role("heading", name="Hospital status")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=60_000)
        assert "hospital=" in page.url
        drill = page.get_by_role(
            "link", name=f"Its {patients} failing patients in Connection health"
        )
        expect(drill).to_be_visible()
        drill.click()
        expect(page.get_by_role("heading", name="Connection health")).to_be_visible(timeout=60_000)
        page.wait_for_url(re.compile(r"/health\?.*status=refresh_failed"), timeout=30_000)
        assert "source=" in page.url
        page.screenshot(path=str(tmp_path / "hospital-status.png"))  # for a failed run
