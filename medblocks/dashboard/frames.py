"""The org-wide pandas frames the pages show, built from the mirror's (`mirror_reads`): rows
chosen by a filter, patients found by text or e-mail, one row per patient with its connections
counted by status, and the Connection health frame (who acts, what to tell the patient, stuck
pulls).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from medblocks.dashboard.connection_guidance import guidance_for
from medblocks.mirror.statuses import STATUSES


@dataclass
class OrgFrames:
    """Every patient and every connection, as the mirror holds them (`views`' columns)."""

    patients: pd.DataFrame
    connections: pd.DataFrame


def rows_with(frame: pd.DataFrame, column: str, values: Sequence[Any]) -> pd.DataFrame:
    """The rows whose `column` holds one of `values`; every row when no value is chosen."""
    return frame[frame[column].isin(values)] if values else frame


def patients_containing(summary: pd.DataFrame, text: str, *, reveal: bool) -> pd.DataFrame:
    """Patients whose id, or (only when names and emails are revealed) name or e-mail, contains
    `text`, in any case. Masked, a search never matches on what the page does not show."""
    needle = text.lower()
    haystack = summary["patient_id"].str.lower()
    if reveal:
        for column in ("name", "email"):
            haystack = haystack + "\n" + summary[column].fillna("").str.lower()
    return summary[haystack.str.contains(needle, regex=False)]


def patients_with_email(summary: pd.DataFrame, email: str) -> pd.DataFrame:
    """Patients whose e-mail is `email`, in any case and without surrounding spaces (the API's
    own filter is exact: "ALICE@example.test" would find nobody)."""
    wanted = email.strip().casefold()
    return summary[summary["email"].fillna("").str.strip().str.casefold() == wanted]


def patient_summary(org: OrgFrames) -> pd.DataFrame:
    """One row per patient: counts of connections by status and the last activity."""
    counts = (
        org.connections.pivot_table(
            index="patient_id", columns="status", values="id", aggfunc="count", fill_value=0
        )
        .reindex(columns=list(STATUSES), fill_value=0)
        .astype(int)
    )
    last = org.connections.groupby("patient_id")["updated_at"].max()
    frame = org.patients.set_index("patient_id").join(counts).join(last.rename("last_connection"))
    for status in STATUSES:
        frame[status] = frame[status].fillna(0).astype(int)
    frame["last_activity"] = frame[["created_at", "last_connection"]].max(axis=1)
    return frame.drop(columns=["last_connection"]).reset_index()


def health_frame(connections: pd.DataFrame, *, now: datetime | None = None) -> pd.DataFrame:
    """Every connection with its age, who must act, what to tell the patient and stuck pulls.

    A stuck pull is an active connection whose source has delivered no record
    (`records_arrived`, the mirror's column) more than `STUCK_AFTER` after its last change.
    """
    now = now or datetime.now(UTC)
    frame = connections.copy()
    frame["age_days"] = (pd.Timestamp(now) - frame["created_at"]).dt.total_seconds() / 86400
    # one lookup per distinct (status, failure code), not per row: the mirror holds 100,000s
    codes, pairs = _distinct_pairs(frame["status"], frame["failure_code"].fillna(""))
    guidance = [guidance_for(status, code or None) for status, code in pairs]
    frame["who_acts"] = np.array([g.who_acts for g in guidance], dtype=object)[codes]
    frame["tell_patient"] = np.array([g.tell_patient for g in guidance], dtype=object)[codes]
    since_update = pd.Timestamp(now) - frame["updated_at"]
    frame["stuck_pull"] = (
        (frame["status"] == "active") & ~frame["records_arrived"] & (since_update > STUCK_AFTER)
    )
    return frame


def _distinct_pairs(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Each row's index into the distinct (first, second) pairs, and those pairs; each column
    is factorized on its own (a MultiIndex would build a Python tuple per row)."""
    first_codes, first_values = pd.factorize(first)
    second_codes, second_values = pd.factorize(second)
    width = max(len(second_values), 1)
    codes, combined = pd.factorize(first_codes * width + second_codes)
    pairs = [(first_values[c // width], second_values[c % width]) for c in combined]
    return codes, pairs


STUCK_AFTER = pd.Timedelta(minutes=15)
STUCK_AFTER_TEXT = f"{STUCK_AFTER.total_seconds() / 60:g} minutes"
"""`STUCK_AFTER` in words, for the pages' captions."""
