"""The launch ledger: every session the dashboard creates, recorded in SQLite before its link shows.

A launch is identified by an *intent* id minted when the form is filled in. The intent is written
before the API call and the session id after it, so a rerun or a second click with the same intent
finds the row and never creates a second session (Medblocks has no idempotency key).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_LEDGER_PATH = Path(".dashboard") / "launches.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS launches (
    intent_id   TEXT PRIMARY KEY,
    target      TEXT NOT NULL,
    launched_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    patient_id  TEXT NOT NULL,
    mode        TEXT NOT NULL,
    request     TEXT NOT NULL,
    session_id  TEXT,
    session_url TEXT,
    error       TEXT,
    finished_at TEXT
)
"""


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
    """A small SQLite table; one connection per call so Streamlit threads can share the object."""

    def __init__(self, path: Path | str = DEFAULT_LEDGER_PATH) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

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
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO launches (intent_id, target, launched_by, requested_at,"
                " patient_id, mode, request) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (intent_id, target, launched_by, _now(), patient_id, mode, json.dumps(request)),
            )
            inserted = cursor.rowcount == 1
        return None if inserted else self.get(intent_id)

    def succeed(self, intent_id: str, *, session_id: str, session_url: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE launches SET session_id = ?, session_url = ?, finished_at = ?"
                " WHERE intent_id = ?",
                (session_id, session_url, _now(), intent_id),
            )

    def fail(self, intent_id: str, *, error: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE launches SET error = ?, finished_at = ? WHERE intent_id = ?",
                (error, _now(), intent_id),
            )

    def get(self, intent_id: str) -> LaunchRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM launches WHERE intent_id = ?", (intent_id,)).fetchone()
        return _record(row) if row else None

    def recent(self, limit: int = 20) -> list[LaunchRecord]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM launches ORDER BY requested_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_record(row) for row in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _record(row: tuple[Any, ...]) -> LaunchRecord:
    (intent, target, who, at, patient, mode, request, sid, url, error, done) = row
    return LaunchRecord(
        intent, target, who, at, patient, mode, json.loads(request), sid, url, error, done
    )
