"""Connection health's rows and lists: the mirror's connections joined with source names and
patient names (masked unless revealed), on the server's clock; the filters the page keeps in
its URL; what each tab lists; the row a link opens.

The page (`ui_pages/connection_health.py`) draws these; the row actions themselves (a new
session link, a disconnect, bulk links) are `row_actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from medblocks.dashboard.bidi import visible_controls
from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.frames import rows_with
from medblocks.dashboard.masking import shown_name
from medblocks.dashboard.sources import source_name
from medblocks.dashboard.tables import health_table
from medblocks.mirror.statuses import FAILING

MAX_FAILING_DAYS = 36500
"""The largest "Failing for at least (days)" the page (and its URL) takes: a hundred years."""

ALL_COLUMNS = [
    "patient_link",
    "name",
    "source",
    "status",
    "what_happened",
    "failing_for",
    "failing_since",
    "connected_for",
    "records_arrived",
    "stuck_pull",
    "who_acts",
    "id",
]
"""The "All connections" table."""

CSV_COLUMNS = [*ALL_COLUMNS[1:], "patient_id", "failure_code", "tell_patient"]
"""Its download: the patient id instead of the link, and what the table leaves out."""

ATTENTION_COLUMNS = [
    "patient_link",
    "name",
    "source",
    "status",
    "failing_for",
    "who_acts",
    "tell_patient",
]
STUCK_COLUMNS = ["patient_link", "source", "updated", "id"]


def health_rows(
    health: pd.DataFrame,
    catalog: dict[str, dict[str, Any]],
    patients: pd.DataFrame,
    clock: ServerClock,
    *,
    reveal: bool,
) -> pd.DataFrame:
    """Every connection for people (`tables.health_table`): the mirror's health frame joined
    with each source's name from the catalog (its id where the catalog lacks it) and each
    patient's name from the mirror's `patients` (masked unless `reveal`); "failing since" on
    the server's clock whether the server said it or the mirror first saw it (kept as a time
    in `failing_since_at`, beside the words)."""
    frame = health.copy()
    frame["source"] = [source_name(catalog, s) for s in frame["source_id"]]
    names = patients.set_index("patient_id")["name"].to_dict()
    frame["name"] = [shown_name(names.get(p), reveal=reveal) for p in frame["patient_id"]]
    frame["failing_since"] = clock.seen_or_said(
        frame["failing_since"], frame["failing_since_exact"]
    )
    table = health_table(frame, clock.now())
    table["failing_since_at"] = frame["failing_since"]  # the time itself, to sort by
    return table


def source_options(table: pd.DataFrame) -> list[str]:
    """The sources the "Source" filter offers: those in the table, sorted."""
    return sorted(s for s in table["source"].unique() if s)


def code_options(table: pd.DataFrame) -> list[str]:
    """The failure codes the "Failure code" filter offers: those in the table, sorted."""
    return sorted(c for c in table["failure_code"].unique() if c)


@dataclass(frozen=True)
class HealthFilters:
    """What the page's filters chose (each empty or 0: no filter on it)."""

    statuses: Sequence[str] = ()
    sources: Sequence[str] = ()
    codes: Sequence[str] = ()
    failing_days: int = 0


def filtered(table: pd.DataFrame, chosen: HealthFilters) -> pd.DataFrame:
    """The rows every chosen filter keeps (they combine: a row must pass each)."""
    view = rows_with(table, "status", chosen.statuses)
    view = rows_with(view, "source", chosen.sources)
    view = rows_with(view, "failure_code", chosen.codes)
    if chosen.failing_days:
        view = view[view["failing_days"] >= chosen.failing_days]
    return view


def needs_attention(view: pd.DataFrame) -> pd.DataFrame:
    """The rows whose patient must connect again (failed, refresh_failed, expired), the longest
    failing first (by the time, not its words: "at least since …" sorts with the others)."""
    attention = view[view["status"].isin(FAILING)]
    return attention.sort_values("failing_since_at", kind="stable", na_position="last")


def stuck_pulls(view: pd.DataFrame) -> pd.DataFrame:
    """Active connections from whose source no record arrived in time (`frames.STUCK_AFTER`)."""
    return view[view["stuck_pull"]]


def connection_row(table: pd.DataFrame, connection_id: str | None) -> pd.Series | None:
    """The row of `connection_id` (a link's `?connection=`), or None."""
    chosen = table[table["id"] == connection_id]
    return chosen.iloc[0] if len(chosen) else None


def row_heading(row: pd.Series) -> str:
    """One line naming the selected connection: patient, source, status, how long failing."""
    said = visible_controls(f"Patient {row['patient_id']} · {row['source']} · {row['status']}")
    return said + (f" for {row['failing_for']}" if row["failing_for"] else "")


def row_notes(row: pd.Series) -> list[str]:
    """What happened and what to tell the patient, where there is something to say."""
    labels = (("What happened", "what_happened"), ("Tell the patient", "tell_patient"))
    return [f"{label}: {row[key]}" for label, key in labels if row[key]]
