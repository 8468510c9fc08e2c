"""The sandbox's only SQLite access layer (standard-library `sqlite3`).

One connection guarded by a re-entrant lock, so the server's event loop, the webhook delivery
thread and tests may share it. On disk the database runs in WAL mode with `synchronous=NORMAL`:
a transaction is in the WAL file when `COMMIT` returns, so a `kill -9` of the process loses no
acknowledged write (only a power cut could drop the last commits). `db_path=None` keeps
everything in memory.

Functions here speak rows (`sqlite3.Row`); turning rows into API objects lives in
`api/resources.py` and the rules of the API in `api/operations.py`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fhir_sources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    type TEXT,
    fhir_base_url TEXT NOT NULL UNIQUE,
    logo_url TEXT,
    portal_url TEXT
);
CREATE TABLE IF NOT EXISTS patients (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    email TEXT,
    name TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS patients_email ON patients(email);
CREATE TABLE IF NOT EXISTS patient_sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL UNIQUE,
    patient_id TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('picker', 'direct')),
    connection_id TEXT,
    recommended_connection_ids TEXT,
    return_url TEXT NOT NULL,
    return_button_label TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    expires_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX IF NOT EXISTS patient_sessions_patient ON patient_sessions(patient_id, seq);
CREATE TABLE IF NOT EXISTS session_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_session_id TEXT NOT NULL,
    connection TEXT,
    connection_id TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    failure_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_attempts_session ON session_attempts(patient_session_id, seq);
CREATE TABLE IF NOT EXISTS connections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    patient_id TEXT NOT NULL,
    patient_session_id TEXT,
    connection_id TEXT NOT NULL,
    status TEXT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '[]',
    failure_code TEXT,
    failure_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    refresh_fails_at TEXT
);
CREATE INDEX IF NOT EXISTS connections_patient ON connections(patient_id, seq);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id TEXT NOT NULL,
    source TEXT,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_patient ON records(patient_id, seq);
CREATE TABLE IF NOT EXISTS record_cursors (
    cursor TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    api_version TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    webhook_endpoint_id TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    api_version TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    delivered_at TEXT,
    last_status_code INTEGER,
    last_response_body TEXT,
    last_redelivered_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_events_endpoint ON webhook_events(webhook_endpoint_id, seq);
CREATE INDEX IF NOT EXISTS webhook_events_due ON webhook_events(next_attempt_at);
CREATE TABLE IF NOT EXISTS launch_contexts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    patient TEXT,
    encounter TEXT,
    fhir_user TEXT,
    scope TEXT,
    fhir_source TEXT,
    fhir_base_url TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

Row = sqlite3.Row


def dumps(value: Any) -> str:
    """JSON text for a JSON column."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _insert(db: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    """INSERT one row into `table` (a name from SCHEMA, never from a caller) from column → value."""
    columns = ", ".join(values)
    marks = ", ".join("?" * len(values))
    db.execute(f"INSERT INTO {table}({columns}) VALUES ({marks})", tuple(values.values()))


def _record_filter(
    patient_id: str, types: list[str] | None, since: str | None
) -> tuple[str, list[Any]]:
    """The WHERE clause and its values that pick a patient's records by type and `since`."""
    where = "patient_id = ?"
    params: list[Any] = [patient_id]
    if types:
        where += f" AND resource_type IN ({','.join('?' * len(types))})"
        params.extend(types)
    if since:
        where += " AND updated_at > ?"
        params.append(since)
    return where, params


