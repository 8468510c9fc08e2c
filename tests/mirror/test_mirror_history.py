"""Status history: every observed change is a row; `failing_since` follows a connection's run
of failing statuses; failures per day by reason and by source, and the time to reconnect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from medblocks.client import AsyncMedblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.history import (
    failures_per_day,
    reconnect_summary,
    reconnects,
    status_changes,
)
from medblocks.mirror.sync import sync_mirror
from medblocks.sandbox import RunningSandbox


def connection(mirror: Mirror, conn_id: str) -> dict[str, Any]:
    with mirror.read() as db:
        row = db.execute(
            sa.select(schema.connections).where(schema.connections.c.id == conn_id)
        ).one()
    return dict(row._mapping)


async def test_history_failing_since_and_trends(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any
) -> None:
    async with AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url) as client:

        async def sync() -> None:
            await sync_mirror(mirror, [client])

        await sync()
        with mirror.read() as db:
            conn_id, source_id = db.execute(
                sa.select(schema.connections.c.id, schema.connections.c.source_id).where(
                    schema.connections.c.status == "active"
                )
            ).first()  # type: ignore[misc]
        baseline = len(status_changes(mirror))

        controls.set_status(conn_id, "failed", "consent_timeout")
        await sync()
        first_failure = connection(mirror, conn_id)
        assert first_failure["failing_since"] is not None

        controls.advance(3 * 3600)
        controls.set_status(conn_id, "refresh_failed")
        await sync()
        still = connection(mirror, conn_id)
        assert still["status"] == "refresh_failed"
        assert still["failing_since"] == first_failure["failing_since"]  # the same failing run

        controls.advance(2 * 3600)
        controls.set_status(conn_id, "active")
        await sync()
        assert connection(mirror, conn_id)["failing_since"] is None

    history = status_changes(mirror)
    mine = history[history["connection_id"] == conn_id]
    assert len(history) == baseline + 3
    pairs = [(r.from_status, r.to_status) for r in mine.itertuples()]
    assert [(f if isinstance(f, str) else None, t) for f, t in pairs] == [
        (None, "active"),
        ("active", "failed"),
        ("failed", "refresh_failed"),
        ("refresh_failed", "active"),
    ]
    assert mine["failure_code"].tolist()[1] == "consent_timeout"

    # the sandbox clock ran 5 hours ahead: look at trends from then
    now = datetime.now(UTC) + timedelta(hours=6)
    by_reason = failures_per_day(mirror, "reason", now=now)
    assert {"consent_timeout", "refresh_failed"} <= set(by_reason["reason"])
    by_source = failures_per_day(mirror, "source_id", now=now)
    assert source_id in set(by_source["source_id"])
    assert by_reason["failures"].sum() == by_source["failures"].sum()
    old = failures_per_day(mirror, "reason", now=now + timedelta(days=400))
    assert old.empty

    back = reconnects(mirror, now=now)
    again = back[back["connection_id"] == conn_id]
    assert len(again) == 1
    assert 4.9 < float(again["hours"].iloc[0]) < 5.2
    summary = reconnect_summary(back)
    assert summary["reconnects"] == len(back) and summary["median_hours"] is not None
