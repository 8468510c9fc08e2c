"""The receiver heals: with the database away while acknowledged events are being applied
(SQLite locked by another connection; PostgreSQL stopped and started with pg_ctl), `/health`
answers 503 saying why, and once the database is back every acknowledged event is applied,
once.

How the events are held "in flight": the receiver re-reads through a client whose transport
waits at a gate (a `threading.Event`) before sending, so every event is acknowledged and
waiting in a worker before the database goes away; the gate opens once it has. The outage lasts
until `/health` has reported it, and at least `MIRROR_OUTAGE_SECONDS` (default 0; the
acceptance's 60 s lock: `MIRROR_OUTAGE_SECONDS=60`).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.mirror import Mirror, open_mirror, schema
from medblocks.mirror.receiver import create_receiver
from medblocks.mirror.server import RunningReceiver, serve_in_thread
from medblocks.sandbox import RunningSandbox
from tests.local_servers import wait_until
from tests.mirror.conftest import WEBHOOK_SECRET, PgCluster, delivered, rows, signed, synced
from tests.mirror.test_mirror_receiver import post

OUTAGE_SECONDS = float(os.environ.get("MIRROR_OUTAGE_SECONDS", "0"))
CHANGED = 4  # connections set to refresh_failed: more events than a worker at a time


class GatedTransport(httpx.AsyncHTTPTransport):
    """Sends each request once `gate` is open (a test hook; the answers are the sandbox's)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.to_thread(self.gate.wait)
        return await super().handle_async_request(request)


def health(receiver: RunningReceiver) -> httpx.Response:
    return httpx.get(receiver.base_url + "/health", timeout=10)


def pending_events(sandbox: RunningSandbox, controls: Any) -> tuple[list[bytes], list[str]]:
    """Signed-ready bodies of the events `CHANGED` status changes produce, and those
    connections' ids (the events wait on an endpoint nobody listens on)."""
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        endpoint = client.webhooks.create("http://127.0.0.1:9/unreachable", ["*"])
        active = [
            conn.id
            for patient in client.patients.list(limit=100)
            for conn in client.patients.retrieve(patient.id).connections
            if str(conn.status) == "active"
        ][:CHANGED]
        assert len(active) == CHANGED
        for conn_id in active:
            controls.set_status(conn_id, "refresh_failed")
        events = list(client.webhooks.events(endpoint.id))
    bodies = [delivered(e) for e in events]
    return bodies, active


async def outage_while_applying(
    mirror: Mirror,
    sandbox: RunningSandbox,
    controls: Any,
    take_away: Callable[[], None],
    bring_back: Callable[[], None],
) -> None:
    await synced(mirror, sandbox)
    bodies, changed = pending_events(sandbox, controls)
    gate = threading.Event()
    app = create_receiver(
        mirror,
        WEBHOOK_SECRET,
        lambda: AsyncMedblocks(
            sandbox.api_key, base_url=sandbox.base_url, transport=GatedTransport(gate)
        ),
    )
    receiver = serve_in_thread(app)
    try:
        for body in bodies:  # acknowledged: stored, waiting in the workers at the gate
            answer = post(receiver, body, signed(body))
            assert answer.status_code == 200 and answer.json()["duplicate"] is False
        assert health(receiver).json()["ok"] is True
        take_away()
        away_since = time.monotonic()
        gate.set()
        wait_until(
            lambda: health(receiver).status_code == 503,
            timeout=120,
            what="/health to say unhealthy",
        )
        said = health(receiver).json()
        assert said["ok"] is False and "database is not taking writes" in said["problem"]
        assert said["pending"] >= 1
        remaining = OUTAGE_SECONDS - (time.monotonic() - away_since)
        if remaining > 0:  # the outage's length is the point here, not a wait for a result
            time.sleep(remaining)
        assert health(receiver).status_code == 503  # still stuck while the database is away
        bring_back()
        wait_until(
            lambda: all(e["applied_at"] for e in rows(mirror, schema.events)),
            timeout=120,
            what="every acknowledged event to be applied",
        )
        wait_until(
            lambda: health(receiver).status_code == 200, timeout=30, what="/health to recover"
        )
    finally:
        gate.set()
        receiver.stop()
    stored = rows(mirror, schema.events)
    assert len(stored) == len(bodies)
    assert all(e["outcome"].startswith("applied") for e in stored), stored
    by_id = {r["id"]: r for r in rows(mirror, schema.connections)}
    assert all(by_id[c]["status"] == "refresh_failed" for c in changed)
    seen = [
        (h["connection_id"], h["from_status"], h["to_status"])
        for h in rows(mirror, schema.status_changes)
        if h["observed_by"] == "event"
    ]
    assert sorted(seen) == sorted((c, "active", "refresh_failed") for c in changed)  # once


async def test_sqlite_locked_while_events_are_applied(
    tmp_path: Any, sandbox: RunningSandbox, controls: Any
) -> None:
    path = tmp_path / "mirror.sqlite3"
    mirror = open_mirror(f"sqlite:///{path}")
    lock = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await outage_while_applying(
            mirror,
            sandbox,
            controls,
            take_away=lambda: lock.execute("BEGIN EXCLUSIVE"),
            bring_back=lambda: lock.execute("COMMIT"),
        )
    finally:
        lock.close()
        mirror.close()


@pytest.fixture
def own_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of this test's own: it is stopped and started mid-test."""
    cluster = PgCluster.create()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.mark.postgres
async def test_postgresql_restarted_while_events_are_applied(
    own_cluster: PgCluster, sandbox: RunningSandbox, controls: Any
) -> None:
    mirror = open_mirror(own_cluster.url)
    try:
        with mirror.read() as db:
            assert db.execute(sa.select(sa.literal(1))).scalar() == 1
        await outage_while_applying(
            mirror,
            sandbox,
            controls,
            take_away=own_cluster.stop,
            bring_back=own_cluster.start,
        )
    finally:
        mirror.close()
