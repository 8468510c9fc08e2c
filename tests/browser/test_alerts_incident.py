"""Acceptance in a real Chromium: a hospital failing every attempt (forced through the sandbox's
levers) shows as an incident on Hospital status after "Sync now", and the sync's end raises ONE
grouped alert to a local receiver (apprise `json://`); a second "Sync now" with nothing new
sends nothing; after the hospital's next success, "Sync now" sends one "resolved"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from medblocks.client import Medblocks
from medblocks.mirror import open_mirror
from medblocks.mirror.sync import LAST_SYNC
from medblocks.sandbox import RunningSandbox
from tests.browser.streamlit_app import streamlit_server
from tests.local_servers import wait_until
from tests.mirror.alert_inbox import running_inbox

pytestmark = pytest.mark.browser


def attempt(client: Medblocks, sandbox: RunningSandbox, n: int, source_id: str, ok: bool) -> None:
    session = client.patient_sessions.create(
        patient_id=f"incident_patient_{n}",
        return_url="https://app.example.test/back",
        connection_id=source_id,
    )
    body: dict[str, Any] = {"outcome": "active" if ok else "failed", "connection_id": source_id}
    if not ok:
        body["failure_code"] = "portal_login_failed"
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/patient-sessions/{session.id}/complete",
        json=body,
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def sync_now(page: Page, database_url: str) -> None:
    """Press "Sync now" and wait until the mirror records a newer finished sync."""
    mirror = open_mirror(database_url)
    try:
        before = (mirror.checkpoint(LAST_SYNC) or {}).get("finished_at")
        page.get_by_role("button", name="Sync now").click()
        wait_until(
            lambda: (mirror.checkpoint(LAST_SYNC) or {}).get("finished_at") != before,
            timeout=90,
            what="the sync to finish",
            every=0.2,
        )
    finally:
        mirror.close()


def test_an_incident_raises_one_alert_then_resolved(
    page: Page, demo_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'mirror.sqlite3'}"
    with Medblocks(demo_sandbox.api_key, base_url=demo_sandbox.base_url) as client:
        used = {
            c.connection_id
            for p in client.patients.list(limit=100)
            for c in client.patients.retrieve(p.id).connections
        }
        source = next(s for s in client.sources.list() if s.id not in used)
        with running_inbox() as inbox:
            env = {
                "MEDBLOCKS_API_KEY": demo_sandbox.api_key,
                "MEDBLOCKS_API_URL": demo_sandbox.base_url,
                "MEDBLOCKS_DATABASE_URL": database_url,
                "MEDBLOCKS_ALERT_URLS": inbox.url,
                "MEDBLOCKS_DASHBOARD_URL": "https://ops.example.test",
            }
            with streamlit_server(env) as base:
                page.set_viewport_size({"width": 1400, "height": 1000})
                page.goto(f"{base}/hospitals")
                expect(page.get_by_role("button", name="Sync now")).to_be_visible(timeout=60_000)
                sync_now(page, database_url)
                ours = lambda: [m for m in inbox.messages if source.name in m["title"]]  # noqa: E731
                assert ours() == []

                for n in range(4):  # the hospital's portal is down: every attempt fails
                    attempt(client, demo_sandbox, n, source.id, ok=False)
                sync_now(page, database_url)
                expect(page.get_by_text(f"{source.name}: Incident since")).to_be_visible(
                    timeout=60_000
                )
                wait_until(lambda: bool(ours()), timeout=30, what="the incident alert")
                (alert,) = ours()
                assert alert["title"] == f"Incident: {source.name} is failing"
                assert "last 4 connection attempts failed" in alert["message"]
                assert (
                    f"https://ops.example.test/hospitals?hospital={source.id}" in alert["message"]
                )

                sync_now(page, database_url)  # nothing new, within the repeat interval
                assert len(ours()) == 1

                attempt(client, demo_sandbox, 9, source.id, ok=True)
                sync_now(page, database_url)
                wait_until(lambda: len(ours()) >= 2, timeout=30, what="the RESOLVED alert")
                assert [m["title"] for m in ours()] == [
                    f"Incident: {source.name} is failing",
                    f"RESOLVED: Incident: {source.name} is failing",
                ]
                page.screenshot(path=str(tmp_path / "incident.png"))  # for a failed run
