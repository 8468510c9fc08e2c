"""Poll mode: `GET /webhooks/{id}/events` read back to the last event seen, new events applied
oldest first and once, also when the same event arrives by webhook too."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx

from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.events import EventApplier
from medblocks.mirror.poll import checkpoint_name, event_body, poll_events
from medblocks.mirror.store import MirrorWriter
from medblocks.mirror.sync import sync_mirror
from medblocks.sandbox import RunningSandbox
from tests.mirror.conftest import command_env, rows


async def test_poll_applies_new_events_once(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any
) -> None:
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        endpoint = client.webhooks.create("http://127.0.0.1:9/nobody-listens", ["*"])
    async with AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url) as aclient:
        await sync_mirror(mirror, [aclient])
        first = await poll_events(mirror, aclient, endpoint.id)
        assert (first.listed, first.new) == (0, 0)

        conns = [r for r in rows(mirror, schema.connections) if r["status"] == "active"][:2]
        controls.set_status(conns[0]["id"], "refresh_failed")
        controls.set_status(conns[1]["id"], "refresh_failed")
        report = await poll_events(mirror, aclient, endpoint.id)
        assert (report.listed, report.new, report.applied) == (2, 2, 2)
        statuses = {r["id"]: r["status"] for r in rows(mirror, schema.connections)}
        assert statuses[conns[0]["id"]] == statuses[conns[1]["id"]] == "refresh_failed"
        stored = rows(mirror, schema.events)
        assert {e["received_via"] for e in stored} == {"poll"}
        assert mirror.checkpoint(checkpoint_name(endpoint.id)) is not None

        # nothing new: the list is read back to the checkpoint only
        quiet = await poll_events(mirror, aclient, endpoint.id)
        assert (quiet.listed, quiet.new, quiet.requests) == (0, 0, 1)

        # an event the webhook receiver already stored is not applied again by the poll
        controls.set_status(conns[0]["id"], "active")
        listed = [e async for e in aclient.webhooks.events(endpoint.id)]
        newest = event_body(listed[0])
        applier = EventApplier(MirrorWriter(mirror), aclient)
        assert applier.store(newest, "webhook") is True
        await applier.apply(newest)
        again = await poll_events(mirror, aclient, endpoint.id)
        assert (again.listed, again.new) == (1, 0)
        assert len(rows(mirror, schema.events)) == 3
        history = [h for h in rows(mirror, schema.status_changes) if h["observed_by"] == "event"]
        assert sorted((h["from_status"], h["to_status"]) for h in history) == [
            ("active", "refresh_failed"),
            ("active", "refresh_failed"),
            ("refresh_failed", "active"),
        ]


def test_poll_command_line(mirror: Mirror, database_url: str, sandbox: RunningSandbox) -> None:
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        mine = client.webhooks.create("http://127.0.0.1:9/nobody-listens", ["*"])
        conn = next(c for c in client.patients.retrieve("user_1000").connections)
    env = command_env(sandbox, database_url)
    env.pop("MEDBLOCKS_WEBHOOK_ENDPOINT_ID", None)
    done = subprocess.run(
        [sys.executable, "-m", "medblocks", "mirror", "poll"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # the demo organisation has an endpoint of its own too: the command asks which one
    assert done.returncode == 2
    assert "MEDBLOCKS_WEBHOOK_ENDPOINT_ID" in done.stderr
    assert sandbox.api_key not in done.stderr + done.stdout

    wanted = {"status": "refresh_failed" if str(conn.status) != "refresh_failed" else "active"}
    response = httpx.post(
        f"{sandbox.base_url}/_sandbox/connections/{conn.id}/status",
        json=wanted,
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    assert response.status_code == 200
    done = subprocess.run(
        [sys.executable, "-m", "medblocks", "mirror", "poll", "--endpoint", mine.id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"poll of {mine.id}: 1 events listed, 1 new, 1 applied")
    assert [e["type"] for e in rows(mirror, schema.events)] == [
        "connection.token_refresh_failed"
        if wanted["status"] == "refresh_failed"
        else "records.sync.completed"
    ]
