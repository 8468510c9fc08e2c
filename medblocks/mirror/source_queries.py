"""Per-source figures read from the mirror in a few grouped queries (no API request): the
connections by status, the patients failing now and since when, connection attempts and
failures over trailing windows, and the status-history rows the incident rule reads.

Every figure is grouped by `source_id` in the database, so the work grows with the number of
rows the database scans, not with what Python handles: a page of 100 sources is a few hundred
rows whatever the size of the organisation.

- An **attempt** is a connection created in the window (each session attempt at a hospital
  creates one); it **failed** when its status is `failed` (the API's status for an attempt that
  never became active; `refresh_failed`, `expired` and `disconnected` were active first).
- A **failure** is a row of the status history whose new status is failing (`failed`,
  `refresh_failed`, `expired`), dated by the server.
- An **observation** (incident rule) is a history row whose new status is `active` or failing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from medblocks.mirror import schema
from medblocks.mirror.db import Mirror
from medblocks.mirror.store import FAILING

WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
OBSERVED = ("active", *sorted(FAILING))
SOURCE_NAMES = "source_names"  # checkpoint: the catalog's names by source id, for messages


def iso(moment: datetime) -> str:
    """A moment written the way the mirror stores timestamps (so text comparison is time order)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rows(mirror: Mirror, query: sa.Select[Any]) -> pd.DataFrame:
    with mirror.read() as db:
        result = db.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _count_if(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def status_counts(mirror: Mirror) -> pd.DataFrame:
    """`source_id`, `status`, `connections`: one row per source and status present."""
    c = schema.connections
    query = sa.select(c.c.source_id, c.c.status, sa.func.count().label("connections")).group_by(
        c.c.source_id, c.c.status
    )
    return _rows(mirror, query)


def failing_now(mirror: Mirror) -> pd.DataFrame:
    """`source_id`, `patients_failing`, `failing_since` (the oldest failing connection's)."""
    c = schema.connections
    query = (
        sa.select(
            c.c.source_id,
            sa.func.count(sa.distinct(c.c.patient_id)).label("patients_failing"),
            sa.func.min(c.c.failing_since).label("failing_since"),
        )
        .where(c.c.status.in_(sorted(FAILING)))
        .group_by(c.c.source_id)
    )
    return _rows(mirror, query)


def attempts(mirror: Mirror, now: datetime) -> pd.DataFrame:
    """`source_id`, then `attempts_<w>` and `failed_attempts_<w>` for each window."""
    c = schema.connections
    starts = {name: iso(now - span) for name, span in WINDOWS.items()}
    columns = []
    for name, start in starts.items():
        columns.append(_count_if(c.c.created_at >= start).label(f"attempts_{name}"))
        failed = sa.and_(c.c.created_at >= start, c.c.status == "failed")
        columns.append(_count_if(failed).label(f"failed_attempts_{name}"))
    query = (
        sa.select(c.c.source_id, *columns)
        .where(c.c.created_at >= min(starts.values()))
        .group_by(c.c.source_id)
    )
    return _rows(mirror, query)


def failures(mirror: Mirror, now: datetime) -> pd.DataFrame:
    """`source_id`, then `failures_<w>` for each window (failing rows of the history)."""
    h = schema.status_changes
    starts = {name: iso(now - span) for name, span in WINDOWS.items()}
    columns = [
        _count_if(h.c.changed_at >= start).label(f"failures_{name}")
        for name, start in starts.items()
    ]
    query = (
        sa.select(h.c.source_id, *columns)
        .where(h.c.to_status.in_(sorted(FAILING)), h.c.changed_at >= min(starts.values()))
        .group_by(h.c.source_id)
    )
    return _rows(mirror, query)


def observation_counts(mirror: Mirror, start: datetime, end: datetime) -> pd.DataFrame:
    """`source_id`, `observations`, `failures` of the history rows in [start, end)."""
    h = schema.status_changes
    query = (
        sa.select(
            h.c.source_id,
            sa.func.count().label("observations"),
            _count_if(h.c.to_status.in_(sorted(FAILING))).label("failures"),
        )
        .where(
            h.c.to_status.in_(OBSERVED),
            h.c.changed_at >= iso(start),
            h.c.changed_at < iso(end),
        )
        .group_by(h.c.source_id)
    )
    return _rows(mirror, query)


def observations(mirror: Mirror, start: datetime, sources: list[str] | None = None) -> pd.DataFrame:
    """`source_id`, `to_status`, `changed_at` (text) of the history rows since `start`, in
    order; only for `sources` when given."""
    h = schema.status_changes
    query = (
        sa.select(h.c.source_id, h.c.to_status, h.c.changed_at)
        .where(h.c.to_status.in_(OBSERVED), h.c.changed_at >= iso(start))
        .order_by(h.c.source_id, h.c.changed_at, h.c.id)
    )
    if sources is not None:
        query = query.where(h.c.source_id.in_(sources))
    return _rows(mirror, query)


def last_activity(mirror: Mirror) -> str | None:
    """The newest write the mirror records: a checkpoint (every sync page, the end of a sync,
    every change; not the saved source names) or a received event; None for a mirror never
    written."""
    k, e = schema.checkpoints, schema.events
    with mirror.read() as db:
        moments = [
            db.execute(
                sa.select(sa.func.max(k.c.updated_at)).where(k.c.name != SOURCE_NAMES)
            ).scalar(),
            db.execute(sa.select(sa.func.max(e.c.received_at))).scalar(),
        ]
    found = [m for m in moments if m]
    return max(found) if found else None
