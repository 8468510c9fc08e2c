"""Org-wide pandas frames built by fanning out over patients (the API has no org-wide lists).

`GET /patients` pages through every patient; then one call per patient, run concurrently over
one or more async clients (`sharded_fan_out`, a few requests in flight on each):
`GET /patients/{id}` for connections, `GET /patients/{id}/patient-sessions` for sessions,
`GET /patients/{id}/records` for the sources whose records have arrived. A patient whose call
failed is reported, not dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from medblocks.client import AsyncMedblocks
from medblocks.client.pagination import CursorTrail
from medblocks.dashboard.connection_guidance import guidance_for
from medblocks.dashboard.sharded import sharded_fan_out
from medblocks.mirror.statuses import FAILING, STATUSES
from medblocks.mirror.store import text as plain
from medblocks.mirror.views import PATIENT_COLUMNS, SESSION_COLUMNS

Progress = Callable[[int, int], None]
RECORDS_PAGE = 100

CONNECTION_COLUMNS = [
    "id",
    "patient_id",
    "source_id",
    "status",
    "scopes",
    "failure_code",
    "failure_at",
    "created_at",
    "updated_at",
    "patient_session_id",
]


@dataclass
class OrgFrames:
    """What one fan-out produced; `failures`: patient id -> error text (request id first)."""

    patients: pd.DataFrame
    connections: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)


async def list_patient_ids(aclient: AsyncMedblocks) -> list[str]:
    return [patient.id async for patient in aclient.patients.list(limit=100)]


async def _retrieve(client: AsyncMedblocks, patient_id: str) -> Any:
    return await client.patients.retrieve(patient_id)


async def fetch_connections(
    clients: Sequence[AsyncMedblocks],
    *,
    per_client: int = 3,
    on_progress: Progress | None = None,
    patient_ids: Iterable[str] | None = None,
) -> OrgFrames:
    """Every patient with their connections: two frames, patients and connections."""
    ids = list(patient_ids) if patient_ids is not None else await list_patient_ids(clients[0])
    result = await sharded_fan_out(
        clients, _retrieve, ids, per_client=per_client, on_progress=on_progress
    )
    details = [result.results[pid] for pid in ids if pid in result.results]
    patients = pd.DataFrame(
        [
            {
                "patient_id": d.id,
                "name": d.name,
                "email": d.email,
                "created_at": d.created_at,
            }
            for d in details
        ],
        columns=PATIENT_COLUMNS,
    )
    connections = pd.DataFrame(
        [
            {
                "id": c.id,
                "patient_id": d.id,
                "source_id": c.connection_id,
                "status": plain(c.status),
                "scopes": " ".join(c.scopes),
                "failure_code": c.failure_code,
                "failure_at": c.failure_at,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
                "patient_session_id": c.patient_session_id,
            }
            for d in details
            for c in d.connections
        ],
        columns=CONNECTION_COLUMNS,
    )
    _parse_times(patients, ["created_at"])
    _parse_times(connections, ["failure_at", "created_at", "updated_at"])
    failures = {str(pid): str(err) for pid, err in result.failures.items()}
    return OrgFrames(patients=patients, connections=connections, failures=failures)


def active_sources(connections: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Patient id -> the sources of its active connections (the ones records should come from)."""
    active = connections[connections["status"] == "active"]
    return {
        str(pid): tuple(sorted(set(sources)))
        for pid, sources in active.groupby("patient_id")["source_id"]
    }


async def _record_sources_of(
    client: AsyncMedblocks, wanted: tuple[str, tuple[str, ...]]
) -> list[str]:
    """Page through a patient's records until every wanted source has shown up, or the end."""
    patient_id, sources = wanted
    seen: set[str] = set()
    trail = CursorTrail("api.getPatientRecords")
    cursor: str | None = None
    while True:
        page = await client.patients.records(patient_id, count=RECORDS_PAGE, starting_after=cursor)
        seen.update(item.source for item in page.data if item.source)
        cursor = None if seen.issuperset(sources) else trail.next(page)
        if cursor is None:
            return sorted(seen)


