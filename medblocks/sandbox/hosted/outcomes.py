"""What happens to sessions and connections when a patient (or a control) acts.

Shared by the hosted pages (`pages.py`) and the headless controls (`levers/controls.py`), so
a session completed either way ends in the same rows and emits the same webhook events.
The sandbox's personas and failure codes are defined here (Medblocks publishes no
`failure_code` values; see the README); their wording is the shared table in
`medblocks.spec.failure_codes`.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from medblocks.sandbox.api import resources, webhooks
from medblocks.sandbox.clock import iso
from medblocks.sandbox.ids import new_id
from medblocks.sandbox.runtime import SandboxRuntime
from medblocks.sandbox.storage.ehr import SCOPES, chart_records
from medblocks.sandbox.storage.store import Row
from medblocks.spec.failure_codes import failure_wording

# The failure codes the sandbox produces (personas, Deny, controls, seed).
FAILURE_CODES: tuple[str, ...] = (
    "user_denied",
    "oauth_error",
    "token_exchange_failed",
    "oauth_callback_failed",
    "portal_login_failed",
    "consent_timeout",
)
REFRESH_FAILS_AFTER = timedelta(hours=24)
SANDBOX_PASSWORD = "pass_good"


@dataclass(frozen=True)
class Outcome:
    """The result of one authorization attempt."""

    status: str  # "active" or "failed"
    failure_code: str | None = None
    refresh_fails_after: timedelta | None = None
    records_sync_fails: bool = False

    @classmethod
    def failed(cls, failure_code: str) -> Outcome:
        return cls("failed", failure_code=failure_code)


@dataclass(frozen=True)
class Persona:
    """A sandbox sign-in (any of them with the password `pass_good`)."""

    username: str
    approve: Outcome
    summary: str


PERSONAS: dict[str, Persona] = {
    p.username: p
    for p in (
        Persona("user_good", Outcome("active"), "connects; records arrive"),
        Persona(
            "user_refresh_fail",
            Outcome("active", refresh_fails_after=REFRESH_FAILS_AFTER),
            "connects; refresh fails 24 h later",
        ),
        Persona(
            "user_sync_fail",
            Outcome("active", records_sync_fails=True),
            "connects; records never arrive",
        ),
        Persona("user_denied", Outcome.failed("user_denied"), "declines (user_denied)"),
        Persona("user_oauth_error", Outcome.failed("oauth_error"), "sign-in error (oauth_error)"),
        Persona(
            "user_token_fail",
            Outcome.failed("token_exchange_failed"),
            "hand-over fails (token_exchange_failed)",
        ),
    )
}
DENIED = Outcome.failed("user_denied")


@dataclass(frozen=True)
class AttemptResult:
    """One recorded attempt and the `conn_` id of the patient connection it touched."""

    source_id: str
    outcome: Outcome
    connection_id: str


# -- redirects ----------------------------------------------------------------------------------


def return_redirect(return_url: str, params: list[tuple[str, str]]) -> str:
    """`return_url` with `params` appended to any query it already has (fragment kept last)."""
    parts = urlsplit(return_url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def picker_return(session: Row) -> str:
    return return_redirect(
        session["return_url"],
        [("patient_id", session["patient_id"]), ("patient_session_id", session["id"])],
    )


def direct_return(session: Row, result: AttemptResult) -> str:
    base = [("patient_id", session["patient_id"]), ("patient_session_id", session["id"])]
    if result.outcome.status == "active":
        return return_redirect(
            session["return_url"], [*base, ("success", "true"), ("connection_id", result.source_id)]
        )
    code = result.outcome.failure_code or "oauth_error"
    return return_redirect(
        session["return_url"],
        [
            *base,
            ("success", "false"),
            ("error", code),
            ("error_description", failure_wording(code).what_happened),
        ],
    )


# -- sessions -----------------------------------------------------------------------------------


def session_is_open(runtime: SandboxRuntime, session: Row) -> bool:
    return resources.session_status(session, runtime.clock.now_iso()) == "open"


def record_attempt(
    runtime: SandboxRuntime, session: Row, source_id: str, outcome: Outcome, base_url: str
) -> AttemptResult:
    """Record one authorization attempt of `session` against catalog source `source_id`.

    A patient has at most one connection per source: success creates it or makes it active
    again; failure creates it as `failed`, or turns a non-active one `failed`, but never
    breaks a connection that is already active (the session still lists the failed attempt).
    A direct-mode success also completes the session (its redirect says so).
    """
    store = runtime.store
    now = runtime.clock.now()
    now_s = iso(now)
    patient_id = session["patient_id"]
    with store.transaction() as db:
        existing = store.connection_for_source(db, patient_id, source_id)
        connection_id: str = existing["id"] if existing is not None else new_id("conn_")
        active = outcome.status == "active"
        failure_code = None if active else outcome.failure_code
        failure_at = None if active else now_s
        refresh_after = outcome.refresh_fails_after if active else None
        refresh_at = iso(now + refresh_after) if refresh_after else None
        if existing is None:
            store.insert_connection(
                db,
                id=connection_id,
                patient_id=patient_id,
                patient_session_id=session["id"],
                connection_id=source_id,
                status=outcome.status,
                scopes=SCOPES if active else [],
                failure_code=failure_code,
                failure_at=failure_at,
                created_at=now_s,
                refresh_fails_at=refresh_at,
            )
        elif active:
            store.reactivate_connection(
                db,
                existing["id"],
                patient_session_id=session["id"],
                scopes=SCOPES,
                updated_at=now_s,
                refresh_fails_at=refresh_at,
            )
        elif existing["status"] != "active":
            store.set_connection_status(db, existing["id"], "failed", now_s, failure_code, now_s)
        store.insert_attempt(
            db,
            patient_session_id=session["id"],
            connection=connection_id if active else None,
            connection_id=source_id,
            status=outcome.status,
            failure_code=failure_code,
            failure_at=failure_at,
            created_at=now_s,
        )
        if active:
            _sync_records(runtime, db, connection_id, fails=outcome.records_sync_fails)
        if session["mode"] == "direct" and active:
            _complete(runtime, db, session["id"], now_s, base_url)
    webhooks.notify(runtime)
    return AttemptResult(source_id, outcome, connection_id)


def complete_session(runtime: SandboxRuntime, session: Row, base_url: str) -> None:
    """The patient clicked Done: `open → complete`, and `patient_session.completed` is sent."""
    with runtime.store.transaction() as db:
        _complete(runtime, db, session["id"], runtime.clock.now_iso(), base_url)
    webhooks.notify(runtime)


def _complete(
    runtime: SandboxRuntime, db: sqlite3.Connection, session_id: str, now: str, base_url: str
) -> None:
    store = runtime.store
    store.set_session_status(db, session_id, "complete", now)
    row = store.get_session(session_id)  # the same connection: sees this transaction
    assert row is not None
    obj = resources.patient_session(row, store, now, base_url)
    webhooks.emit(runtime, db, "patient_session.completed", obj)


# -- connections --------------------------------------------------------------------------------


def _connection_object(runtime: SandboxRuntime, connection_id: str) -> dict[str, Any]:
    row = runtime.store.connection_by_id(connection_id)
    assert row is not None
    return resources.connection(row)


def _sync_records(
    runtime: SandboxRuntime, db: sqlite3.Connection, connection_id: str, *, fails: bool
) -> None:
    """The background pull after a connection becomes active, done at once in the sandbox."""
    store = runtime.store
    row = store.connection_by_id(connection_id)
    assert row is not None
    obj = resources.connection(row)
    if fails:
        webhooks.emit(runtime, db, "records.sync.failed", obj)
        return
    patient = store.get_patient(row["patient_id"])
    records = chart_records(
        random.Random(connection_id),
        row["patient_id"],
        patient["name"] if patient is not None else None,
        row["connection_id"],
        runtime.clock.now(),
    )
    store.replace_source_records(db, row["patient_id"], row["connection_id"], records)
    webhooks.emit(runtime, db, "records.sync.completed", obj)


def force_connection_status(
    runtime: SandboxRuntime, connection: Row, status: str, failure_code: str | None
) -> None:
    """Set a connection's status as a control asks, with the events the change implies."""
    store = runtime.store
    now = runtime.clock.now_iso()
    with store.transaction() as db:
        store.set_connection_status(
            db,
            connection["id"],
            status,
            now,
            failure_code if status == "failed" else None,
            now if status == "failed" else None,
        )
        if status == "refresh_failed" and connection["status"] != "refresh_failed":
            webhooks.emit(
                runtime,
                db,
                "connection.token_refresh_failed",
                _connection_object(runtime, connection["id"]),
            )
        if status == "active" and connection["status"] != "active":
            _sync_records(runtime, db, connection["id"], fails=False)
    webhooks.notify(runtime)


def fire_due_refresh_failures(runtime: SandboxRuntime) -> int:
    """Turn active connections whose refresh failure is due into `refresh_failed`.

    The due rows are read again inside the transaction, so concurrent callers fire each once.
    """
    store = runtime.store
    if not store.due_refresh_failures(runtime.clock.now_iso()):
        return 0
    with store.transaction() as db:
        due = store.due_refresh_failures(runtime.clock.now_iso())
        for row in due:
            store.set_connection_status(db, row["id"], "refresh_failed", row["refresh_fails_at"])
            webhooks.emit(
                runtime,
                db,
                "connection.token_refresh_failed",
                _connection_object(runtime, row["id"]),
            )
    return len(due)


def run_due_work(runtime: SandboxRuntime) -> None:
    """Everything time-driven that is due on the sandbox clock: refresh failures, deliveries."""
    fire_due_refresh_failures(runtime)
    webhooks.deliver_due(runtime)
