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
from medblocks.mirror.statuses import FAILING

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


def connection_figures(mirror: Mirror, now: datetime, statuses: tuple[str, ...]) -> pd.DataFrame:
    """One scan of the connections, grouped by source: `source_id`, a count per status of
    `statuses`, `patients_failing` (distinct patients with a failing connection),
    `failing_since` (the oldest failing connection's), `failing_since_exact` (the oldest among
    those whose start the server dated: equal to `failing_since` when that one is exact), then
    `attempts_<w>` and `failed_attempts_<w>` for each window."""
    c = schema.connections
    failing = c.c.status.in_(sorted(FAILING))
    columns = [_count_if(c.c.status == status).label(status) for status in statuses]
    columns.append(
        sa.func.count(sa.distinct(sa.case((failing, c.c.patient_id)))).label("patients_failing")
    )
    columns.append(sa.func.min(sa.case((failing, c.c.failing_since))).label("failing_since"))
    exact = sa.and_(failing, c.c.failing_since_exact.is_(True))
    columns.append(sa.func.min(sa.case((exact, c.c.failing_since))).label("failing_since_exact"))
    for name, span in WINDOWS.items():
        start = iso(now - span)
        columns.append(_count_if(c.c.created_at >= start).label(f"attempts_{name}"))
        failed = sa.and_(c.c.created_at >= start, c.c.status == "failed")
        columns.append(_count_if(failed).label(f"failed_attempts_{name}"))
    return _rows(mirror, sa.select(c.c.source_id, *columns).group_by(c.c.source_id))


def history_figures(
    mirror: Mirror,
    now: datetime,
    recent: timedelta,
    usual: timedelta,
    sources: list[str] | None = None,
) -> pd.DataFrame:
    """One scan of the status history, grouped by source (only `sources` when given):
    `failures_<w>` for each window, and the `usual_observations` and `usual_failures` of the
    `usual` span before the last `recent` (the incident rule's usual rate)."""
    h = schema.status_changes
    failing = h.c.to_status.in_(sorted(FAILING))
    columns = [
        _count_if(sa.and_(failing, h.c.changed_at >= iso(now - span))).label(f"failures_{name}")
        for name, span in WINDOWS.items()
    ]
    usual_start, usual_end = iso(now - recent - usual), iso(now - recent)
    in_usual = sa.and_(h.c.changed_at >= usual_start, h.c.changed_at < usual_end)
    columns.append(_count_if(in_usual).label("usual_observations"))
    columns.append(_count_if(sa.and_(in_usual, failing)).label("usual_failures"))
    oldest = min(usual_start, *(iso(now - span) for span in WINDOWS.values()))
    query = (
        sa.select(h.c.source_id, *columns)
        .where(h.c.to_status.in_(OBSERVED), h.c.changed_at >= oldest)
        .group_by(h.c.source_id)
    )
    if sources is not None:
        query = query.where(h.c.source_id.in_(sources))
    return _rows(mirror, query)


def failing_reasons(mirror: Mirror, source_id: str) -> pd.DataFrame:
    """`status`, `failure_code`, `connections`: one source's failing connections by reason,
    most first."""
    c = schema.connections
    count = sa.func.count().label("connections")
    query = (
        sa.select(c.c.status, c.c.failure_code, count)
        .where(c.c.source_id == source_id, c.c.status.in_(sorted(FAILING)))
        .group_by(c.c.status, c.c.failure_code)
        .order_by(count.desc(), c.c.status, c.c.failure_code)
    )
    return _rows(mirror, query)


def observations(mirror: Mirror, start: datetime) -> pd.DataFrame:
    """`source_id`, `to_status`, `changed_at` (text) of the history rows since `start`, in
    order."""
    h = schema.status_changes
    query = (
        sa.select(h.c.source_id, h.c.to_status, h.c.changed_at)
        .where(h.c.to_status.in_(OBSERVED), h.c.changed_at >= iso(start))
        .order_by(h.c.source_id, h.c.changed_at, h.c.id)
    )
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
