"""A dashboard only its users reach, against a real `streamlit run dashboard.py` and Chromium.

DNS rebinding is played with Chromium's `--host-resolver-rules`, a loopback-only mapping: the
browser resolves `evil.example` (an attacker's name) and `workbench.example` (the team's name
for the dashboard, in MEDBLOCKS_ALLOWED_HOSTS) to 127.0.0.1, so it connects to the dashboard
with `Host` and `Origin` naming them. The foreign one gets the refusal and not one patient
name or id; the allowed one gets the pages (and, after Reveal, the names: the control that
shows the search for them would find them).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from medblocks.client import Medblocks
from medblocks.client.models import Patient
from medblocks.sandbox import RunningSandbox
from tests.browser.conftest import chromium
from tests.browser.streamlit_app import Leaks, streamlit_server

pytestmark = pytest.mark.browser

RESOLVER = "--host-resolver-rules=MAP evil.example 127.0.0.1, MAP workbench.example 127.0.0.1"


@pytest.fixture(scope="module")
def rebinding_browser() -> Iterator[Browser]:
    """Chromium resolving the two names above to loopback (and nothing else changed)."""
    with chromium(RESOLVER) as launched:
        yield launched


def open_page(browser: Browser) -> Page:
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 1400, "height": 1000})
    return page


def patients(sandbox: RunningSandbox) -> list[Patient]:
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as api:
        return list(api.patients.list(limit=100))


def patient_words(sandbox: RunningSandbox) -> tuple[str, ...]:
    """Every patient's name and id: none may reach a refused session."""
    every = patients(sandbox)
    return tuple(p.name for p in every if p.name) + tuple(p.id for p in every)


def refused(page: Page, said: str) -> None:
    """The page shows the refusal `said`, its run ends, and it drew nothing else."""
    expect(page.get_by_text(said)).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text("Reveal names and emails")).to_have_count(0)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)


def test_a_foreign_host_gets_no_patient_data(
    rebinding_browser: Browser, demo_sandbox: RunningSandbox
) -> None:
    env = {
        "MEDBLOCKS_API_KEY": demo_sandbox.api_key,
        "MEDBLOCKS_API_URL": demo_sandbox.base_url,
        "MEDBLOCKS_ALLOWED_HOSTS": "workbench.example",
    }
    words = patient_words(demo_sandbox)
    one = next(p for p in patients(demo_sandbox) if p.name)
    assert one.name is not None
    with streamlit_server(env) as base:
        port = base.rsplit(":", 1)[1]

        team = open_page(rebinding_browser)
        seen_by_team = Leaks(team, words)
        team.goto(f"http://workbench.example:{port}/patients?patient_id={one.id}&open={one.id}")
        sync = team.get_by_role("button", name="Sync now")
        expect(sync).to_be_visible(timeout=60_000)
        sync.click()
        team.get_by_text("Reveal names and emails").click()
        expect(team.get_by_text(one.name).filter(visible=True).first).to_be_visible(timeout=60_000)
        assert seen_by_team.seen  # the search finds patient data where it is sent

        attacker = open_page(rebinding_browser)
        seen_by_attacker = Leaks(attacker, words)
        for path in ("/health", "/patients", "/"):
            attacker.goto(f"http://evil.example:{port}{path}")
            refused(attacker, "This dashboard does not answer under the name this page used")
        assert seen_by_attacker.frames > 0  # the websocket was used, and carried nothing
        assert not seen_by_attacker.seen


def test_without_a_sign_in_the_dashboard_serves_nothing_beyond_loopback(
    rebinding_browser: Browser, demo_sandbox: RunningSandbox
) -> None:
    """`--server.address 0.0.0.0` and no [auth]: every session gets the refusal, not a page."""
    env = {"MEDBLOCKS_API_KEY": demo_sandbox.api_key, "MEDBLOCKS_API_URL": demo_sandbox.base_url}
    with streamlit_server(env, ("--server.address", "0.0.0.0")) as base:
        page = open_page(rebinding_browser)
        leaks = Leaks(page, patient_words(demo_sandbox))
        page.goto(f"{base}/patients")
        refused(page, "This dashboard listens on 0.0.0.0 without a sign-in")
        assert leaks.frames > 0 and not leaks.seen
