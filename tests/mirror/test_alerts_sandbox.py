"""Acceptance: an incident forced through the sandbox's levers (one hospital failing every
attempt) raises ONE grouped alert at the end of the mirror's sync, to a local receiver through
apprise's `json://`; a sync with nothing new sends nothing; the hospital's next success sends
one "resolved". On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from medblocks.alerts import engine
from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.sync import sync_mirror
from medblocks.sandbox import RunningSandbox
from tests.mirror.alert_inbox import Inbox, running_inbox


async def sync(mirror: Mirror, sandbox: RunningSandbox) -> None:
    async with AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        await sync_mirror(mirror, [client])


def attempt(client: Medblocks, controls: Any, patient_id: str, source_id: str, ok: bool) -> None:
    """One patient's attempt at `source_id`, its outcome forced by the sandbox lever."""
    session = client.patient_sessions.create(
        patient_id=patient_id, return_url="https://app.example.test/back", connection_id=source_id
    )
    outcome = {"outcome": "active"} if ok else {"outcome": "failed"}
    if not ok:
        outcome["failure_code"] = "portal_login_failed"
    controls.post(
        f"/_sandbox/patient-sessions/{session.id}/complete",
        outcome | {"connection_id": source_id},
    )


def about(inbox: Inbox, name: str) -> list[dict[str, Any]]:
    return [m for m in inbox.messages if name in m["title"]]


async def test_a_hospital_failing_every_attempt_raises_one_alert_then_resolved(
    mirror: Mirror,
    sandbox: RunningSandbox,
    controls: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_inbox() as inbox:
        monkeypatch.setenv("MEDBLOCKS_ALERT_URLS", inbox.url)
        monkeypatch.setenv("MEDBLOCKS_DASHBOARD_URL", "https://ops.example.test")
        await sync(mirror, sandbox)
        with mirror.read() as db:
            used = {row.source_id for row in db.execute(schema.connections.select())}
        with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
            source = next(s for s in client.sources.list() if s.id not in used)
            engine.save_source_names(mirror, {source.id: source.name})
            before = len(inbox.messages)
            for i in range(4):  # the hospital's portal is down: every attempt fails
                attempt(client, controls, f"alert_patient_{i}", source.id, ok=False)
            await sync(mirror, sandbox)
            inbox.wait_for(before + 1)
            (alert,) = about(inbox, source.name)
            assert alert["title"] == f"Incident: {source.name} is failing"
            assert "last 4 connection attempts failed" in alert["message"]
            assert f"https://ops.example.test/hospitals?hospital={source.id}" in alert["message"]
            assert "alert_patient" not in alert["message"]

            await sync(mirror, sandbox)  # nothing new, within the repeat interval
            assert len(about(inbox, source.name)) == 1

            attempt(client, controls, "alert_patient_ok", source.id, ok=True)
            await sync(mirror, sandbox)
            inbox.wait_for(before + 2)
        titles = [m["title"] for m in about(inbox, source.name)]
        assert titles == [
            f"Incident: {source.name} is failing",
            f"RESOLVED: Incident: {source.name} is failing",
        ]
