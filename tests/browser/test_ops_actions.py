"""Ops acting from Connection health in a real Chromium against `streamlit run dashboard.py`
(a loopback sandbox with demo data as the target, the mirror in a fresh SQLite file): the row
action creates one session for that patient and source and shows its link; opened again, the
row offers that open link instead of making a second; the patient link opens the Patients page
on that patient, where Reveal shows the name, still after a reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from medblocks.client import Medblocks
from medblocks.sandbox import RunningSandbox
from tests.browser.streamlit_app import Leaks, streamlit_server

pytestmark = pytest.mark.browser


def test_row_action_creates_a_session_for_that_patient_and_source(
    page: Page, demo_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = {
        "MEDBLOCKS_API_KEY": demo_sandbox.api_key,
        "MEDBLOCKS_API_URL": demo_sandbox.base_url,
        "MEDBLOCKS_DATABASE_URL": f"sqlite:///{tmp_path / 'mirror.sqlite3'}",
    }
    api = Medblocks(demo_sandbox.api_key, base_url=demo_sandbox.base_url)
    with api, streamlit_server(env) as base:
        patient, connection = next(
            (p, c)
            for p in api.patients.list(limit=100)
            if p.name
            for c in api.patients.retrieve(p.id).connections
            if c.status == "refresh_failed"
        )
        before = {s.id for s in api.patients.sessions(patient.id)}
        leaks = Leaks(page)
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{base}/health?connection={connection.id}")
        sync = page.get_by_role("button", name="Sync now")
        expect(sync).to_be_visible(timeout=60_000)
        sync.click()  # a fresh mirror of a sandbox process fills on "Sync now"
        expect(page.get_by_role("heading", name="Selected connection")).to_be_visible(
            timeout=60_000
        )
        expect(page.get_by_text(f"Patient {patient.id} ·")).to_be_visible()
        assert {s.id for s in api.patients.sessions(patient.id)} == before  # nothing yet

        page.get_by_role(
            "button", name="Create a new session link for this patient and source"
        ).click()
        created = page.get_by_text("created. Copy the link and send it to the patient")
        expect(created).to_be_visible(timeout=30_000)
        new = [s for s in api.patients.sessions(patient.id) if s.id not in before]
        assert len(new) == 1
        assert new[0].connection_id == connection.connection_id  # that source, direct mode
        assert new[0].status == "open"
        expect(page.get_by_test_id("stCode").get_by_text(new[0].url)).to_be_visible()
        page.screenshot(path=str(tmp_path / "connection-health-action.png"))  # for a failed run

        page.reload()  # a new visit: the row offers the open link instead of a second one
        offered = page.get_by_text("This patient already has an open link for")
        expect(offered).to_be_visible(timeout=60_000)
        expect(page.get_by_text(new[0].id, exact=False).first).to_be_visible()
        expect(page.get_by_test_id("stCode").get_by_text(new[0].url)).to_be_visible()
        make = page.get_by_role(
            "button", name="Create a new session link for this patient and source"
        )
        expect(make).to_have_count(0)  # a second link only on purpose ("Make a new link anyway")
        assert len([s for s in api.patients.sessions(patient.id) if s.id not in before]) == 1

        page.get_by_role("link", name="Open the patient").click()
        expect(page.get_by_role("heading", name="Patient", exact=True)).to_be_visible(
            timeout=60_000
        )
        assert f"open={patient.id}" in page.url
        assert patient.name is not None
        expect(page.get_by_text(patient.name)).to_have_count(0)  # masked by default
        page.get_by_text("Reveal names and emails").click()
        revealed = page.get_by_text(patient.name, exact=False).filter(
            visible=True
        )  # not the grid's
        expect(revealed.first).to_be_visible(timeout=30_000)
        page.reload()  # Reveal is kept for this browser's session, not switched off
        expect(page.get_by_role("heading", name="Patient", exact=True)).to_be_visible(
            timeout=60_000
        )
        expect(
            page.get_by_text(patient.name, exact=False).filter(visible=True).first
        ).to_be_visible(timeout=30_000)
        assert len([s for s in api.patients.sessions(patient.id) if s.id not in before]) == 1
        assert not leaks.seen
