"""Reading the mirror for display: pandas frames of patients, connections and sessions, and how
fresh they are. One query per frame, whatever the size of the organisation; no API request.

Timestamps are parsed to UTC; connections carry `failing_since` and `records_arrived`; scopes and
the session back-reference are left out (no org-wide view shows them; a patient's own page reads
them live, and shows its sessions through the same `session_for_display`).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from medblocks.mirror import schema
from medblocks.mirror.db import CHANGED, Mirror
from medblocks.mirror.sync import CHECKPOINT, LAST_SYNC

PATIENT_COLUMNS = ["patient_id", "name", "email", "created_at"]
CONNECTION_COLUMNS = [
    "id",
    "patient_id",
    "source_id",
    "status",
    "failure_code",
    "failure_at",
    "created_at",
    "updated_at",
    "failing_since",
    "failing_since_exact",
    "records_arrived",
]
STAMP = pa.timestamp("us", "UTC")
SESSION_COLUMNS = [
    "id",
    "patient_id",
    "status",
    "mode",
    "source_id",
    "attempts",
    "active_connections",
    "failed_attempts",
    "failure_codes",
    "expires_at",
    "created_at",
    "url",
]


def _stamps(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO 8601 text -> UTC timestamps, parsed by Arrow (upper-cased first: RFC 3339 allows a
    lower-case `t` and `z`, which Arrow's parser refuses)."""
    return pc.cast(pc.ascii_upper(values), STAMP)


@contextmanager
def _no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a query's rows exist: 100,000s of short-lived
    tuples would otherwise set off full collections, each walking every object of the
    process (a dashboard's heap is large), several times the cost of the query itself. The
    tuples hold no cycles; they are freed by reference counting before it resumes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _frame(mirror: Mirror, query: sa.Select[Any], stamps: tuple[str, ...] = ()) -> pd.DataFrame:
    """Run a query on the driver's own cursor and build the frame through Arrow, with `stamps`
    parsed to UTC timestamps. At 100,000 rows SQLAlchemy `Row` objects and pandas' row-by-row
    construction cost several times the query; Arrow converts the driver's tuples in one pass
    (the query's columns are text, or integers where so typed)."""
    fields = [
        (column.name, pa.int64() if isinstance(column.type, sa.Integer) else pa.string())
        for column in query.selected_columns
    ]
    with mirror.read() as db, _no_collection():
        sql = str(query.compile(dialect=db.dialect, compile_kwargs={"literal_binds": True}))
        cursor = db.connection.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        table = pa.Table.from_struct_array(pa.array(rows, type=pa.struct(fields)))
        del rows  # freed by reference counting, before any collection could walk them
    for name in stamps:
        table = table.set_column(table.schema.get_field_index(name), name, _stamps(table[name]))
    return table.to_pandas()


def patients_frame(mirror: Mirror) -> pd.DataFrame:
    p = schema.patients
    query = sa.select(p.c.id.label("patient_id"), p.c.name, p.c.email, p.c.created_at)
    return _frame(mirror, query, ("created_at",))


def connections_frame(mirror: Mirror) -> pd.DataFrame:
    c = schema.connections
    flags = ("failing_since_exact", "records_arrived")  # NULL: not seen, or not known
    query = sa.select(
        *(c.c[name] for name in CONNECTION_COLUMNS if name not in flags),
        *(sa.func.coalesce(sa.cast(c.c[name], sa.Integer), 0).label(name) for name in flags),
    )
    frame = _frame(mirror, query, ("failure_at", "created_at", "updated_at", "failing_since"))
    for name in flags:
        frame[name] = frame[name].astype(bool)
    return frame


def session_for_display(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A session as the pages show it (`SESSION_COLUMNS`), from its row in the mirror
    (`store.session_row`): how it was started, its source, its attempts counted."""
    attempts = json.loads(stored["attempts"])
    direct = stored["connection_id"] is not None
    first = attempts[0]["connection_id"] if attempts else None
    return {
        "id": stored["id"],
        "patient_id": stored["patient_id"],
        "status": stored["status"],
        "mode": "direct" if direct else "picker",
        "source_id": stored["connection_id"] if direct else first,
        "attempts": len(attempts),
        "active_connections": sum(a["status"] == "active" for a in attempts),
        "failed_attempts": sum(a["status"] == "failed" for a in attempts),
        "failure_codes": [a["failure_code"] for a in attempts if a["failure_code"]],
        "expires_at": stored["expires_at"],
        "created_at": stored["created_at"],
        "url": stored["url"],
    }


def sessions_frame(mirror: Mirror) -> pd.DataFrame:
    s = schema.sessions
    with mirror.read() as db:
        rows = [session_for_display(row._asdict()) for row in db.execute(sa.select(s))]
    frame = pd.DataFrame(rows, columns=SESSION_COLUMNS)
    for name in ("expires_at", "created_at"):
        texts = pa.chunked_array([frame[name].to_numpy()], type=pa.string())
        frame[name] = _stamps(texts).to_pandas()
    return frame


@dataclass(frozen=True)
class Freshness:
    """How current the mirror is: the last completed sync, a sync under way, the last change."""

    last_sync_at: datetime | None
    last_sync: dict[str, Any] | None
    sync_in_progress: bool
    changed_at: datetime | None
    patients: int

    @property
    def as_of(self) -> datetime | None:
        """The newest moment the mirror is known to reflect."""
        moments = [m for m in (self.last_sync_at, self.changed_at) if m is not None]
        return max(moments) if moments else None

    @property
    def empty(self) -> bool:
        return self.last_sync is None and self.patients == 0


def _parse(value: Any) -> datetime | None:
    return None if not value else pd.Timestamp(value).to_pydatetime()


def freshness(mirror: Mirror) -> Freshness:
    last = mirror.checkpoint(LAST_SYNC)
    with mirror.read() as db:
        patients = int(
            db.execute(sa.select(sa.func.count()).select_from(schema.patients)).scalar_one()
        )
    return Freshness(
        last_sync_at=_parse(last.get("finished_at")) if last else None,
        last_sync=last,
        sync_in_progress=mirror.checkpoint(CHECKPOINT) is not None,
        changed_at=_parse((mirror.checkpoint(CHANGED) or {}).get("at")),
        patients=patients,
    )
