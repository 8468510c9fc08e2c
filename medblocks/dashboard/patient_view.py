"""One patient: connections with their sources, session history, and a records summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import pandas as pd

from medblocks.client import Medblocks
from medblocks.dashboard.connection_guidance import failure_in_words, guidance_for
from medblocks.dashboard.sources import source_name
from medblocks.mirror.store import session_row
from medblocks.mirror.store import text as plain
from medblocks.mirror.views import SESSION_COLUMNS, session_for_display

RECORDS_SCANNED = 1000


@dataclass
class PatientView:
    patient_id: str
    name: str | None
    email: str | None
    created_at: str
    connections: pd.DataFrame
    sessions: pd.DataFrame
    record_counts: pd.DataFrame
    newest_record: dict[str, Any] | None
    records_scanned: int
    records_truncated: bool


def load_patient(
    client: Medblocks, patient_id: str, catalog: dict[str, dict[str, Any]]
) -> PatientView:
    detail = client.patients.retrieve(patient_id)
    now = datetime.now(UTC)
    connections = pd.DataFrame(
        [
            {
                "id": c.id,
                "source": source_name(catalog, c.connection_id),
                "logo_url": catalog.get(c.connection_id, {}).get("logo_url"),
                "status": plain(c.status),
                "scopes": " ".join(c.scopes),
                "failure_code": c.failure_code,
                "failure": failure_in_words(c.failure_code),
                "failure_at": c.failure_at,
                "age_days": round(_age_days(c.created_at, now), 1),
                "who_acts": guidance_for(plain(c.status)).who_acts,
            }
            for c in detail.connections
        ],
        columns=[
            "id",
            "source",
            "logo_url",
            "status",
            "scopes",
            "failure_code",
            "failure",
            "failure_at",
            "age_days",
            "who_acts",
        ],
    )
    sessions = pd.DataFrame(
        [
            session_for_display(session_row(s, now.isoformat()))
            for s in client.patients.sessions(patient_id)
        ],
        columns=SESSION_COLUMNS,
    )
    counts: Counter[str] = Counter()
    newest: dict[str, Any] | None = None
    newest_stamp = ""
    scanned = 0
    for item in islice(client.patients.iter_records(patient_id), RECORDS_SCANNED):
        scanned += 1
        resource = item.resource if isinstance(item.resource, dict) else item.resource.model_dump()
        kind = str(resource.get("resourceType", "unknown"))
        counts[kind] += 1
        stamp = str((resource.get("meta") or {}).get("lastUpdated") or "")
        if newest is None or stamp > newest_stamp:
            newest_stamp = stamp
            newest = {
                "type": kind,
                "id": resource.get("id"),
                "last_updated": stamp or None,
                "source": item.source,
            }
    record_counts = pd.DataFrame(
        sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])), columns=["type", "records"]
    )
    return PatientView(
        patient_id=detail.id,
        name=detail.name,
        email=detail.email,
        created_at=str(detail.created_at),
        connections=connections,
        sessions=sessions,
        record_counts=record_counts,
        newest_record=newest,
        records_scanned=scanned,
        records_truncated=scanned >= RECORDS_SCANNED,
    )


def _age_days(created_at: Any, now: datetime) -> float:
    stamp = pd.Timestamp(created_at)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(UTC)
    return (pd.Timestamp(now) - stamp).total_seconds() / 86400


def disconnectable(connections: pd.DataFrame) -> list[str]:
    """The ids of the patient's connections a disconnect may end (all but the disconnected)."""
    return list(connections[connections["status"] != "disconnected"]["id"])
