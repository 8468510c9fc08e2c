"""Hospitals (sources) as a view, the way an institution status page works: per source, its
connections by status, the patients failing now and since when, the attempt success rate and
the failures over 24 h / 7 d / 30 d, and whether it is in an incident.

The incident rule (one rule, read by this view and by the alerts):

  A source is **in an incident** when, over the last 24 hours of its status history,
  (a) its newest `INCIDENT_MIN_FAILURES` (3) observations are all failures (no connection of
  that source became active since), and (b) its failure rate over those 24 hours is at least
  `INCIDENT_FACTOR` (2x) its usual rate AND at least `INCIDENT_MARGIN` (20 points) above it.
  The usual rate is the source's failure rate over the 30 days before those 24 hours (0 when
  nothing was seen then). The incident **started** at the first failure after the source's
  last success in the window (the first failure of the window when there was none), and it
  **ends** at the next success: one connection of that source becoming active.

An observation is a history row whose new status is `active` or failing; a failure, one whose
new status is failing (`medblocks/mirror/source_queries.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from medblocks.dashboard.connection_guidance import NEEDS_ATTENTION, STATUSES
from medblocks.dashboard.display import time_text
from medblocks.mirror import source_queries as q
from medblocks.mirror.db import Mirror

INCIDENT_MIN_FAILURES = 3
INCIDENT_FACTOR = 2.0
INCIDENT_MARGIN = 0.2
INCIDENT_WINDOW = timedelta(hours=24)
BASELINE_WINDOW = timedelta(days=30)
WINDOW_NAMES = tuple(q.WINDOWS)
HEALTH_PAGE = "health"


@dataclass(frozen=True)
class Incident:
    source_id: str
    started_at: datetime
    failures_in_a_row: int
    rate: float  # failure rate over the incident window
    usual_rate: float  # the same over the 30 days before it


def _usual_rates(mirror: Mirror, now: datetime) -> dict[str, float]:
    start = now - INCIDENT_WINDOW
    counts = q.observation_counts(mirror, start - BASELINE_WINDOW, start)
    return {
        str(row.source_id): (int(row.failures) / int(row.observations))
        for row in counts.itertuples()
        if int(row.observations)
    }


def incidents(
    mirror: Mirror, now: datetime, sources: list[str] | None = None
) -> dict[str, Incident]:
    """The sources in an incident now (the rule in this module's docstring), by source id."""
    rows = q.observations(mirror, now - INCIDENT_WINDOW, sources)
    if rows.empty:
        return {}
    usual = _usual_rates(mirror, now)
    found = {}
    for source_id, group in rows.groupby("source_id", sort=False):
        statuses = group["to_status"].tolist()
        succeeded = [i for i, status in enumerate(statuses) if status == "active"]
        streak_start = succeeded[-1] + 1 if succeeded else 0
        streak = len(statuses) - streak_start
        if streak < INCIDENT_MIN_FAILURES:
            continue
        rate = (len(statuses) - len(succeeded)) / len(statuses)
        base = usual.get(str(source_id), 0.0)
        if rate < max(INCIDENT_FACTOR * base, base + INCIDENT_MARGIN):
            continue
        started = pd.Timestamp(group["changed_at"].iloc[streak_start]).to_pydatetime()
        found[str(source_id)] = Incident(str(source_id), started, streak, rate, base)
    return found


FRAME_COLUMNS = [
    "source_id",
    "source",
    *STATUSES,
    "patients_failing",
    "failing_since",
    *(f"success_rate_{w}" for w in WINDOW_NAMES),
    *(f"attempts_{w}" for w in WINDOW_NAMES),
    *(f"failures_{w}" for w in WINDOW_NAMES),
    "incident",
    "incident_since",
]


def sources_frame(mirror: Mirror, now: datetime, names: Mapping[str, str]) -> pd.DataFrame:
    """One row per source the mirror knows (a connection or a history row), worst first:
    incidents, then the most patients failing now, then the most failures over 7 days.
    `names` maps source ids to the catalog's names (a missing one shows the id)."""
    counts = q.status_counts(mirror)
    by_status = (
        counts.pivot_table(index="source_id", columns="status", values="connections", aggfunc="sum")
        if not counts.empty
        else pd.DataFrame()
    )
    frame = pd.DataFrame(index=pd.Index([], name="source_id"))
    frame = frame.join(by_status, how="outer")
    for other in (q.failing_now(mirror), q.attempts(mirror, now), q.failures(mirror, now)):
        if not other.empty:
            frame = frame.join(other.set_index("source_id"), how="outer")
    frame = frame.reset_index()
    for status in STATUSES:
        if status not in frame:
            frame[status] = 0
    for w in WINDOW_NAMES:
        for column in (f"attempts_{w}", f"failed_attempts_{w}", f"failures_{w}"):
            if column not in frame:
                frame[column] = 0
    for column in ("patients_failing", "failing_since"):
        if column not in frame:
            frame[column] = None
    counted = [*STATUSES, "patients_failing"] + [
        f"{kind}_{w}" for w in WINDOW_NAMES for kind in ("attempts", "failed_attempts", "failures")
    ]
    frame[counted] = frame[counted].fillna(0).astype(int)
    for w in WINDOW_NAMES:
        tried = frame[f"attempts_{w}"]
        ok = tried - frame[f"failed_attempts_{w}"]
        frame[f"success_rate_{w}"] = (ok / tried.where(tried > 0)).astype(float)
    frame["failing_since"] = pd.to_datetime(frame["failing_since"], utc=True, format="ISO8601")
    found = incidents(mirror, now)
    frame["incident"] = frame["source_id"].isin(list(found))
    frame["incident_since"] = pd.to_datetime(
        [found[s].started_at if s in found else None for s in frame["source_id"]], utc=True
    )
    frame["source"] = [names.get(s, s) for s in frame["source_id"]]
    frame = frame.sort_values(
        ["incident", "patients_failing", "failures_7d", "source"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    return frame[FRAME_COLUMNS].reset_index(drop=True)


def worst_sources(frame: pd.DataFrame, limit: int = 3) -> pd.DataFrame:
    """The sources worth naming: in an incident or with patients failing now, worst first."""
    troubled = frame[frame["incident"] | (frame["patients_failing"] > 0)]
    return troubled.head(limit).reset_index(drop=True)


def find_source(frame: pd.DataFrame, asked: str) -> str | None:
    """The name of the source `asked` names (by name, or by id as alerts link to it)."""
    for source_id, name in zip(frame["source_id"], frame["source"], strict=True):
        if asked in (source_id, name):
            return str(name)
    return None


def health_query(source: str) -> dict[str, Any]:
    """Connection health's query parameters for one source's failing connections (its source
    filter is the name the page shows)."""
    return {"source": source, "status": list(NEEDS_ATTENTION)}


def source_summary(row: Mapping[str, Any]) -> str:
    """One line in ops words, e.g. "Incident since 2026-12-04 09:12 UTC · 4 patients failing
    now (since 2026-12-01 10:00 UTC) · 12 failures in 24 h"."""
    parts = []
    if row["incident"]:
        parts.append(f"Incident since {_when(row['incident_since'])}")
    failing = int(row["patients_failing"])
    if failing:
        since = row["failing_since"]
        parts.append(
            f"{failing} patient{'s' if failing != 1 else ''} failing now"
            + ("" if pd.isna(since) else f" (since {_when(since)})")
        )
    parts.append(f"{int(row['failures_24h'])} failures in 24 h")
    return " · ".join(parts)


def _when(moment: Any) -> str:
    return time_text([moment])[0]


def health_link(source: str) -> str:
    """Connection health filtered to one source's failing connections (relative to the app)."""
    return f"{HEALTH_PAGE}?" + urlencode(health_query(source), doseq=True)


TABLE_LABELS = {
    "source": "Hospital",
    "state": "State",
    "patients_failing": "Patients failing now",
    "failing_since": "Failing since",
    "failures_24h": "Failures 24 h",
    "failures_7d": "Failures 7 d",
    "failures_30d": "Failures 30 d",
    "success_24h": "Attempts OK 24 h",
    "success_7d": "Attempts OK 7 d",
    "success_30d": "Attempts OK 30 d",
    **{status: f"Connections {status.replace('_', ' ')}" for status in STATUSES},
    "failing_link": "Failing connections",
}


def _share(ok: Any, tried: int) -> str:
    return "no attempts" if not tried else f"{ok:.0%} of {tried}"


def sources_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The view for people: state in words, times to the minute, rates as "80% of 10", and a
    link to the failing connections (keys of `TABLE_LABELS`)."""
    table = pd.DataFrame(
        {
            "source": frame["source"],
            "state": [
                f"incident since {_when(since)}" if incident else "failing" if failing else "ok"
                for incident, since, failing in zip(
                    frame["incident"],
                    frame["incident_since"],
                    frame["patients_failing"],
                    strict=True,
                )
            ],
            "patients_failing": frame["patients_failing"],
            "failing_since": time_text(frame["failing_since"]),
            **{f"failures_{w}": frame[f"failures_{w}"] for w in WINDOW_NAMES},
            **{
                f"success_{w}": [
                    _share(rate, int(tried))
                    for rate, tried in zip(
                        frame[f"success_rate_{w}"], frame[f"attempts_{w}"], strict=True
                    )
                ]
                for w in WINDOW_NAMES
            },
            **{status: frame[status] for status in STATUSES},
            "failing_link": [
                health_link(name) if failing else None
                for name, failing in zip(frame["source"], frame["patients_failing"], strict=True)
            ],
        }
    )
    return table
