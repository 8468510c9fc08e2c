"""Deep links and the Sandbox page in a real Chromium against `streamlit run dashboard.py`.

Cold means the first visit to a freshly started server (where Streamlit once ran its folder
discovery instead of the frame's `st.navigation`), so each cold visit gets its own server.
A MutationObserver installed before the page loads records every sidebar link ever drawn and
whether "Page not found" was ever on screen, so a flash between two renders counts too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from medblocks.client import Medblocks
from medblocks.sandbox import RunningSandbox
from tests.browser.streamlit_app import Leaks, screenshot_dir, streamlit_server

pytestmark = pytest.mark.browser

PAGES = {  # deep link -> the page's title in the navigation
    "overview": "Overview",
    "patients": "Patients",
    "health": "Connection health",
    "sessions": "Sessions",
    "hospitals": "Hospital status",
    "sources": "Sources",
    "alerts": "Alerts",
    "launch": "Launch",
    "connected": "Return page",
    "webhooks": "Webhooks",
    "contract": "Contract & drift",
    "audit": "Audit",
    "sandbox": "Sandbox",
}
WATCH_NAVIGATION = """
window.__seen = {links: [], notFound: false};
new MutationObserver(() => {
  const nav = document.querySelector('[data-testid="stSidebarNav"]');
  if (nav) {
    for (const a of nav.querySelectorAll('a')) {
      const text = a.innerText.trim();
      if (!window.__seen.links.includes(text)) window.__seen.links.push(text);
    }
  }
  if (document.body && document.body.innerText.includes('Page not found')) {
    window.__seen.notFound = true;
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def visit(browser: Browser, base: str, path: str) -> dict[str, Any]:
    """Open `base/path` in a fresh context; what the navigation showed until the page settled,
    and where (if anywhere) a `mb_sk_` string reached the browser."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        context.add_init_script(WATCH_NAVIGATION)
        page = context.new_page()
        leaks = Leaks(page)
        page.goto(f"{base}/{path}")
        expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=60_000)
        expect(page.locator("h1").first).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
        page.wait_for_timeout(500)  # anything drawn late would still be recorded
        seen: dict[str, Any] = page.evaluate("window.__seen")
        seen["url"] = page.url
        seen["h1"] = page.locator("h1").first.inner_text()
        seen["leaks"] = leaks.seen
        return seen
    finally:
        context.close()


def assert_clean(seen: dict[str, Any], path: str) -> None:
    assert not seen["notFound"], f"/{path}: 'Page not found' was shown"
    assert seen["leaks"] == [], f"/{path}: the key prefix reached the browser"
    assert set(seen["links"]) == set(PAGES.values()), f"/{path}: sidebar showed {seen['links']}"
    expected = path or "overview"  # the root opens Overview under its own address
    assert seen["url"].split("?")[0].endswith(f"/{expected}"), seen["url"]


@pytest.mark.parametrize("path", ["", *PAGES])
def test_every_deep_link_opened_cold(browser: Browser, path: str) -> None:
    with streamlit_server() as base:
        seen = visit(browser, base, path)
    assert_clean(seen, path)


def test_every_deep_link_opened_warm(browser: Browser) -> None:
    with streamlit_server() as base:
        visit(browser, base, "")  # warms the server
        for path in ["", *PAGES, "overview"]:
            assert_clean(visit(browser, base, path), path)


def test_a_sandbox_page_lever_changes_what_the_hosted_page_does_next(
    page: Page, demo_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A loopback sandbox process (a sandbox key on this machine): the page is listed; forcing
    an outcome completes a session the patient has not touched, and advancing the clock makes
    an open link expire."""
    env = {"MEDBLOCKS_API_KEY": demo_sandbox.api_key, "MEDBLOCKS_API_URL": demo_sandbox.base_url}
    api = Medblocks(demo_sandbox.api_key, base_url=demo_sandbox.base_url)
    with api, streamlit_server(env) as base:
        source = next(iter(api.sources.list())).id
        forced, expiring = (
            api.patient_sessions.create(
                patient_id=f"browser_lever_{n}",
                return_url=f"{base}/connected",
                recommended_connection_ids=[source],
            )
            for n in (1, 2)
        )
        for session in (forced, expiring):
            opened = page.goto(session.url)
            assert opened is not None and opened.status == 200  # the picker, ready

        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{base}/sandbox?session={forced.id}")
        heading = page.get_by_role("heading", name="Force an outcome on an open session")
        expect(heading).to_be_visible(timeout=60_000)
        page.get_by_test_id("stRadio").get_by_text("failed", exact=True).click()
        expect(page.get_by_text("records one failed attempt")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("user_denied").first).to_be_visible()
        page.get_by_role("button", name="Force this outcome").click()
        expect(page.get_by_text("Done: the session is complete.")).to_be_visible(timeout=30_000)
        after = api.patient_sessions.retrieve(forced.id)
        assert after.status == "complete"
        assert [c.failure_code for c in after.connections] == ["user_denied"]
        expect(page.get_by_text("Status: complete · 1 attempt(s) so far")).to_be_visible()
        page.set_viewport_size({"width": 1400, "height": 2600})  # the app scrolls inside
        page.wait_for_timeout(500)
        page.screenshot(path=str(screenshot_dir(tmp_path) / "sandbox.png"))
        page.set_viewport_size({"width": 1400, "height": 1000})
        hosted = page.context.new_page()
        answer = hosted.goto(forced.url)
        assert answer is not None and answer.status == 409  # already complete
        hosted.close()

        page.get_by_role("button", name="Advance the clock").click()
        expect(page.get_by_text("The sandbox clock now reads")).to_be_visible(timeout=30_000)
        hosted = page.context.new_page()
        answer = hosted.goto(expiring.url)
        assert answer is not None and answer.status == 410  # the link expired (30 min lifetime)
        expect(hosted.locator("#expired")).to_be_visible()
        hosted.close()


def test_a_tab_is_a_shareable_view(browser: Browser) -> None:
    """Overview's charts and Connection health's lists are tabs bound to the URL: a link opens
    the tab it names, and choosing another tab changes the link."""
    with streamlit_server() as base:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{base}/health?list=Stuck+pulls")
            stuck = page.get_by_role("tab", name="Stuck pulls")
            expect(stuck).to_have_attribute("aria-selected", "true", timeout=60_000)
            expect(page.get_by_text("Active connections with no record")).to_be_visible()
            page.get_by_role("tab", name="Needs attention").click()
            expect(page.get_by_text("the patient must connect again")).to_be_visible()
            expect(page).to_have_url(re.compile(r"/health\?list=Needs\+attention$"))

            page.goto(f"{base}/overview?charts=Trends%2C+30+days")
            trends = page.get_by_role("tab", name="Trends, 30 days")
            expect(trends).to_have_attribute("aria-selected", "true", timeout=60_000)
            expect(page.get_by_text("Time to reconnect, last 30 days")).to_be_visible()
            expect(page.get_by_text("Sessions created → complete → connected.")).to_have_count(0)
        finally:
            context.close()
