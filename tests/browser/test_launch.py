"""One session per launch intent, in Chromium: `streamlit run dashboard.py` (the embedded sandbox),
a create made slow with the sandbox's latency fault, the page reloaded during it, and the same URL
opened in a second tab. The sessions are counted through the API afterwards. The second tab's
view is the README's Launch screenshot (written there with `MEDBLOCKS_UPDATE_SCREENSHOTS=1`).

The only settings given are the sandbox's own key (`MEDBLOCKS_SANDBOX_API_KEY`, so the test can
use the sandbox's fault lever and count sessions) and a throwaway database for the ledger.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from medblocks.client import Medblocks
from tests.browser.streamlit_app import streamlit_server

SANDBOX_KEY = "mb_sk_sbx_launchbrowsertest0000000001"
LATENCY_MS = 8000  # long enough to reload and see the claim on a loaded machine

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("launch") / "dashboard.sqlite3"
    settings = {
        "MEDBLOCKS_SANDBOX_API_KEY": SANDBOX_KEY,
        "MEDBLOCKS_DATABASE_URL": f"sqlite:///{database}",
    }
    with streamlit_server(settings) as base:
        yield base


def sandbox_url(page: Page) -> str:
    """The embedded sandbox's address, as the sidebar shows it (the key is never shown)."""
    sidebar = page.get_by_test_id("stSidebar")
    shown = sidebar.get_by_text(re.compile(r"^http://127\.0\.0\.1:\d+$"))
    expect(shown).to_be_visible(timeout=60_000)
    return shown.inner_text().strip()


def faults(api: str, method: str, body: object = None) -> None:
    """The sandbox's fault lever (`/_sandbox/faults`, not part of Medblocks)."""
    auth = {"Authorization": f"Bearer {SANDBOX_KEY}"}
    httpx.request(method, f"{api}/_sandbox/faults", json=body, headers=auth).raise_for_status()


def test_reload_during_a_slow_create_and_a_second_tab_show_one_session(
    browser: Browser, page: Page, dashboard: str
) -> None:
    patient_id = "browser_reload_once"
    page.goto(dashboard)  # the frame's sidebar names the target's address
    api = sandbox_url(page)
    page.goto(f"{dashboard}/launch")
    expect(page.get_by_role("heading", name="Launch a session")).to_be_visible(timeout=60_000)
    page.wait_for_url(re.compile(r"/launch\?intent=[0-9a-f]{32}$"), timeout=30_000)
    launch_url = page.url
    expect(page.get_by_text("Patient id is required")).to_have_count(0)

    patient = page.get_by_label("Patient id")
    patient.fill(patient_id)
    patient.press("Enter")
    create = page.get_by_role("button", name="Create session")
    expect(create).to_be_enabled(timeout=15_000)
    faults(api, "PUT", {"latency_ms": LATENCY_MS})
    try:
        started = time.monotonic()
        create.click()
        expect(page.get_by_text("Creating the session…")).to_be_visible(timeout=10_000)
        page.wait_for_timeout(500)  # the intent is claimed; the create call is under way
        page.reload()
        expect(page.get_by_text(re.compile("^The session is being created"))).to_be_visible(
            timeout=30_000
        )
        assert time.monotonic() - started < LATENCY_MS / 1000  # seen while the create was slow
        expect(page.get_by_role("button", name="Create session")).to_have_count(0)
        hosted = page.get_by_role("link", name="Open the hosted page")
        expect(hosted).to_be_visible(timeout=60_000)
    finally:
        faults(api, "DELETE")
    assert page.url == launch_url

    with Medblocks(SANDBOX_KEY, base_url=api) as client:
        [session] = client.patients.sessions(patient_id)  # exactly one
    assert hosted.get_attribute("href") == session.url
    expect(page.get_by_text(session.id, exact=True)).to_be_visible()

    # The same URL in a second tab (another browser session): the same launch, nothing created.
    context = browser.new_context()
    try:
        second = context.new_page()
        second.set_default_timeout(10_000)
        second.goto(launch_url)
        expect(second.get_by_text(session.id, exact=True)).to_be_visible(timeout=60_000)
        link = second.get_by_role("link", name="Open the hosted page")
        assert link.get_attribute("href") == session.url
        expect(second.get_by_text(re.compile("^Waiting for the patient"))).to_be_visible(
            timeout=30_000
        )
        expect(second.get_by_role("button", name="Create session")).to_have_count(0)
    finally:
        context.close()
    with Medblocks(SANDBOX_KEY, base_url=api) as client:
        assert [s.id for s in client.patients.sessions(patient_id)] == [session.id]
