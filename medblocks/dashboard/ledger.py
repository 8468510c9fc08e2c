"""The launch ledger: every session the dashboard creates, recorded before its link shows.

A launch is identified by an *intent* id minted when the form is filled in. The intent is written
before the API call and the session id after it, so a rerun or a second click with the same intent
finds the row and never creates a second session (Medblocks has no idempotency key).

The rows live in the mirror's database (`launches`, created by its migrations): SQLite by
default, PostgreSQL when `MEDBLOCKS_DATABASE_URL` says so. "One launch per intent" is the
table's primary key: the insert either creates the row or does nothing, decided by the
database, so it holds across threads, processes and dashboard replicas alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from medblocks.mirror import Mirror, open_mirror
from medblocks.mirror.db import now_iso
from medblocks.mirror.schema import launches
from medblocks.mirror.settings import sqlite_url


@dataclass(frozen=True)
class LaunchRecord:
    intent_id: str
    target: str
    launched_by: str
    requested_at: str
    patient_id: str
    mode: str
    request: dict[str, Any]
    session_id: str | None
    session_url: str | None
    error: str | None
    finished_at: str | None

    @property
    def in_flight(self) -> bool:
        return self.session_id is None and self.error is None


class Ledger:
    """Launches in the mirror's database: `where` is a `Mirror`, a database URL, a SQLite file
    path, or None for the configured database (`MEDBLOCKS_DATABASE_URL`)."""

    def __init__(self, where: Mirror | Path | str | None = None) -> None:
        if isinstance(where, Mirror):
            self.mirror = where
        elif isinstance(where, Path) or (isinstance(where, str) and "://" not in where):
            self.mirror = open_mirror(sqlite_url(where))
        else:
            self.mirror = open_mirror(where)

    def begin(
        self,
        *,
        intent_id: str,
        target: str,
        launched_by: str,
        patient_id: str,
        mode: str,
        request: dict[str, Any],
    ) -> LaunchRecord | None:
        """Record an intent; None when it is new, else the existing record (nothing is written)."""
        row = {
            "intent_id": intent_id,
            "target": target,
            "launched_by": launched_by,
            "requested_at": now_iso(),
            "patient_id": patient_id,
            "mode": mode,
            "request": json.dumps(request),
        }
        with self.mirror.write() as db:
            inserted = self.mirror.insert_new(db, launches, row)
        return None if inserted else self.get(intent_id)

    def succeed(self, intent_id: str, *, session_id: str, session_url: str) -> None:
        self._finish(intent_id, session_id=session_id, session_url=session_url)

    def fail(self, intent_id: str, *, error: str) -> None:
        self._finish(intent_id, error=error)

    def _finish(self, intent_id: str, **values: str) -> None:
        with self.mirror.write() as db:
            db.execute(
                sa.update(launches)
                .where(launches.c.intent_id == intent_id)
                .values(finished_at=now_iso(), **values)
            )

    def get(self, intent_id: str) -> LaunchRecord | None:
        with self.mirror.read() as db:
            row = db.execute(sa.select(launches).where(launches.c.intent_id == intent_id)).first()
        return _record(row._mapping) if row else None

    def recent(self, limit: int = 20, target: str | None = None) -> list[LaunchRecord]:
        """The latest launches, newest first; only those made against `target` when given."""
        query = sa.select(launches).order_by(launches.c.requested_at.desc()).limit(limit)
        if target is not None:
            query = query.where(launches.c.target == target)
        with self.mirror.read() as db:
            return [_record(row._mapping) for row in db.execute(query)]


def _record(row: Any) -> LaunchRecord:
    values = dict(row)
    values["request"] = json.loads(values["request"])
    return LaunchRecord(**values)
