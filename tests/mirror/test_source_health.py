"""The per-source view (`medblocks.dashboard.source_health`, SQL in
`medblocks.mirror.source_queries`) on SQLite and PostgreSQL: counts by status, patients failing
now and since when, success rates and failures per window, and the incident rule (its start,
its end at the next success, and a source whose usual rate is already high staying quiet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from medblocks.dashboard import source_health as sh
from medblocks.mirror import Mirror, schema
from medblocks.mirror.source_queries import iso

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def at(**ago: float) -> str:
    return iso(NOW - timedelta(**ago))


def connection(conn_id: str, patient_id: str, source_id: str, status: str, **fields: Any) -> dict:
    return {
        "id": conn_id,
        "patient_id": patient_id,
        "source_id": source_id,
        "status": status,
        "scopes": "openid",
        "failure_code": None,
        "failure_at": None,
        "created_at": at(days=40),
        "updated_at": at(days=40),
        "patient_session_id": None,
        "failing_since": None,
        "records_arrived": None,
        "mirrored_at": at(hours=0),
    } | fields


def change(source_id: str, to_status: str, changed_at: str, n: int = 0) -> dict:
    return {
        "connection_id": f"conn_{source_id}_{n}",
        "patient_id": f"pat_{n}",
        "source_id": source_id,
        "from_status": None,
        "to_status": to_status,
        "failure_code": None,
        "changed_at": changed_at,
        "observed_at": changed_at,
        "observed_by": "sync",
    }


def write(mirror: Mirror, table: sa.Table, rows: list[dict]) -> None:
    with mirror.write() as db:
        db.execute(sa.insert(table), rows)


def test_per_source_figures_and_order(mirror: Mirror) -> None:
    write(
        mirror,
        schema.connections,
        [
            connection("c1", "p1", "src_a", "active", created_at=at(hours=2)),
            connection(
                "c2", "p2", "src_a", "failed", created_at=at(hours=3), failing_since=at(hours=3)
            ),
            connection("c3", "p2", "src_a", "refresh_failed", failing_since=at(days=2, hours=1)),
            connection("c4", "p3", "src_b", "active", created_at=at(days=3)),
            connection("c5", "p4", "src_b", "disconnected", created_at=at(days=20)),
        ],
    )
    write(
        mirror,
        schema.status_changes,
        [
            change("src_a", "failed", at(hours=3), 1),
            change("src_a", "refresh_failed", at(days=2, hours=1), 2),
            change("src_a", "expired", at(days=20), 3),
            change("src_b", "failed", at(days=40), 4),  # outside every window
        ],
    )
    frame = sh.sources_frame(mirror, NOW, {"src_a": "Alpha Hospital"})
    assert frame["source_id"].tolist() == ["src_a", "src_b"]  # the failing source first
    a, b = frame.iloc[0], frame.iloc[1]
    assert a["source"] == "Alpha Hospital" and b["source"] == "src_b"  # unnamed: the id
    assert (a["active"], a["failed"], a["refresh_failed"], a["expired"]) == (1, 1, 1, 0)
    assert a["patients_failing"] == 1  # p2 twice, counted once
    assert a["failing_since"] == pd.Timestamp(NOW - timedelta(days=2, hours=1))
    assert (a["attempts_24h"], a["attempts_30d"]) == (2, 2)  # c3 was created 40 days ago
    assert a["success_rate_24h"] == 0.5
    assert (a["failures_24h"], a["failures_7d"], a["failures_30d"]) == (1, 2, 3)
    assert (b["attempts_24h"], b["attempts_7d"], b["attempts_30d"]) == (0, 1, 2)
    assert pd.isna(b["success_rate_24h"]) and b["success_rate_30d"] == 1.0
    assert (b["failures_30d"], b["patients_failing"]) == (0, 0) and pd.isna(b["failing_since"])
    assert not frame["incident"].any()
    assert sh.find_source(frame, "src_a") == "Alpha Hospital"  # by id, as alerts link
    assert sh.find_source(frame, "Alpha Hospital") == "Alpha Hospital"
    assert sh.find_source(frame, "src_zzz") is None
    worst = sh.worst_sources(frame)
    assert worst["source_id"].tolist() == ["src_a"]
    # c3's start is the mirror's first sighting (not exact): said as "at least since"
    assert not a["failing_since_exact"]
    summary = sh.source_summary(worst.iloc[0])
    assert "1 patient failing now (at least since 2026-12-02 11:00 UTC)" in summary
    assert sh.sources_table(frame)["failing_since"].iloc[0].startswith("at least since")
    with mirror.write() as db:  # the server dated it: "since"
        db.execute(
            sa.update(schema.connections)
            .where(schema.connections.c.id == "c3")
            .values(failing_since_exact=True)
        )
    exact = sh.sources_frame(mirror, NOW, {}).iloc[0]
    assert exact["failing_since_exact"]
    assert "1 patient failing now (since 2026-12-02 11:00 UTC)" in sh.source_summary(exact)
    reasons = sh.reasons_table(mirror, "src_a")
    assert reasons["reason"].tolist() == ["failed", "refresh_failed"]  # c2 has no code here
    assert reasons["what_happened"].iloc[1].startswith("The hospital stopped accepting")
    assert reasons["who_acts"].tolist() == ["patient", "patient"]
    assert sh.reasons_table(mirror, "src_b").empty
    assert sh.health_query("Alpha Hospital") == {
        "source": "Alpha Hospital",
        "status": ["failed", "refresh_failed", "expired"],
    }


def test_an_empty_mirror_has_no_sources(mirror: Mirror) -> None:
    frame = sh.sources_frame(mirror, NOW, {})
    assert frame.empty and list(frame.columns) == sh.FRAME_COLUMNS


def test_incident_starts_at_the_first_failure_after_the_last_success_and_ends_at_a_success(
    mirror: Mirror,
) -> None:
    usual = [change("src_a", "active", at(days=5, minutes=i), i) for i in range(9)]
    usual.append(change("src_a", "failed", at(days=6), 9))  # usual failure rate: 10%
    recent = [
        change("src_a", "active", at(hours=5), 10),
        change("src_a", "failed", at(hours=4), 11),
        change("src_a", "failed", at(hours=3), 12),
        change("src_a", "failed", at(hours=2), 13),
    ]
    write(mirror, schema.status_changes, usual + recent)
    found = sh.incidents(mirror, NOW)
    assert list(found) == ["src_a"]
    incident = found["src_a"]
    assert incident.started_at == NOW - timedelta(hours=4)
    assert (incident.failures_in_a_row, incident.rate, incident.usual_rate) == (3, 0.75, 0.1)
    frame = sh.sources_frame(mirror, NOW, {})
    assert bool(frame.iloc[0]["incident"])
    assert frame.iloc[0]["incident_since"] == pd.Timestamp(NOW - timedelta(hours=4))
    assert sh.source_summary(frame.iloc[0]).startswith("Incident since 2026-12-04 08:00 UTC")

    write(mirror, schema.status_changes, [change("src_a", "active", at(hours=1), 14)])
    assert sh.incidents(mirror, NOW) == {}  # one success ends it


def test_two_failures_in_a_row_or_a_usual_high_rate_is_no_incident(mirror: Mirror) -> None:
    rows = [
        change("src_a", "failed", at(hours=3), 1),
        change("src_a", "failed", at(hours=2), 2),  # only two in a row
        # src_b fails 60% of the time usually; 3 of 4 (75%) now is not twice that
        *(change("src_b", "failed", at(days=3, minutes=i), 10 + i) for i in range(6)),
        *(change("src_b", "active", at(days=4, minutes=i), 20 + i) for i in range(4)),
        change("src_b", "active", at(hours=6), 30),
        *(change("src_b", "failed", at(hours=5 - i), 31 + i) for i in range(3)),
    ]
    write(mirror, schema.status_changes, rows)
    assert sh.incidents(mirror, NOW) == {}
