"""What the status history says: failures per day (by failure code and by source) and the time
patients take to reconnect, over a trailing window.

A failure is a row of `status_changes` whose new status is failing (`failed`,
`refresh_failed`, `expired`); its reason is the failure code, or the status itself where the
API gives no code (`refresh_failed`, `expired`). A reconnect is a connection that went from a
failing status back to `active`; the time is from the start of that failing run (the first
failing row after the connection was last fine) to the `active` row, both as the server dated
them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from medblocks.mirror import schema
from medblocks.mirror.db import Mirror
from medblocks.mirror.statuses import FAILING

TREND_DAYS = 30
HISTORY_COLUMNS = [
    "connection_id",
    "patient_id",
    "source_id",
    "from_status",
    "to_status",
    "failure_code",
    "changed_at",
    "changed_at_exact",
    "observed_at",
    "observed_by",
    "actor",
]
HAPPENED = "happened that day"
FIRST_SEEN = "first seen that day (may have happened earlier)"
"""How a failure is counted on its day: on the day the server dates it, or — a connection the
mirror first saw already failing, with no date from the API — on the day the mirror first saw
it (its first sync, say)."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_changes(
    mirror: Mirror, *, since: datetime | None = None, patient_id: str | None = None
) -> pd.DataFrame:
    """The history rows (optionally those changed since `since`, or one patient's), oldest
    first."""
    h = schema.status_changes
    query = sa.select(*(h.c[name] for name in HISTORY_COLUMNS)).order_by(h.c.changed_at, h.c.id)
    if since is not None:
        query = query.where(h.c.changed_at >= _iso(since))
    if patient_id is not None:
        query = query.where(h.c.patient_id == patient_id)
    with mirror.read() as db:
        frame = pd.DataFrame(db.execute(query).all(), columns=HISTORY_COLUMNS)
    for column in ("changed_at", "observed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def failures_per_day(
    mirror: Mirror, by: str, *, days: int = TREND_DAYS, now: datetime | None = None
) -> pd.DataFrame:
    """Columns `day`, `by` (`reason` or `source_id`), `seen` (`HAPPENED` or `FIRST_SEEN`),
    `failures`: one row per day, value and kind of date."""
    if by not in ("reason", "source_id"):
        raise ValueError("by must be 'reason' or 'source_id'")
    now = now or datetime.now(UTC)
    frame = status_changes(mirror, since=now - timedelta(days=days))
    failing = frame[frame["to_status"].isin(FAILING)].copy()
    failing["reason"] = failing["failure_code"].fillna(failing["to_status"])
    failing["day"] = failing["changed_at"].dt.floor("D")
    exact = failing["changed_at_exact"].astype("boolean").fillna(False).astype(bool)
    first_sight = failing["from_status"].isna() & ~exact
    failing["seen"] = first_sight.map({True: FIRST_SEEN, False: HAPPENED})
    counts = failing.groupby(["day", by, "seen"]).size().rename("failures").reset_index()
    return counts.sort_values(["day", by, "seen"]).reset_index(drop=True)


def reconnects(
    mirror: Mirror, *, days: int = TREND_DAYS, now: datetime | None = None
) -> pd.DataFrame:
    """One row per reconnect ending in the window: connection, patient, source, `failed_at`,
    `reconnected_at`, `hours`."""
    now = now or datetime.now(UTC)
    frame = status_changes(mirror)
    rows = []
    for (connection_id, patient_id, source_id), group in frame.groupby(
        ["connection_id", "patient_id", "source_id"], sort=False
    ):
        failing_since = None
        for status, changed in zip(group["to_status"], group["changed_at"], strict=True):
            if status in FAILING:
                failing_since = failing_since or changed
            elif status == "active" and failing_since is not None:
                rows.append((connection_id, patient_id, source_id, failing_since, changed))
                failing_since = None
            else:
                failing_since = None
    result = pd.DataFrame(
        rows, columns=["connection_id", "patient_id", "source_id", "failed_at", "reconnected_at"]
    )
    for column in ("failed_at", "reconnected_at"):
        result[column] = pd.to_datetime(result[column], utc=True)
    result["hours"] = (result["reconnected_at"] - result["failed_at"]).dt.total_seconds() / 3600
    start = pd.Timestamp(now - timedelta(days=days))
    return result[result["reconnected_at"] >= start].reset_index(drop=True)


def reconnect_summary(frame: pd.DataFrame) -> dict[str, float | int | None]:
    """Count, median and 90th percentile of the hours to reconnect."""
    hours = frame["hours"]
    if hours.empty:
        return {"reconnects": 0, "median_hours": None, "p90_hours": None}
    return {
        "reconnects": int(hours.size),
        "median_hours": float(hours.median()),
        "p90_hours": float(hours.quantile(0.9)),
    }
