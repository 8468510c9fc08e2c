"""The frames the pages read from the mirror (`medblocks.mirror.views`), on SQLite and PostgreSQL:
column types, timestamps in every RFC 3339 form, `records_arrived` unknown as False, and empty
tables. Rows are written straight into the tables, as a sync would leave them."""

from __future__ import annotations

import gc
from typing import Any

import pandas as pd
import sqlalchemy as sa

from medblocks.mirror import Mirror, schema, views

STAMP = "datetime64[us, UTC]"


def patient(patient_id: str, created_at: str) -> dict[str, Any]:
    return {
        "id": patient_id,
        "email": f"{patient_id}@example.test",
        "name": f"Name {patient_id}",
        "metadata": "{}",
        "created_at": created_at,
        "sync_run": None,
        "mirrored_at": "2026-11-29T09:00:00.000Z",
    }


def connection(conn_id: str, patient_id: str, **fields: Any) -> dict[str, Any]:
    row = {
        "id": conn_id,
        "patient_id": patient_id,
        "source_id": "src_epic",
        "status": "active",
        "scopes": "openid",
        "failure_code": None,
        "failure_at": None,
        "created_at": "2026-11-01T08:00:00.000Z",
        "updated_at": "2026-11-01T08:00:00.000Z",
        "patient_session_id": None,
        "failing_since": None,
        "records_arrived": None,
        "mirrored_at": "2026-11-29T09:00:00.000Z",
    }
    return row | fields


def write(mirror: Mirror, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    with mirror.write() as db:
        db.execute(sa.insert(table), rows)


def test_empty_tables_give_empty_frames_with_the_columns_and_types(mirror: Mirror) -> None:
    connections = views.connections_frame(mirror)
    assert list(connections.columns) == views.CONNECTION_COLUMNS
    assert connections.empty
    assert str(connections["created_at"].dtype) == STAMP
    assert list(views.patients_frame(mirror).columns) == views.PATIENT_COLUMNS
    assert list(views.sessions_frame(mirror).columns) == views.SESSION_COLUMNS


def test_connections_frame_types_and_records_arrived(mirror: Mirror) -> None:
    write(mirror, schema.patients, [patient("pat_1", "2026-10-01T00:00:00.000Z")])
    write(
        mirror,
        schema.connections,
        [
            connection("conn_seen", "pat_1", records_arrived=True),
            connection("conn_none", "pat_1", records_arrived=False),
            connection(
                "conn_failed",
                "pat_1",
                status="failed",
                failure_code="user_denied",
                failure_at="2026-11-02T10:30:00.250Z",
                failing_since="2026-11-02T10:30:00.250Z",
            ),
        ],
    )
    frame = views.connections_frame(mirror).set_index("id")
    assert frame.loc["conn_seen", "records_arrived"]
    assert not frame.loc["conn_none", "records_arrived"]
    assert not frame.loc["conn_failed", "records_arrived"]  # NULL: never seen, so not arrived
    assert frame["records_arrived"].dtype == bool
    failed = frame.loc["conn_failed"]
    assert failed["failure_at"] == pd.Timestamp("2026-11-02T10:30:00.250Z")
    assert failed["failing_since"] == failed["failure_at"]
    assert pd.isna(frame.loc["conn_seen", "failure_at"])
    assert pd.isna(frame.loc["conn_seen", "failure_code"])
    for column in ("failure_at", "created_at", "updated_at", "failing_since"):
        assert str(frame[column].dtype) == STAMP


def test_every_rfc3339_form_of_a_timestamp_is_read(mirror: Mirror) -> None:
    forms = {
        "pat_ms": "2026-10-11T08:09:15.771Z",
        "pat_whole": "2026-10-11T08:09:15Z",
        "pat_micro": "2026-10-11T08:09:15.771000Z",
        "pat_offset": "2026-10-11T13:39:15.771+05:30",
        "pat_lower": "2026-10-11t08:09:15.771z",  # Arrow's parser refuses this form
    }
    write(mirror, schema.patients, [patient(pid, stamp) for pid, stamp in forms.items()])
    frame = views.patients_frame(mirror).set_index("patient_id")
    assert str(frame["created_at"].dtype) == STAMP
    expected = {
        "pat_ms": pd.Timestamp("2026-10-11T08:09:15.771Z"),
        "pat_whole": pd.Timestamp("2026-10-11T08:09:15Z"),
        "pat_micro": pd.Timestamp("2026-10-11T08:09:15.771Z"),
        "pat_offset": pd.Timestamp("2026-10-11T08:09:15.771Z"),
        "pat_lower": pd.Timestamp("2026-10-11T08:09:15.771Z"),
    }
    assert frame["created_at"].to_dict() == expected
    assert frame.loc["pat_ms", "name"] == "Name pat_ms"


def test_reading_a_frame_leaves_the_garbage_collector_as_it_found_it(mirror: Mirror) -> None:
    write(mirror, schema.patients, [patient("pat_1", "2026-10-01T00:00:00.000Z")])
    assert gc.isenabled()
    views.patients_frame(mirror)
    assert gc.isenabled()
    gc.disable()
    try:
        views.patients_frame(mirror)
        assert not gc.isenabled()
    finally:
        gc.enable()
