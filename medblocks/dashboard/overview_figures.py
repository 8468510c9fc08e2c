"""Overview figures: tiles, the session funnel, and failure codes as a share of attempts."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from medblocks.mirror.statuses import FAILING, STATUSES

FUNNEL_STAGES = ("created", "complete", "connected")


@dataclass(frozen=True)
class Tiles:
    patients: int
    sessions_open: int
    sessions_complete: int
    sessions_expired: int
    completion_rate: float | None
    connections_by_status: dict[str, int]
    needs_attention: int
    patients_needing_attention: int


def tiles(patients: pd.DataFrame, connections: pd.DataFrame, sessions: pd.DataFrame) -> Tiles:
    by_session = sessions["status"].value_counts()
    total = len(sessions)
    complete = int(by_session.get("complete", 0))
    failing = connections["status"].isin(FAILING)
    return Tiles(
        patients=len(patients),
        sessions_open=int(by_session.get("open", 0)),
        sessions_complete=complete,
        sessions_expired=int(by_session.get("expired", 0)),
        completion_rate=complete / total if total else None,
        connections_by_status=connections_by_status(connections),
        needs_attention=int(failing.sum()),
        patients_needing_attention=int(connections.loc[failing, "patient_id"].nunique()),
    )


def connections_by_status(connections: pd.DataFrame) -> dict[str, int]:
    counts = connections["status"].value_counts()
    ordered = {status: int(counts.get(status, 0)) for status in STATUSES}
    ordered.update({str(s): int(n) for s, n in counts.items() if s not in ordered})
    return ordered


def funnel(sessions: pd.DataFrame, by: str, *, attempted_only: bool = False) -> pd.DataFrame:
    """Long frame `[by, stage, sessions]`: created -> complete -> at least one active connection.

    `by` is `mode` (picker/direct) or `source_id` (the direct source, else the first source the
    patient attempted; `(none attempted)` when nothing was, unless `attempted_only` leaves those
    sessions out).
    """
    if attempted_only:
        sessions = sessions[sessions[by].notna()]
    frame = sessions.assign(
        group=sessions[by].fillna("(none attempted)"),
        created=1,
        complete=(sessions["status"] == "complete").astype(int),
        connected=(sessions["active_connections"] > 0).astype(int),
    )
    summed = frame.groupby("group")[list(FUNNEL_STAGES)].sum().reset_index()
    long = summed.melt(id_vars="group", var_name="stage", value_name="sessions")
    return long.rename(columns={"group": by})


def failure_shares(sessions: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """`[failure_code, failures, share, label]`: each code's count over all connection attempts;
    `label` is the count beside the share ("12 (4%)")."""
    attempts = int(sessions["attempts"].sum()) if len(sessions) else 0
    codes = sessions["failure_codes"].explode().dropna()
    counts = codes.value_counts().head(top)
    frame = pd.DataFrame({"failure_code": counts.index.astype(str), "failures": counts.values})
    frame["share"] = frame["failures"] / attempts if attempts else 0.0
    frame["label"] = [
        f"{n} ({share:.0%})" for n, share in zip(frame["failures"], frame["share"], strict=True)
    ]
    return frame
