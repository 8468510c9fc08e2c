"""Tables for people: relative ages ("3 d"), times to the minute, whole numbers, empty cells
empty, and the same values in the CSV export as on the page.

The frames built here are what the Overview, Connection health, Sessions and Patients pages
show; their column labels in words are in `LABELS` (the pages turn them into column configs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from medblocks.dashboard.links import safe_link
from medblocks.dashboard.ops_wording import ops_wording
from medblocks.mirror.statuses import STATUSES

LABELS: dict[str, str] = {
    "patient_id": "Patient id",
    "patient_link": "Patient",
    "name": "Name",
    "email": "Email",
    "source": "Source",
    "status": "Status",
    "failure_code": "Failure code",
    "what_happened": "What happened",
    "failing_for": "Failing for",
    "failing_since": "Failing since",
    "connected_for": "Connection age",
    "updated": "Last change",
    "records_arrived": "Records arrived",
    "stuck_pull": "Stuck pull",
    "who_acts": "Who acts",
    "tell_patient": "Tell the patient",
    "id": "Id",
    "mode": "Mode",
    "attempts": "Attempts",
    "active_connections": "Connected",
    "expires": "Link expires",
    "expires_soon": "Expiring soon",
    "created": "Created",
    "hosted_url": "Link to resend",
    "active": "Active",
    "failed": "Failed",
    "refresh_failed": "Refresh failed",
    "expired": "Expired",
    "disconnected": "Disconnected",
    "last_activity": "Last activity",
    "logo_url": "Logo",
    "scopes": "Scopes",
    "failure": "What happened",
    "failure_at": "Failed at",
    "connection": "Connection",
    "from": "From",
    "to": "To",
    "happened": "When it happened",
    "seen": "Seen by the mirror",
    "how": "How it was seen",
    "who": "Who acted",
    "url": "URL",
    "events": "Events",
    "description": "Description",
    "api_version": "API version",
    "created_at": "Created",
    "open": "Open",
    "complete": "Complete",
    "type": "Event type",
    "delivery": "Delivery",
    "last_status_code": "Last answer (HTTP)",
    "next_attempt_at": "Next attempt",
    "delivered_at": "Delivered",
    "last_redelivered_at": "Last redelivered",
    "outcome": "Outcome",
    "session_status": "Session now",
    "detail": "Detail",
}

STATUS_COLOURS: dict[str, str] = {
    "active": "#2e7d32",
    "failed": "#c62828",
    "refresh_failed": "#ef6c00",
    "expired": "#f9a825",
    "disconnected": "#757575",
    "open": "#1565c0",
    "complete": "#2e7d32",
}
STAGE_COLOURS: dict[str, str] = {
    "created": "#90a4ae",
    "complete": "#1565c0",
    "connected": "#2e7d32",
}


def launch_label(session_id: str, patient_id: str, mode: str, requested_at: str) -> str:
    """A recent launch as a person picks it: "Patient pat_1 · direct · launched 2026-12-04
    19:55 UTC (ps_…)" — who and when first, the id last for whoever needs it."""
    when = time_text([pd.to_datetime(requested_at, utc=True, format="ISO8601")])[0]
    return f"Patient {patient_id} · {mode} · launched {when} ({session_id})"


def count_text(count: int, noun: str) -> str:
    """ "1 patient", "3 patients", "0 patients": a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def age_text(seconds: float | None) -> str:
    """A duration for people: "45 s", "12 min", "5 h", "3 d"; "" when unknown."""
    if seconds is None or pd.isna(seconds):
        return ""
    whole = int(abs(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h"
    return f"{whole // 86400} d"


def ages(times: pd.Series, now: datetime) -> list[str]:
    """How long ago each time was, as `age_text`; empty where the time is missing."""
    seconds = (pd.Timestamp(now) - times).dt.total_seconds()
    return [age_text(None if pd.isna(s) else s) for s in seconds]


def time_text(times: Iterable[Any]) -> list[str]:
    """UTC times to the minute ("2026-11-29 07:41 UTC"); missing ones empty."""
    return ["" if pd.isna(t) else f"{pd.Timestamp(t):%Y-%m-%d %H:%M} UTC" for t in times]


def until_text(seconds: float | None) -> str:
    """ "in 54 min" or "36 d ago"; "" when unknown."""
    if seconds is None or pd.isna(seconds):
        return ""
    return f"in {age_text(seconds)}" if seconds >= 0 else f"{age_text(seconds)} ago"


def texts(values: Iterable[Any]) -> list[str]:
    """Values as text, missing ones (None, NaN) empty."""
    return [v if isinstance(v, str) else "" if v is None or pd.isna(v) else str(v) for v in values]


def empty_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values as empty text (object columns only: numbers and booleans stay typed)."""
    out = frame.copy()
    for column in text_columns(out):
        out[column] = out[column].where(out[column].notna(), "")
    return out


