"""How each status reached the mirror: an action re-read at once (with who acted), a scheduled
re-read of open sessions (what no event reports: a direct-mode denial), and "since when" — the
server's time where it says so, else the first time the mirror saw a failure (never the
connection's creation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.events import EventApplier
from medblocks.mirror.history import FIRST_SEEN, HAPPENED, failures_per_day
from medblocks.mirror.store import MirrorWriter
from medblocks.mirror.sync import sync_mirror
from medblocks.mirror.watch import SessionWatcher, open_session_ids, reread_open_sessions
from medblocks.sandbox import RunningSandbox
from tests.local_servers import wait_until

RETURN_URL = "http://127.0.0.1:8501/connected"


def history(mirror: Mirror, patient_id: str) -> list[dict[str, Any]]:
    h = schema.status_changes
    with mirror.read() as db:
        rows = db.execute(sa.select(h).where(h.c.patient_id == patient_id).order_by(h.c.id))
        return [dict(row._mapping) for row in rows]


def connections(mirror: Mirror, patient_id: str) -> list[dict[str, Any]]:
    c = schema.connections
    with mirror.read() as db:
        rows = db.execute(sa.select(c).where(c.c.patient_id == patient_id))
        return [dict(row._mapping) for row in rows]


def first_source(sandbox: RunningSandbox) -> str:
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as api:
        return next(iter(api.sources.list(limit=1))).id


def deny(controls: Any, session_id: str, source: str) -> None:
    """The patient declines at `source` (the sandbox's lever acting as the patient): in direct
    mode the session stays open and no event is sent."""
    controls.post(
        f"/_sandbox/patient-sessions/{session_id}/complete",
        {"outcome": "failed", "failure_code": "user_denied", "connection_id": source},
    )


async def test_an_action_is_recorded_with_who_acted(mirror: Mirror, aclient_for: Any) -> None:
    async with aclient_for() as client:
        session = await client.patient_sessions.create(
            patient_id="obs_action", return_url=RETURN_URL
        )
        applier = EventApplier(MirrorWriter(mirror), client)
        await applier.refresh_session(session.id, observed_by="action", actor="ops@example.org")
    assert open_session_ids(mirror) == [session.id]  # in the mirror at once, no sync

    async with aclient_for() as client:
        await sync_mirror(mirror, [client])
        c = schema.connections
        with mirror.read() as db:
            conn_id, patient = db.execute(
                sa.select(c.c.id, c.c.patient_id).where(c.c.status == "active").limit(1)
            ).one()
        await client.patients.disconnect(patient, conn_id)
        await EventApplier(MirrorWriter(mirror), client).refresh_patient(
            patient, observed_by="action", actor="ops@example.org"
        )
    (row,) = [r for r in history(mirror, patient) if r["to_status"] == "disconnected"]
    assert (row["from_status"], row["observed_by"], row["actor"]) == (
        "active",
        "action",
        "ops@example.org",
    )
    assert row["changed_at_exact"] is True  # a change the mirror saw happen: the server's time
    assert [r["status"] for r in connections(mirror, patient) if r["id"] == conn_id] == [
        "disconnected"
    ]


async def test_a_direct_mode_denial_is_found_by_re_reading_open_sessions(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any, aclient_for: Any
) -> None:
    source = first_source(sandbox)
    async with aclient_for() as client:
        session = await client.patient_sessions.create(
            patient_id="obs_denied", return_url=RETURN_URL, connection_id=source
        )
        await sync_mirror(mirror, [client])
        assert session.id in open_session_ids(mirror)
        assert await reread_open_sessions(mirror, client) == 0  # nothing changed yet

        deny(controls, session.id, source)  # no event: only a re-read finds it
        assert await reread_open_sessions(mirror, client) == 1
    (conn,) = connections(mirror, "obs_denied")
    assert (conn["status"], conn["failure_code"]) == ("failed", "user_denied")
    assert conn["failing_since"] == conn["failure_at"] and conn["failing_since_exact"] is True
    (row,) = history(mirror, "obs_denied")
    assert (row["to_status"], row["observed_by"], row["actor"]) == ("failed", "session", None)


async def test_the_watcher_thread_re_reads_on_its_own(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any, aclient_for: Any
) -> None:
    source = first_source(sandbox)
    async with aclient_for() as client:
        session = await client.patient_sessions.create(
            patient_id="obs_watched", return_url=RETURN_URL, connection_id=source
        )
        await EventApplier(MirrorWriter(mirror), client).refresh_session(session.id)
    watcher = SessionWatcher(
        mirror,
        lambda: AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url),
        interval=0.2,
    ).start()
    try:
        deny(controls, session.id, source)
        wait_until(
            lambda: [c["status"] for c in connections(mirror, "obs_watched")] == ["failed"],
            timeout=60,
            what="the watcher to re-read the session",
        )
    finally:
        watcher.stop()
    assert not watcher._thread.is_alive()


async def test_since_when_is_the_servers_time_or_the_first_sight(
    mirror: Mirror, controls: Any, aclient_for: Any
) -> None:
    async with aclient_for() as client:
        await sync_mirror(mirror, [client])
    c = schema.connections
    with mirror.read() as db:
        rows = [dict(r._mapping) for r in db.execute(sa.select(c))]
        first_sync_at = db.execute(
            sa.select(sa.func.min(schema.status_changes.c.observed_at))
        ).scalar_one()
    failed = [r for r in rows if r["status"] == "failed"]
    others = [r for r in rows if r["status"] in ("refresh_failed", "expired")]
    assert failed and others
    for row in failed:  # the API dates the failure
        assert (row["failing_since"], row["failing_since_exact"]) == (row["failure_at"], True)
    for row in others:  # no failure_at: the first time the mirror saw it failing, not exact
        assert row["failing_since"] != row["created_at"]
        assert row["failing_since"] >= first_sync_at and row["failing_since_exact"] is False
    active = next(r for r in rows if r["status"] == "active")

    controls.advance(3600)
    controls.set_status(active["id"], "refresh_failed")
    async with aclient_for() as client:
        await sync_mirror(mirror, [client])
        detail = await client.patients.retrieve(active["patient_id"])
    now_failing = next(r for r in detail.connections if r.id == active["id"])
    with mirror.read() as db:
        row = db.execute(sa.select(c).where(c.c.id == active["id"])).one()._mapping
    # a change the mirror saw happen: the server's updated_at, exact
    assert (row["failing_since"], row["failing_since_exact"]) == (now_failing.updated_at, True)

    # trends: each failure on its day, those first seen already failing said to be so
    trend = failures_per_day(mirror, "reason", now=datetime.now(UTC) + timedelta(hours=2))
    first_seen = trend[trend["seen"] == FIRST_SEEN]
    assert first_seen["failures"].sum() == len(others)
    assert set(first_seen["reason"]) <= {"refresh_failed", "expired"}
    happened = trend[trend["seen"] == HAPPENED]
    assert "refresh_failed" in set(happened["reason"])  # the change seen above, on its day


def test_the_migrations_build_the_tables_schema_py_describes(mirror: Mirror) -> None:
    inspector = sa.inspect(mirror.reader)
    for table in schema.metadata.sorted_tables:
        found = {column["name"] for column in inspector.get_columns(table.name)}
        assert found == set(table.columns.keys()), table.name
