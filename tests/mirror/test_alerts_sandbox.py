"""Acceptance: an incident forced through the sandbox's levers (one hospital failing every
attempt) raises ONE grouped alert at the end of the mirror's sync, to a local receiver through
apprise's `json://`; a sync with nothing new sends nothing; the hospital's next success sends
one "resolved". And the receiver evaluates once it has applied an event. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from medblocks.alerts import engine
from medblocks.client import Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.server import RunningReceiver
from medblocks.sandbox import RunningSandbox
from tests.mirror.alert_inbox import Inbox, running_inbox
from tests.mirror.conftest import delivered, signed, synced


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


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A local alert receiver, the one channel alerts go to (`MEDBLOCKS_ALERT_URLS`)."""
    with running_inbox() as running:
        monkeypatch.setenv("MEDBLOCKS_ALERT_URLS", running.url)
        yield running


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[Medblocks]:
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as opened:
        yield opened


def about(inbox: Inbox, name: str) -> list[dict[str, Any]]:
    return [m for m in inbox.messages if name in m["title"]]


async def test_a_hospital_failing_every_attempt_raises_one_alert_then_resolved(
    mirror: Mirror,
    sandbox: RunningSandbox,
    client: Medblocks,
    controls: Any,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDBLOCKS_DASHBOARD_URL", "https://ops.example.test")
    await synced(mirror, sandbox)
    with mirror.read() as db:
        used = {row.source_id for row in db.execute(schema.connections.select())}
    source = next(s for s in client.sources.list() if s.id not in used)
    engine.save_source_names(mirror, {source.id: source.name})
    before = len(inbox.messages)
    for i in range(4):  # the hospital's portal is down: every attempt fails
        attempt(client, controls, f"alert_patient_{i}", source.id, ok=False)
    await synced(mirror, sandbox)
    inbox.wait_for(before + 1)
    (alert,) = about(inbox, source.name)
    assert alert["title"] == f"Incident: {source.name} is failing"
    assert "last 4 connection attempts failed" in alert["message"]
    assert f"https://ops.example.test/hospitals?hospital={source.id}" in alert["message"]
    assert "alert_patient" not in alert["message"]

    await synced(mirror, sandbox)  # nothing new, within the repeat interval
    assert len(about(inbox, source.name)) == 1

    attempt(client, controls, "alert_patient_ok", source.id, ok=True)
    await synced(mirror, sandbox)
    inbox.wait_for(before + 2)
    titles = [m["title"] for m in about(inbox, source.name)]
    assert titles == [
        f"Incident: {source.name} is failing",
        f"RESOLVED: Incident: {source.name} is failing",
    ]


async def test_the_receiver_evaluates_after_applying_events(
    mirror: Mirror,
    sandbox: RunningSandbox,
    client: Medblocks,
    controls: Any,
    receiver: RunningReceiver,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDBLOCKS_ALERT_RULES", "new_failures")
    await synced(mirror, sandbox)
    before = len(inbox.messages)
    # an endpoint nobody listens on: its events are handed to the receiver by the test
    endpoint = client.webhooks.create("http://127.0.0.1:9/unreachable", ["*"])
    with mirror.read() as db:
        active = next(
            row for row in db.execute(schema.connections.select()) if row.status == "active"
        )
    controls.set_status(active.id, "refresh_failed")
    (event,) = [
        e
        for e in client.webhooks.events(endpoint.id)
        if e.type == "connection.token_refresh_failed"
    ]
    body = delivered(event)
    answer = httpx.post(receiver.webhook_url, content=body, headers=signed(body), timeout=10)
    assert answer.status_code == 200
    messages = inbox.wait_for(before + 1)
    assert len(messages) == before + 1, "no alert after the event was applied"
    assert messages[-1]["title"].endswith("1 connection started failing")
    assert "refresh_failed ×1" in messages[-1]["message"]