def text_columns(frame: pd.DataFrame) -> list[Any]:
    """The columns of `frame` that hold text (object or string dtype)."""
    return [
        column
        for column in frame.columns
        if pd.api.types.is_object_dtype(frame[column])
        or pd.api.types.is_string_dtype(frame[column])
    ]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run when a cell begins with it (OWASP's CSV-injection guidance)."""


def spreadsheet_safe(value: Any) -> Any:
    """`value` as a spreadsheet reads it as text: a text that begins with one of
    `FORMULA_STARTS` gets a leading `'` (shown by no spreadsheet, and it stops a formula from
    running); every other value, numbers and booleans included, is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """The table as shown, as CSV: labels in words, same rounding, empty cells empty, and
    every text cell `spreadsheet_safe` (masked or revealed: the one function every export of
    the dashboard goes through), lines ended by CRLF."""
    shown = empty_cells(frame).rename(columns=LABELS)
    for column in text_columns(shown):
        shown[column] = shown[column].map(spreadsheet_safe)
    shown.columns = [spreadsheet_safe(str(c)) for c in shown.columns]
    # RFC 4180 line ends: a cell holding a carriage return is then quoted like one holding a
    # line feed (with "\n" alone, a lone "\r" would be written bare and split the row).
    return shown.to_csv(index=False, lineterminator="\r\n")


def patient_link(patient_id: str) -> str:
    """The Patients page filtered to, and opened on, one patient (a link relative to the app)."""
    return "patients?" + urlencode({"patient_id": patient_id, "open": patient_id})


PATIENT_LINK_TEXT = r"open=([^&]*)$"
"""Shows the patient id as a link's text (the id is URL-quoted in the link; ids are `[A-Za-z0-9_-]`
in the sandbox and in Medblocks' examples)."""


def health_table(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Connection health for people: what, for whom, since when, who acts. `frame["name"]` is
    the patient's name as the UI shows it (`masking.shown_name`); `now` is the server's.

    `failing_for` counts from `failing_since`, never from when the connection was created
    (`connected_for`): the server's `failure_at` where it gives one (or the server's time of a
    change the mirror saw happen), else the first time the mirror saw it failing, which is
    said as "at least" (`failing_since_exact` False or missing). `failing_days` (whole days
    failing, at least) is kept for filtering.
    """
    failing_seconds = (pd.Timestamp(now) - frame["failing_since"]).dt.total_seconds()
    exact = (
        frame["failing_since_exact"].astype(bool)
        if "failing_since_exact" in frame
        else pd.Series(False, index=frame.index)
    )
    at_least = ["" if sure else "at least " for sure in exact]
    table = pd.DataFrame(
        {
            "patient_id": frame["patient_id"],
            "patient_link": [patient_link(p) for p in frame["patient_id"]],
            "name": texts(frame["name"]),
            "source": texts(frame["source"]),
            "status": texts(frame["status"]),
            "failure_code": texts(frame["failure_code"]),
            "what_happened": [
                ops_wording(s, c if isinstance(c, str) else None).what_happened
                for s, c in zip(frame["status"], frame["failure_code"], strict=True)
            ],
            "failing_for": [
                "" if pd.isna(s) else prefix + age_text(s)
                for prefix, s in zip(at_least, failing_seconds, strict=True)
            ],
            "failing_since": [
                text if not text else (prefix + "since " if prefix else "") + text
                for prefix, text in zip(at_least, time_text(frame["failing_since"]), strict=True)
            ],
            "connected_for": ages(frame["created_at"], now),
            "updated": time_text(frame["updated_at"]),
            "records_arrived": frame["records_arrived"].astype(bool),
            "stuck_pull": frame["stuck_pull"].astype(bool),
            "who_acts": texts(frame["who_acts"]),
            "tell_patient": texts(frame["tell_patient"]),
            "id": frame["id"],
            "source_id": frame["source_id"],
            "failing_days": (failing_seconds // 86400).fillna(-1).astype(int),
        },
        index=frame.index,
    )
    return empty_cells(table)


EXPIRING_WITHIN_MINUTES = 60
"""The Sessions page's default "expiring soon" window: a link the patient can still use for
less than an hour is worth resending now (the API's default session lives 30 minutes)."""


def sessions_table(sessions: pd.DataFrame, now: datetime, within_minutes: int) -> pd.DataFrame:
    """Sessions for people: when the link expires ("in 54 min" / "36 d ago"), the link to
    resend for open ones, the patient as a link, times to the minute."""
    expires_at = pd.to_datetime(sessions["expires_at"], utc=True, format="ISO8601")
    left = (expires_at - pd.Timestamp(now)).dt.total_seconds()
    is_open = sessions["status"] == "open"
    table = pd.DataFrame(
        {
            "id": sessions["id"],
            "patient_id": sessions["patient_id"],
            "patient_link": [patient_link(p) for p in sessions["patient_id"]],
            "status": sessions["status"],
            "mode": sessions["mode"],
            "source": texts(sessions["source"]),
            "attempts": sessions["attempts"].fillna(0).astype(int),
            "active_connections": sessions["active_connections"].fillna(0).astype(int),
            "expires": [until_text(None if pd.isna(s) else s) for s in left],
            "expires_soon": is_open & (left >= 0) & (left <= within_minutes * 60),
            "created": time_text(
                pd.to_datetime(sessions["created_at"], utc=True, format="ISO8601")
            ),
            "hosted_url": [
                safe_link(u) or "" if o and s >= 0 else ""
                for u, o, s in zip(sessions["url"], is_open, left.fillna(-1), strict=True)
            ],
        },
        index=sessions.index,
    )
    return empty_cells(table)


def patients_table(summary: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The Patients table: counts as whole numbers, last activity as an age."""
    table = summary.copy()
    for column in STATUSES:
        table[column] = table[column].fillna(0).astype(int)
    table["last_activity"] = ages(table["last_activity"], now)
    return empty_cells(table)


def patient_connections_table(connections: pd.DataFrame) -> pd.DataFrame:
    """One patient's connections (`patient_view`): age in words, failure time to the minute."""
    table = connections.assign(
        connected_for=[
            age_text(None if pd.isna(d) else d * 86400) for d in connections["age_days"]
        ],
        failure_at=time_text(pd.to_datetime(connections["failure_at"], utc=True, format="ISO8601")),
        failure_code=texts(connections["failure_code"]),
        failure=texts(connections["failure"]),
    ).drop(columns=["age_days"])
    return empty_cells(table)
