"""Writing what the API said into the mirror: patients, connections (with their status history),
sessions, deletions and received events.

Every status a connection is seen in for the first time, and every change of it afterwards, is
a row of `status_changes`: from, to, failure code, when it changed, when the mirror saw it, how
(`OBSERVED_BY`: a sync, an event, the dashboard's own action, a re-read of an open session) and,
for an action, who acted. When it changed is the server's word where there is one
(`changed_at_exact`): `failure_at` for `failed`, else `updated_at` for a change the mirror saw
happen; a connection first seen already failing with no `failure_at` is dated when the mirror
first saw it (not exact: "at least since"), never by its creation. `failing_since` is kept
beside each connection from the same observations: the start of its current run of failing
statuses, with `failing_since_exact`.

A read older than what the mirror holds never overwrites it (a connection's `updated_at`
decides), so events applied out of order and a sync running alongside them agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from medblocks.client import models as m
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror, now_iso
from medblocks.mirror.statuses import FAILING

OBSERVED_BY = ("sync", "event", "action", "session")
"""How a status was observed: a full sync, a webhook event (pushed or polled), a write the
dashboard made (re-read at once), a scheduled re-read of an open session."""
PATIENT_FIELDS = ("email", "name", "metadata", "created_at")
CONNECTION_FIELDS = (
    "source_id",
    "status",
    "scopes",
    "failure_code",
    "failure_at",
    "created_at",
    "updated_at",
    "patient_session_id",
)
SESSION_FIELDS = ("status", "connection_id", "recommended_connection_ids", "attempts", "expires_at")


def text(value: Any) -> Any:
    """Enum members and `str` subclasses (open enums) as plain strings."""
    if isinstance(value, Enum):
        return value.value
    return str(value) if isinstance(value, str) else value


@dataclass
class Changes:
    """What one write changed (counted, for the sync's report)."""

    patients: int = 0
    connections: int = 0
    sessions: int = 0
    status_changes: int = 0
    deleted: int = 0

    def add(self, other: Changes) -> None:
        for name in ("patients", "connections", "sessions", "status_changes", "deleted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def total(self) -> int:
        return self.patients + self.connections + self.sessions + self.deleted

    def as_dict(self) -> dict[str, int]:
        return {
            "patients": self.patients,
            "connections": self.connections,
            "sessions": self.sessions,
            "status_changes": self.status_changes,
            "deleted": self.deleted,
        }


@dataclass
class PatientRead:
    """What was read about one patient: the detail, and optionally its sessions and which of
    its connections' sources have delivered records (connection id -> bool)."""

    detail: m.PatientDetail
    sessions: list[m.PatientSession] | None = None
    records_arrived: dict[str, bool] = field(default_factory=dict)


def patient_row(detail: m.Patient, sync_run: str | None, now: str) -> dict[str, Any]:
    return {
        "id": detail.id,
        "email": detail.email,
        "name": detail.name,
        "metadata": json.dumps(detail.metadata, sort_keys=True),
        "created_at": detail.created_at,
        "sync_run": sync_run,
        "mirrored_at": now,
    }


def connection_row(patient_id: str, conn: m.PatientConnection) -> dict[str, Any]:
    return {
        "id": conn.id,
        "patient_id": patient_id,
        "source_id": conn.connection_id,
        "status": text(conn.status),
        "scopes": " ".join(conn.scopes),
        "failure_code": conn.failure_code,
        "failure_at": conn.failure_at,
        "created_at": conn.created_at,
        "updated_at": conn.updated_at,
        "patient_session_id": conn.patient_session_id,
    }


def session_row(session: m.PatientSession, now: str) -> dict[str, Any]:
    attempts = [
        {
            "id": a.id,
            "connection_id": a.connection_id,
            "status": text(a.status),
            "failure_code": a.failure_code,
            "failure_at": a.failure_at,
            "created_at": a.created_at,
        }
        for a in session.connections
    ]
    recommended = session.recommended_connection_ids
    return {
        "id": session.id,
        "patient_id": session.patient_id,
        "status": text(session.status),
        "connection_id": session.connection_id,
        "recommended_connection_ids": None if recommended is None else json.dumps(recommended),
        "attempts": json.dumps(attempts),
        "url": session.url,
        "expires_at": session.expires_at,
        "created_at": session.created_at,
        "mirrored_at": now,
    }


def changed_at(row: Mapping[str, Any], old: Mapping[str, Any] | None, now: str) -> tuple[str, bool]:
    """When the connection reached its status, and whether that is the server's own time.

    `failure_at` where the API gives it; for a change the mirror saw happen (it held another
    status before), the server's `updated_at`; for a first sight, `updated_at` for a status
    that is not failing (it is so at least since then) and, for a failing one, the moment the
    mirror first saw it (`now`): a connection's creation or last update says nothing about when
    it began to fail. Only the first two are exact."""
    if row["status"] == "failed" and row.get("failure_at"):
        return str(row["failure_at"]), True
    if old is not None:
        return str(row["updated_at"]), True
    if row["status"] in FAILING:
        return now, False
    return str(row["updated_at"]), False


class MirrorWriter:
    """The mirror's writes; each method is one transaction unless given a connection."""

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror

    def apply_patients(
        self,
        reads: Sequence[PatientRead],
        *,
        observed_by: str,
        actor: str | None = None,
        sync_run: str | None = None,
        db: Connection | None = None,
    ) -> Changes:
        """Upsert these patients with their connections (and sessions where read); history rows
        note `observed_by` (one of `OBSERVED_BY`) and, for an action, its `actor`."""
        if observed_by not in OBSERVED_BY:
            raise ValueError(f"observed_by must be one of {OBSERVED_BY}")
        if db is None:
            with self.mirror.write() as own:
                return self.apply_patients(
                    reads, observed_by=observed_by, actor=actor, sync_run=sync_run, db=own
                )
        changes = Changes()
        if not reads:
            return changes
        now = now_iso()
        reads = sorted(reads, key=lambda r: r.detail.id)  # one lock order for every writer
        ids = [r.detail.id for r in reads]
        p, c = schema.patients, schema.connections
        existing_patients: dict[str, dict[str, Any]] = {
            row.id: dict(row._mapping)
            for row in db.execute(
                sa.select(p).where(p.c.id.in_(ids)).order_by(p.c.id).with_for_update()
            )
        }
        patient_rows = []
        for read in reads:
            row = patient_row(read.detail, sync_run, now)
            old = existing_patients.get(row["id"])
            if old is None or any(old[f] != row[f] for f in PATIENT_FIELDS):
                changes.patients += 1
            if sync_run is None and old is not None:
                row["sync_run"] = old["sync_run"]  # an event does not count as a sync's visit
            patient_rows.append(row)
        self.mirror.upsert(db, p, patient_rows, "id")

        existing_conns = {
            row.id: dict(row._mapping)
            for row in db.execute(sa.select(c).where(c.c.patient_id.in_(ids)))
        }
        conn_rows, history, seen = [], [], set()
        for read in reads:
            for conn in read.detail.connections:
                seen.add(conn.id)
                row = connection_row(read.detail.id, conn)
                old = existing_conns.get(conn.id)
                if old is not None and old["updated_at"] > row["updated_at"]:
                    continue  # the mirror already holds a newer state of this connection
                row.update(self._derived(row, old, read.records_arrived.get(conn.id), now))
                if old is None or any(old[f] != row[f] for f in CONNECTION_FIELDS):
                    changes.connections += 1
                if old is None or old["status"] != row["status"]:
                    when, exact = changed_at(row, old, now)
                    history.append(
                        {
                            "connection_id": row["id"],
                            "patient_id": row["patient_id"],
                            "source_id": row["source_id"],
                            "from_status": None if old is None else old["status"],
                            "to_status": row["status"],
                            "failure_code": row["failure_code"],
                            "changed_at": when,
                            "changed_at_exact": exact,
                            "observed_at": now,
                            "observed_by": observed_by,
                            "actor": actor,
                        }
                    )
                conn_rows.append(row)
        self.mirror.upsert(db, c, conn_rows, "id")
        if history:
            db.execute(sa.insert(schema.status_changes), history)
            changes.status_changes += len(history)
        gone = [cid for cid in existing_conns if cid not in seen]
        if gone:
            db.execute(sa.delete(c).where(c.c.id.in_(gone)))
            changes.connections += len(gone)

        with_sessions = [r for r in reads if r.sessions is not None]
        if with_sessions:
            changes.sessions += self._replace_sessions(db, with_sessions, now)
        if changes.total:
            self.mirror.touch(db)
        return changes

    @staticmethod
    def _derived(
        row: Mapping[str, Any], old: Mapping[str, Any] | None, arrived: bool | None, now: str
    ) -> dict[str, Any]:
        """`failing_since` (with `failing_since_exact`), `records_arrived` and `mirrored_at` for
        a connection row."""
        status = row["status"]
        exact: bool | None
        if status not in FAILING:
            failing_since, exact = None, None
        elif old is not None and old["status"] in FAILING and old["failing_since"]:
            failing_since, exact = old["failing_since"], old["failing_since_exact"]
        else:
            failing_since, exact = changed_at(row, old, now)
        if arrived is None and old is not None and old["updated_at"] == row["updated_at"]:
            arrived = old["records_arrived"]
        return {
            "failing_since": failing_since,
            "failing_since_exact": exact,
            "records_arrived": arrived,
            "mirrored_at": now,
        }

    def _replace_sessions(self, db: Connection, reads: Sequence[PatientRead], now: str) -> int:
        s = schema.sessions
        ids = [r.detail.id for r in reads]
        existing = {
            row.id: row._mapping for row in db.execute(sa.select(s).where(s.c.patient_id.in_(ids)))
        }
        rows = [session_row(sess, now) for r in reads for sess in r.sessions or []]
        changed = sum(
            1
            for row in rows
            if row["id"] not in existing
            or any(existing[row["id"]][f] != row[f] for f in SESSION_FIELDS)
        )
        self.mirror.upsert(db, s, rows, "id")
        keep = {row["id"] for row in rows}
        gone = [sid for sid in existing if sid not in keep]
        if gone:
            db.execute(sa.delete(s).where(s.c.id.in_(gone)))
        return changed + len(gone)

    def session_differs(self, session: m.PatientSession, db: Connection | None = None) -> bool:
        """True when the mirror does not hold this session as read (new, or changed)."""
        if db is None:
            with self.mirror.read() as own:
                return self.session_differs(session, own)
        row = session_row(session, now_iso())
        old = db.execute(
            sa.select(schema.sessions).where(schema.sessions.c.id == session.id)
        ).first()
        return old is None or any(old._mapping[f] != row[f] for f in SESSION_FIELDS)

    def apply_session(self, session: m.PatientSession, db: Connection) -> Changes:
        """Upsert one session read after an event or a re-read."""
        changed = self.session_differs(session, db)
        row = session_row(session, now_iso())
        self.mirror.upsert(db, schema.sessions, [row], "id")
        if changed:
            self.mirror.touch(db)
        return Changes(sessions=int(changed))

    def delete_patients(self, ids: Iterable[str], db: Connection | None = None) -> int:
        """Remove patients that no longer exist, with their connections and sessions."""
        ids = list(ids)
        if not ids:
            return 0
        if db is None:
            with self.mirror.write() as own:
                return self.delete_patients(ids, own)
        db.execute(sa.delete(schema.connections).where(schema.connections.c.patient_id.in_(ids)))
        db.execute(sa.delete(schema.sessions).where(schema.sessions.c.patient_id.in_(ids)))
        result = db.execute(sa.delete(schema.patients).where(schema.patients.c.id.in_(ids)))
        if result.rowcount:
            self.mirror.touch(db)
        return int(result.rowcount)

    def delete_unseen(self, sync_run: str, started_at: str) -> int:
        """After a complete sync: delete the patients it did not see (unless an event brought
        them in after the sync began)."""
        p = schema.patients
        with self.mirror.write() as db:
            gone = [
                row.id
                for row in db.execute(
                    sa.select(p.c.id).where(
                        sa.or_(p.c.sync_run.is_(None), p.c.sync_run != sync_run),
                        p.c.mirrored_at < started_at,
                    )
                )
            ]
            deleted = 0
            for start in range(0, len(gone), 500):
                deleted += self.delete_patients(gone[start : start + 500], db)
        return deleted

    def record_event(self, event: Mapping[str, Any], via: str) -> bool:
        """Store a received event once; False when its id was already stored (a redelivery)."""
        row = {
            "id": event["id"],
            "type": event["type"],
            "webhook_endpoint_id": event.get("webhook_endpoint_id"),
            "created_at": event.get("created_at"),
            "received_at": now_iso(),
            "received_via": via,
            "payload": json.dumps(event, sort_keys=True),
            "applied_at": None,
            "outcome": None,
        }
        with self.mirror.write() as db:
            return self.mirror.insert_new(db, schema.events, row)

    def settle_event(self, event_id: str, write: Callable[[Connection], str]) -> str:
        """Run `write` (what the event changes; it returns the outcome) and note the outcome on
        the event in the same transaction: an event is applied and marked, or neither."""
        e = schema.events
        with self.mirror.write() as db:
            outcome = write(db)
            db.execute(
                sa.update(e).where(e.c.id == event_id).values(applied_at=now_iso(), outcome=outcome)
            )
        return outcome

    def patient_of_connection(self, connection_id: str) -> str | None:
        c = schema.connections
        with self.mirror.read() as db:
            found = db.execute(sa.select(c.c.patient_id).where(c.c.id == connection_id)).scalar()
        return None if found is None else str(found)
