"""The Sessions page's list: every session in the mirror, filtered by status and mode, with its
source named from the catalog, as people read it (`tables.sessions_table`: the link to resend
while open, "expiring soon" within the chosen minutes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, get_args

import pandas as pd

from medblocks.client.operations import SessionStatusFilter
from medblocks.dashboard.frames import rows_with
from medblocks.dashboard.launch import Mode
from medblocks.dashboard.sources import with_source_names
from medblocks.dashboard.tables import sessions_table

SESSION_STATUSES: tuple[str, ...] = get_args(SessionStatusFilter)
MODES: tuple[str, ...] = get_args(Mode)

COLUMNS = [
    "id",
    "patient_link",
    "status",
    "expires",
    "expires_soon",
    "hosted_url",
    "mode",
    "source",
    "attempts",
    "active_connections",
    "created",
]
CSV_COLUMNS = [c for c in COLUMNS if c != "patient_link"]


def session_rows(
    sessions: pd.DataFrame,
    catalog: dict[str, dict[str, Any]],
    *,
    statuses: Sequence[str],
    modes: Sequence[str],
    now: datetime,
    within_minutes: int,
) -> pd.DataFrame:
    """The sessions both filters keep (an empty one keeps all), for people."""
    kept = rows_with(rows_with(sessions, "status", statuses), "mode", modes)
    return sessions_table(with_source_names(kept, catalog), now, within_minutes)