class Store:
    """Thread-safe access to the sandbox database."""

    def __init__(self, db_path: Path | str | None) -> None:
        self.db_path = Path(db_path) if db_path is not None else None
        if self.db_path is not None:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            target = str(self.db_path)
        else:
            target = ":memory:"
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._depth = 0
        if self.db_path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run one transaction: committed on success, rolled back on error.

        Nested use joins the outer transaction.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            row: Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def _by_id(self, table: str, row_id: str) -> Row | None:
        """The row of `table` (a name from SCHEMA) whose `id` is `row_id`."""
        return self.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))

    def page(
        self,
        table: str,
        conditions: Sequence[tuple[str, Any]],
        *,
        order: str,
        limit: int,
    ) -> list[Row]:
        """One list page plus one row (the extra row only says another page exists).

        `conditions` are `(clause, value)` pairs; a pair whose value is None is skipped, and a
        clause without `?` uses no value (pass True to apply it).
        """
        sql = f"SELECT * FROM {table} WHERE 1 = 1"
        params: list[Any] = []
        for clause, value in conditions:
            if value is None:
                continue
            sql += f" AND {clause}"
            params.extend([value] * clause.count("?"))
        params.append(limit + 1)
        return self.query(f"{sql} ORDER BY {order} LIMIT ?", params)

    def erase_everything(self) -> None:
        """Empty every table (the `/_sandbox/reset` control); the schema stays."""
        with self.transaction() as db:
            tables = db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            for table in tables:
                db.execute(f'DELETE FROM "{table["name"]}"')

    # -- sandbox_state ---------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM sandbox_state WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_state(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sandbox_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def is_seeded(self) -> bool:
        return self.get_state("seeded") is not None

    # -- catalog -----------------------------------------------------------------------------

    def insert_sources(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (id, name, type, fhir_base_url, logo_url, portal_url)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO fhir_sources(id, name, type, fhir_base_url, logo_url, portal_url) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def get_source(self, id_or_url: str) -> Row | None:
        """A catalog source by `fhirsrc_` id or by its exact `fhir_base_url`."""
        return self.query_one(
            "SELECT * FROM fhir_sources WHERE id = ? OR fhir_base_url = ? LIMIT 1",
            (id_or_url, id_or_url),
        )

    def list_sources(
        self, *, limit: int, after_seq: int | None, q: str | None, vendor: str | None
    ) -> list[Row]:
        conditions = [
            ("seq > ?", after_seq),
            ("instr(lower(name), lower(?)) > 0", q),
            ("type = ?", vendor),
        ]
        return self.page("fhir_sources", conditions, order="seq", limit=limit)

    def all_sources(self) -> list[Row]:
        return self.query("SELECT * FROM fhir_sources ORDER BY seq")

    # -- patients ----------------------------------------------------------------------------

    def insert_patient(
        self,
        db: sqlite3.Connection,
        patient_id: str,
        email: str | None,
        name: str | None,
        metadata: dict[str, Any],
        created_at: str,
    ) -> None:
        _insert(
            db,
            "patients",
            {
                "id": patient_id,
                "email": email,
                "name": name,
                "metadata": dumps(metadata),
                "created_at": created_at,
            },
        )

    def insert_patients_bulk(self, db: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (id, email, name, metadata JSON, created_at)."""
        db.executemany(
            "INSERT INTO patients(id, email, name, metadata, created_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def get_patient(self, patient_id: str) -> Row | None:
        return self._by_id("patients", patient_id)

    def list_patients(
        self, *, limit: int, before_seq: int | None, patient_id: str | None, email: str | None
    ) -> list[Row]:
        conditions = [("seq < ?", before_seq), ("id = ?", patient_id), ("email = ?", email)]
        return self.page("patients", conditions, order="seq DESC", limit=limit)

    def replace_patient(
        self,
        db: sqlite3.Connection,
        patient_id: str,
        email: str | None,
        name: str | None,
        metadata: dict[str, Any],
    ) -> None:
        db.execute(
            "UPDATE patients SET email = ?, name = ?, metadata = ? WHERE id = ?",
            (email, name, dumps(metadata), patient_id),
        )

    def delete_patient(self, db: sqlite3.Connection, patient_id: str) -> None:
        """Hard delete: the patient, its connections, sessions, attempts and records."""
        db.execute(
            "DELETE FROM session_attempts WHERE patient_session_id IN "
            "(SELECT id FROM patient_sessions WHERE patient_id = ?)",
            (patient_id,),
        )
        for table in ("patient_sessions", "connections", "records", "record_cursors"):
            db.execute(f"DELETE FROM {table} WHERE patient_id = ?", (patient_id,))
        db.execute("DELETE FROM patients WHERE id = ?", (patient_id,))

    # -- patient connections -------------------------------------------------------------------

    def insert_connection(
        self,
        db: sqlite3.Connection,
        *,
        id: str,
        patient_id: str,
        patient_session_id: str | None,
        connection_id: str,
        status: str,
        scopes: list[str],
        failure_code: str | None,
        failure_at: str | None,
        created_at: str,
        refresh_fails_at: str | None = None,
    ) -> None:
        _insert(
            db,
            "connections",
            {
                "id": id,
                "patient_id": patient_id,
                "patient_session_id": patient_session_id,
                "connection_id": connection_id,
                "status": status,
                "scopes": dumps(scopes),
                "failure_code": failure_code,
                "failure_at": failure_at,
                "created_at": created_at,
                "updated_at": created_at,
                "refresh_fails_at": refresh_fails_at,
            },
        )

    def insert_connections_bulk(
        self, db: sqlite3.Connection, rows: Iterable[Sequence[Any]]
    ) -> None:
        """Rows of (id, patient_id, patient_session_id, connection_id, status, scopes JSON,
        failure_code, failure_at, created_at, updated_at)."""
        db.executemany(
            "INSERT INTO connections(id, patient_id, patient_session_id, connection_id, status, "
            "scopes, failure_code, failure_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def get_connection(self, patient_id: str, connection_id: str) -> Row | None:
        return self.query_one(
            "SELECT * FROM connections WHERE patient_id = ? AND id = ?", (patient_id, connection_id)
        )

    def connections_for_patient(self, patient_id: str) -> list[Row]:
        """Every connection of the patient, most recent first."""
        return self.query(
            "SELECT * FROM connections WHERE patient_id = ? ORDER BY seq DESC", (patient_id,)
        )

    def set_connection_status(
        self,
        db: sqlite3.Connection,
        connection_id: str,
        status: str,
        updated_at: str,
        failure_code: str | None = None,
        failure_at: str | None = None,
    ) -> None:
        db.execute(
            "UPDATE connections SET status = ?, failure_code = ?, failure_at = ?, updated_at = ?, "
            "refresh_fails_at = CASE WHEN ? = 'active' THEN refresh_fails_at ELSE NULL END "
            "WHERE id = ?",
            (status, failure_code, failure_at, updated_at, status, connection_id),
        )

    def connection_by_id(self, connection_id: str) -> Row | None:
        """A patient connection by its `conn_` id alone (sandbox controls)."""
        return self._by_id("connections", connection_id)

    def connection_for_source(
        self, db: sqlite3.Connection, patient_id: str, source_id: str
    ) -> Row | None:
        """The patient's most recent connection to one catalog source, if any."""
        row: Row | None = db.execute(
            "SELECT * FROM connections WHERE patient_id = ? AND connection_id = ? "
            "ORDER BY seq DESC LIMIT 1",
            (patient_id, source_id),
        ).fetchone()
        return row

    def reactivate_connection(
        self,
        db: sqlite3.Connection,
        connection_id: str,
        *,
        patient_session_id: str,
        scopes: list[str],
        updated_at: str,
        refresh_fails_at: str | None,
    ) -> None:
        """A fresh authorization of an existing connection: active again, failure cleared."""
        db.execute(
            "UPDATE connections SET status = 'active', patient_session_id = ?, scopes = ?, "
            "failure_code = NULL, failure_at = NULL, updated_at = ?, refresh_fails_at = ? "
            "WHERE id = ?",
            (patient_session_id, dumps(scopes), updated_at, refresh_fails_at, connection_id),
        )

    def due_refresh_failures(self, now: str) -> list[Row]:
        """Active connections whose scheduled refresh failure has come."""
        return self.query(
            "SELECT * FROM connections WHERE status = 'active' AND refresh_fails_at IS NOT NULL "
            "AND refresh_fails_at <= ? ORDER BY refresh_fails_at, seq",
            (now,),
        )

    def next_refresh_failure_at(self) -> str | None:
        row = self.query_one(
            "SELECT MIN(refresh_fails_at) AS due FROM connections WHERE status = 'active'"
        )
        return None if row is None or row["due"] is None else str(row["due"])

    # -- patient sessions --------------------------------------------------------------------

    def insert_session(
        self,
        db: sqlite3.Connection,
        *,
        id: str,
        token: str,
        patient_id: str,
        mode: str,
        connection_id: str | None,
        recommended_connection_ids: list[str] | None,
        return_url: str,
        return_button_label: str | None,
        expires_at: str,
        metadata: dict[str, Any],
        created_at: str,
        status: str = "open",
        completed_at: str | None = None,
    ) -> None:
        recommended = (
            None if recommended_connection_ids is None else dumps(recommended_connection_ids)
        )
        _insert(
            db,
            "patient_sessions",
            {
                "id": id,
                "token": token,
                "patient_id": patient_id,
                "mode": mode,
                "connection_id": connection_id,
                "recommended_connection_ids": recommended,
                "return_url": return_url,
                "return_button_label": return_button_label,
                "status": status,
                "expires_at": expires_at,
                "metadata": dumps(metadata),
                "created_at": created_at,
                "completed_at": completed_at,
            },
        )

    def get_session(self, session_id: str) -> Row | None:
        return self._by_id("patient_sessions", session_id)

    def get_session_by_token(self, token: str) -> Row | None:
        return self.query_one("SELECT * FROM patient_sessions WHERE token = ?", (token,))

    def list_sessions_for_patient(
        self, *, patient_id: str, limit: int, before_seq: int | None, status: str | None, now: str
    ) -> list[Row]:
        """Newest first; `status` is computed: an open session past `expires_at` is expired."""
        by_status: dict[str, tuple[str, Any]] = {
            "open": ("status = 'open' AND expires_at > ?", now),
            "expired": ("(status = 'expired' OR (status = 'open' AND expires_at <= ?))", now),
            "complete": ("status = 'complete'", True),
        }
        conditions: list[tuple[str, Any]] = [
            ("patient_id = ?", patient_id),
            ("seq < ?", before_seq),
        ]
        if status is not None:
            conditions.append(by_status[status])
        return self.page("patient_sessions", conditions, order="seq DESC", limit=limit)

    def set_session_status(
        self, db: sqlite3.Connection, session_id: str, status: str, completed_at: str | None
    ) -> None:
        db.execute(
            "UPDATE patient_sessions SET status = ?, completed_at = ? WHERE id = ?",
            (status, completed_at, session_id),
        )

    def insert_attempt(
        self,
        db: sqlite3.Connection,
        *,
        patient_session_id: str,
        connection: str | None,
        connection_id: str,
        status: str,
        failure_code: str | None,
        failure_at: str | None,
        created_at: str,
    ) -> None:
        _insert(
            db,
            "session_attempts",
            {
                "patient_session_id": patient_session_id,
                "connection": connection,
                "connection_id": connection_id,
                "status": status,
                "failure_code": failure_code,
                "failure_at": failure_at,
                "created_at": created_at,
            },
        )

    def attempts_for_session(self, session_id: str) -> list[Row]:
        """A session's connection attempts in order; a made connection's live status wins."""
        return self.query(
            "SELECT a.connection AS id, a.connection_id, "
            "COALESCE(c.status, a.status) AS status, "
            "CASE WHEN c.id IS NULL THEN a.failure_code ELSE c.failure_code END AS failure_code, "
            "CASE WHEN c.id IS NULL THEN a.failure_at ELSE c.failure_at END AS failure_at, "
            "a.created_at FROM session_attempts a LEFT JOIN connections c ON c.id = a.connection "
            "WHERE a.patient_session_id = ? ORDER BY a.seq",
            (session_id,),
        )

    # -- records -------------------------------------------------------------------------------

    def insert_records(self, db: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (patient_id, source, resource_type, resource_id, resource JSON, updated_at)."""
        db.executemany(
            "INSERT INTO records(patient_id, source, resource_type, resource_id, resource, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def list_records(
        self,
        *,
        patient_id: str,
        types: list[str] | None,
        since: str | None,
        limit: int,
        after_seq: int | None,
        before_seq: int | None,
    ) -> list[Row]:
        """Oldest first after `after_seq`; with `before_seq`, the page just before it."""
        where, params = _record_filter(patient_id, types, since)
        sql = f"SELECT * FROM records WHERE {where}"
        if before_seq is not None:
            sql += " AND seq < ? ORDER BY seq DESC LIMIT ?"
            params.extend([before_seq, limit + 1])
            return list(reversed(self.query(sql, params)))
        if after_seq is not None:
            sql += " AND seq > ?"
            params.append(after_seq)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit + 1)
        return self.query(sql, params)

    def records_exist(
        self,
        patient_id: str,
        before_seq: int | None,
        after_seq: int | None,
        types: list[str] | None,
        since: str | None,
    ) -> bool:
        """Whether a matching record lies before `before_seq` or after `after_seq`."""
        where, params = _record_filter(patient_id, types, since)
        sql = f"SELECT 1 FROM records WHERE {where}"
        if before_seq is not None:
            sql += " AND seq < ?"
            params.append(before_seq)
        if after_seq is not None:
            sql += " AND seq > ?"
            params.append(after_seq)
        return self.query_one(sql + " LIMIT 1", params) is not None

    def save_record_cursor(self, cursor: str, patient_id: str, seq: int, created_at: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO record_cursors(cursor, patient_id, seq, created_at) "
                "VALUES (?, ?, ?, ?)",
                (cursor, patient_id, seq, created_at),
            )

    def get_record_cursor(self, cursor: str) -> Row | None:
        return self.query_one("SELECT * FROM record_cursors WHERE cursor = ?", (cursor,))

    def replace_source_records(
        self,
        db: sqlite3.Connection,
        patient_id: str,
        source: str,
        rows: Iterable[Sequence[Any]],
    ) -> None:
        """Store a fresh sync of one source's records (only the latest version is kept)."""
        db.execute("DELETE FROM records WHERE patient_id = ? AND source = ?", (patient_id, source))
        self.insert_records(db, rows)

    # -- webhook endpoints and events ------------------------------------------------------------

    def insert_webhook(
        self,
        db: sqlite3.Connection,
        *,
        id: str,
        url: str,
        events: list[str],
        status: str,
        description: str | None,
        metadata: dict[str, Any],
        api_version: str,
        secret: str,
        created_at: str,
    ) -> None:
        _insert(
            db,
            "webhook_endpoints",
            {
                "id": id,
                "url": url,
                "events": dumps(events),
                "status": status,
                "description": description,
                "metadata": dumps(metadata),
                "api_version": api_version,
                "secret": secret,
                "created_at": created_at,
                "updated_at": created_at,
            },
        )

    def get_webhook(self, webhook_id: str) -> Row | None:
        return self._by_id("webhook_endpoints", webhook_id)

    def list_webhooks(self, *, limit: int, before_seq: int | None, status: str | None) -> list[Row]:
        conditions = [("seq < ?", before_seq), ("status = ?", status)]
        return self.page("webhook_endpoints", conditions, order="seq DESC", limit=limit)

    def active_webhooks(self) -> list[Row]:
        return self.query("SELECT * FROM webhook_endpoints WHERE status = 'active' ORDER BY seq")

    def update_webhook(
        self, db: sqlite3.Connection, webhook_id: str, fields: dict[str, Any]
    ) -> None:
        """Set the given columns (JSON columns already encoded by the caller)."""
        allowed = {"url", "events", "status", "description", "metadata", "secret", "updated_at"}
        if not fields or not set(fields) <= allowed:
            raise ValueError(f"cannot update webhook columns {sorted(set(fields) - allowed)}")
        assignments = ", ".join(f"{column} = ?" for column in fields)
        db.execute(
            f"UPDATE webhook_endpoints SET {assignments} WHERE id = ?",
            (*fields.values(), webhook_id),
        )

    def delete_webhook(self, db: sqlite3.Connection, webhook_id: str) -> None:
        """Delete the endpoint and its delivery history for good."""
        db.execute("DELETE FROM webhook_events WHERE webhook_endpoint_id = ?", (webhook_id,))
        db.execute("DELETE FROM webhook_endpoints WHERE id = ?", (webhook_id,))

    def insert_event(
        self,
        db: sqlite3.Connection,
        *,
        id: str,
        webhook_endpoint_id: str,
        type: str,
        data: dict[str, Any],
        api_version: str,
        created_at: str,
        next_attempt_at: str | None,
        attempts: int = 0,
        delivered_at: str | None = None,
        last_status_code: int | None = None,
        last_response_body: str | None = None,
        last_redelivered_at: str | None = None,
    ) -> None:
        _insert(
            db,
            "webhook_events",
            {
                "id": id,
                "webhook_endpoint_id": webhook_endpoint_id,
                "type": type,
                "data": dumps(data),
                "api_version": api_version,
                "attempts": attempts,
                "next_attempt_at": next_attempt_at,
                "delivered_at": delivered_at,
                "last_status_code": last_status_code,
                "last_response_body": last_response_body,
                "last_redelivered_at": last_redelivered_at,
                "created_at": created_at,
            },
        )

    def get_event(self, event_id: str) -> Row | None:
        return self._by_id("webhook_events", event_id)

    def list_events(
        self,
        *,
        webhook_endpoint_id: str,
        limit: int,
        before_seq: int | None,
        delivered: bool | None,
    ) -> list[Row]:
        conditions: list[tuple[str, Any]] = [
            ("webhook_endpoint_id = ?", webhook_endpoint_id),
            ("seq < ?", before_seq),
        ]
        if delivered is not None:
            clause = "delivered_at IS NOT NULL" if delivered else "delivered_at IS NULL"
            conditions.append((clause, True))
        return self.page("webhook_events", conditions, order="seq DESC", limit=limit)

    def due_events(self, now: str) -> list[Row]:
        """Events whose next attempt is due, for the delivery worker."""
        return self.query(
            "SELECT * FROM webhook_events WHERE next_attempt_at IS NOT NULL "
            "AND next_attempt_at <= ? ORDER BY next_attempt_at, seq",
            (now,),
        )

    def mark_redelivery(self, db: sqlite3.Connection, event_id: str, now: str) -> None:
        db.execute(
            "UPDATE webhook_events SET last_redelivered_at = ?, next_attempt_at = ? WHERE id = ?",
            (now, now, event_id),
        )

    def record_attempt(
        self,
        db: sqlite3.Connection,
        event_id: str,
        *,
        attempts: int,
        status_code: int | None,
        response_body: str | None,
        delivered_at: str | None,
        next_attempt_at: str | None,
    ) -> None:
        """The outcome of one delivery attempt (used by the delivery worker)."""
        db.execute(
            "UPDATE webhook_events SET attempts = ?, last_status_code = ?, last_response_body = ?, "
            "delivered_at = COALESCE(delivered_at, ?), next_attempt_at = ? WHERE id = ?",
            (
                attempts,
                status_code,
                None if response_body is None else response_body[:4096],
                delivered_at,
                next_attempt_at,
                event_id,
            ),
        )

    def next_event_attempt_at(self) -> str | None:
        row = self.query_one("SELECT MIN(next_attempt_at) AS due FROM webhook_events")
        return None if row is None or row["due"] is None else str(row["due"])

    def drop_pending_delivery(self, db: sqlite3.Connection, event_id: str) -> None:
        """Stop retrying an event without an attempt (its endpoint is disabled or gone)."""
        db.execute("UPDATE webhook_events SET next_attempt_at = NULL WHERE id = ?", (event_id,))

    # -- launch contexts -------------------------------------------------------------------------

    def insert_launch_context(
        self,
        db: sqlite3.Connection,
        *,
        id: str,
        status: str,
        patient: str | None,
        encounter: str | None,
        fhir_user: str | None,
        scope: str | None,
        fhir_source: str | None,
        fhir_base_url: str,
        created_at: str,
    ) -> None:
        _insert(
            db,
            "launch_contexts",
            {
                "id": id,
                "status": status,
                "patient": patient,
                "encounter": encounter,
                "fhir_user": fhir_user,
                "scope": scope,
                "fhir_source": fhir_source,
                "fhir_base_url": fhir_base_url,
                "created_at": created_at,
            },
        )

    def get_launch_context(self, context_id: str) -> Row | None:
        return self._by_id("launch_contexts", context_id)
