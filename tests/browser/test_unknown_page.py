"""An address that names no page, in a real Chromium: Streamlit's own "Page not found" dialog,
and behind it the page says which address names no page and links to Overview, which the link
opens; the root still opens Overview."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.streamlit_app import streamlit_server

pytestmark = pytest.mark.browser


def test_an_unknown_page_says_so_and_links_to_overview(page: Page) -> None:
    with streamlit_server() as base:
        page.goto(f"{base}/does-not-exist")
        expect(page.get_by_role("heading", name="No such page")).to_be_visible(timeout=90_000)
        expect(page.get_by_text("There is no page at /does-not-exist.")).to_be_visible()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Page not found")
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        page.get_by_role("link", name="Open Overview").click()
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible(
            timeout=60_000
        )
        assert page.url.split("?")[0].endswith("/overview")
        page.goto(base)
        expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible(
            timeout=60_000
        )