async def fetch_record_sources(
    clients: Sequence[AsyncMedblocks],
    wanted: Mapping[str, Sequence[str]],
    *,
    per_client: int = 3,
    on_progress: Progress | None = None,
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """For each patient in `wanted`, the sources its records came from (read until all of the
    wanted sources are seen, so a patient with many records is not misjudged on page one)."""
    items = [(pid, tuple(sources)) for pid, sources in wanted.items()]
    result = await sharded_fan_out(
        clients, _record_sources_of, items, per_client=per_client, on_progress=on_progress
    )
    failures = {item[0]: str(err) for item, err in result.failures.items()}
    return {item[0]: found for item, found in result.results.items()}, failures


async def _sessions_of(client: AsyncMedblocks, patient_id: str) -> list[Any]:
    return [s async for s in client.patients.sessions(patient_id)]


async def fetch_sessions(
    clients: Sequence[AsyncMedblocks],
    patient_ids: Iterable[str],
    *,
    per_client: int = 3,
    on_progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every session of every patient (there is no org-wide session list)."""
    ids = list(patient_ids)
    result = await sharded_fan_out(
        clients, _sessions_of, ids, per_client=per_client, on_progress=on_progress
    )
    rows = [session_row(s) for pid in ids for s in result.results.get(pid, [])]
    frame = pd.DataFrame(rows, columns=SESSION_COLUMNS)
    _parse_times(frame, ["expires_at", "created_at"])
    failures = {str(pid): str(err) for pid, err in result.failures.items()}
    return frame, failures


def empty_sessions() -> pd.DataFrame:
    return pd.DataFrame(columns=SESSION_COLUMNS)


def session_row(session: Any) -> dict[str, Any]:
    attempts = list(session.connections)
    direct = session.connection_id is not None
    attempted_sources = [a.connection_id for a in attempts]
    source = session.connection_id if direct else (attempted_sources[0] if attempts else None)
    return {
        "id": session.id,
        "patient_id": session.patient_id,
        "status": plain(session.status),
        "mode": "direct" if direct else "picker",
        "source_id": source,
        "attempts": len(attempts),
        "active_connections": sum(plain(a.status) == "active" for a in attempts),
        "failed_attempts": sum(plain(a.status) == "failed" for a in attempts),
        "failure_codes": [a.failure_code for a in attempts if a.failure_code],
        "expires_at": session.expires_at,
        "created_at": session.created_at,
        "url": session.url,
    }


def _parse_times(frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")


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


def health_frame(
    org: OrgFrames, record_sources: dict[str, list[str]] | None, *, now: datetime | None = None
) -> pd.DataFrame:
    """Every connection with its age, who must act, what to tell the patient and stuck pulls.

    A stuck pull is an active connection with no record from its source after `STUCK_AFTER`.
    `record_sources` (patient id -> sources seen in its records) says which records arrived;
    None means they could not be checked (no stuck pull is claimed), unless the connections
    already carry a `records_arrived` column (the mirror's), which is then used as it is.
    """
    now = now or datetime.now(UTC)
    frame = org.connections.copy()
    frame["age_days"] = (pd.Timestamp(now) - frame["created_at"]).dt.total_seconds() / 86400
    # one lookup per distinct (status, failure code), not per row: the mirror holds 100,000s
    codes, pairs = _distinct_pairs(frame["status"], frame["failure_code"].fillna(""))
    guidance = [guidance_for(status, code or None) for status, code in pairs]
    frame["who_acts"] = np.array([g.who_acts for g in guidance], dtype=object)[codes]
    frame["tell_patient"] = np.array([g.tell_patient for g in guidance], dtype=object)[codes]
    frame["needs_attention"] = frame["status"].isin(FAILING)
    checked = record_sources is not None or "records_arrived" in frame
    if record_sources is not None or "records_arrived" not in frame:
        frame["records_arrived"] = _records_arrived(frame, record_sources or {})
    since_update = pd.Timestamp(now) - frame["updated_at"]
    frame["stuck_pull"] = (
        (frame["status"] == "active")
        & ~frame["records_arrived"]
        & (since_update > STUCK_AFTER)
        & checked
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


def _records_arrived(frame: pd.DataFrame, record_sources: dict[str, list[str]]) -> Any:
    """For each connection: has a record from its source arrived for its patient?"""
    seen = {(patient, source) for patient, sources in record_sources.items() for source in sources}
    if not seen:
        return False
    pairs = pd.MultiIndex.from_arrays([frame["patient_id"], frame["source_id"]])
    return pairs.isin(pd.MultiIndex.from_tuples(sorted(seen)))


STUCK_AFTER = pd.Timedelta(minutes=15)
