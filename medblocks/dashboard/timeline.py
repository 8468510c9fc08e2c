"""A connection's timeline for the patient page: every status the mirror saw it in, from the
status history (`medblocks.mirror.history`).

Per row: the connection and its source, from and to, the failure code, when it happened (the
server's time, or "at least since" the mirror first saw it where the API gives none), when and
how the mirror saw it (a full sync, a webhook event, a dashboard action, a re-read of an open
session) and, for an action, who acted. Times are on the server's clock (`clock`).
"""

from __future__ import annotations

import pandas as pd

from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.tables import empty_cells, texts, time_text

OBSERVED_AS = {
    "sync": "full sync",
    "event": "webhook event",
    "action": "dashboard action",
    "session": "open session re-read",
}
COLUMNS = ["connection", "source", "from", "to", "failure_code", "happened", "seen", "how", "who"]


def timeline_table(
    history: pd.DataFrame, source_names: dict[str, str], clock: ServerClock
) -> pd.DataFrame:
    """`history` (one patient's `status_changes`, oldest first) for people, newest first per
    connection; `source_names` maps source ids to names (missing ones show the id)."""
    if history.empty:
        return pd.DataFrame(columns=COLUMNS)
    exact = history["changed_at_exact"].astype("boolean").fillna(False).astype(bool)
    happened = time_text(clock.seen_or_said(history["changed_at"], exact))
    table = pd.DataFrame(
        {
            "connection": history["connection_id"],
            "source": [source_names.get(s, s) for s in history["source_id"]],
            "from": ["first seen" if pd.isna(s) else s for s in history["from_status"]],
            "to": history["to_status"],
            "failure_code": texts(history["failure_code"]),
            "happened": [
                when if sure else f"at least since {when}"
                for sure, when in zip(exact, happened, strict=True)
            ],
            "seen": time_text(clock.from_local(history["observed_at"])),
            "how": [OBSERVED_AS.get(kind, kind) for kind in history["observed_by"]],
            "who": texts(history["actor"]),
            "order": range(len(history)),
        },
        index=history.index,
    )
    table = table.sort_values(["connection", "order"], ascending=[True, False])
    return empty_cells(table.drop(columns=["order"]).reset_index(drop=True))
