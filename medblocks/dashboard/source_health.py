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

from medblocks.dashboard.ops_wording import ops_wording
from medblocks.dashboard.tables import time_text
from medblocks.mirror import source_queries as q
from medblocks.mirror.db import Mirror
from medblocks.mirror.statuses import FAILING, STATUSES

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


def usual_rates(history: pd.DataFrame) -> dict[str, float]:
    """Each source's usual failure rate, from `source_queries.history_figures`."""
    return {
        str(row.source_id): int(row.usual_failures) / int(row.usual_observations)
        for row in history.itertuples()
        if int(row.usual_observations)
    }


def history_figures(
    mirror: Mirror, now: datetime, sources: list[str] | None = None
) -> pd.DataFrame:
    return q.history_figures(mirror, now, INCIDENT_WINDOW, BASELINE_WINDOW, sources)


def incidents(
    mirror: Mirror, now: datetime, history: pd.DataFrame | None = None
) -> dict[str, Incident]:
    """The sources in an incident now (the rule in this module's docstring), by source id;
    `history` is `history_figures(mirror, now)` when the caller has it already (otherwise the
    usual rates are read only for the sources whose newest attempts all failed)."""
    rows = q.observations(mirror, now - INCIDENT_WINDOW)
    streaks = {}
    for source_id, group in rows.groupby("source_id", sort=False):
        statuses = group["to_status"].tolist()
        succeeded = [i for i, status in enumerate(statuses) if status == "active"]
        start = succeeded[-1] + 1 if succeeded else 0
        if len(statuses) - start >= INCIDENT_MIN_FAILURES:
            rate = (len(statuses) - len(succeeded)) / len(statuses)
            streaks[str(source_id)] = (group["changed_at"].iloc[start], len(statuses) - start, rate)
    if not streaks:
        return {}
    if history is None:
        history = history_figures(mirror, now, sorted(streaks))
    usual = usual_rates(history)
    found = {}
    for source_id, (started, streak, rate) in streaks.items():
        base = usual.get(source_id, 0.0)
        if rate >= max(INCIDENT_FACTOR * base, base + INCIDENT_MARGIN):
            started_at = pd.Timestamp(started).to_pydatetime()
            found[source_id] = Incident(source_id, started_at, streak, rate, base)
    return found


FRAME_COLUMNS = [
    "source_id",
    "source",
    *STATUSES,
    "patients_failing",
    "failing_since",
    "failing_since_exact",
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
    connections = q.connection_figures(mirror, now, STATUSES).set_index("source_id")
    history = history_figures(mirror, now)
    frame = connections.join(history.set_index("source_id"), how="outer").reset_index()
    counted = [*STATUSES, "patients_failing"] + [
        f"{kind}_{w}" for w in WINDOW_NAMES for kind in ("attempts", "failed_attempts", "failures")
    ]
    frame[counted] = frame[counted].fillna(0).astype(int)
    for w in WINDOW_NAMES:
        tried = frame[f"attempts_{w}"]
        ok = tried - frame[f"failed_attempts_{w}"]
        frame[f"success_rate_{w}"] = (ok / tried.where(tried > 0)).astype(float)
    # "since when" is true or says what it knows: exact when the oldest failing start is one
    # the server dated (or a change the mirror saw), else "at least since" its first sighting
    frame["failing_since_exact"] = frame["failing_since"].notna() & (
        frame["failing_since_exact"] == frame["failing_since"]
    )
    frame["failing_since"] = pd.to_datetime(frame["failing_since"], utc=True, format="ISO8601")
    found = incidents(mirror, now, history)
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


REASON_COLUMNS = ["reason", "connections", "what_happened", "who_acts", "what_to_do"]


def reasons_table(mirror: Mirror, source_id: str) -> pd.DataFrame:
    """Why one source's connections are failing, in ops words (`ops_wording`), most first."""
    rows = []
    for row in q.failing_reasons(mirror, source_id).itertuples():
        code = row.failure_code if isinstance(row.failure_code, str) else None
        words = ops_wording(row.status, code)
        rows.append(
            {
                "reason": code or row.status,
                "connections": int(row.connections),
                "what_happened": words.what_happened,
                "who_acts": words.who_acts,
                "what_to_do": words.what_to_do,
            }
        )
    return pd.DataFrame(rows, columns=REASON_COLUMNS)


def worst_sources(frame: pd.DataFrame, limit: int = 3) -> pd.DataFrame:
    """The sources worth naming: in an incident or with patients failing now, worst first."""
    troubled = frame[frame["incident"] | (frame["patients_failing"] > 0)]
    return troubled.head(limit).reset_index(drop=True)


def in_incident(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of the sources in an incident, worst first (as `sources_frame` orders them)."""
    return list(frame[frame["incident"]].to_dict("records"))


def link_names(frame: pd.DataFrame) -> list[str]:
    """What a link's `?hospital=` may name: a source's name (the page's own links) or its id
    (the alerts' links)."""
    return [*frame["source"], *frame["source_id"]]


def hospital_row(frame: pd.DataFrame, name: str) -> dict[str, Any]:
    """The row of the source named `name` (one of the frame's)."""
    return dict(frame[frame["source"] == name].iloc[0].to_dict())


def failures_of(per_day: pd.DataFrame, source_id: str) -> pd.DataFrame:
    """One source's failures per day (`history.failures_per_day(…, "source_id")`)."""
    return per_day[per_day["source_id"] == source_id]


def find_source(frame: pd.DataFrame, asked: str) -> str | None:
    """The name of the source `asked` names (by name, or by id as alerts link to it)."""
    for source_id, name in zip(frame["source_id"], frame["source"], strict=True):
        if asked in (source_id, name):
            return str(name)
    return None


def health_query(source: str) -> dict[str, Any]:
    """Connection health's query parameters for one source's failing connections (its source
    filter is the name the page shows)."""
    return {"source": source, "status": list(FAILING)}


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
            + ("" if pd.isna(since) else f" ({since_text(since, row['failing_since_exact'])})")
        )
    parts.append(f"{int(row['failures_24h'])} failures in 24 h")
    return " · ".join(parts)


def _when(moment: Any) -> str:
    return time_text([moment])[0]


def since_text(moment: Any, exact: Any) -> str:
    """ "since …" for a start the server dated, "at least since …" for a first sighting."""
    return f"since {_when(moment)}" if bool(exact) else f"at least since {_when(moment)}"


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
            "failing_since": [
                "" if pd.isna(since) else since_text(since, exact)
                for since, exact in zip(
                    frame["failing_since"], frame["failing_since_exact"], strict=True
                )
            ],
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
