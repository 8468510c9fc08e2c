"""Applying webhook events to the mirror, the same way whether they were pushed (the receiver)
or pulled (`mirror poll`).

An event is stored once, by its id (deliveries are at least once); a repeat is acknowledged
and ignored. Its body is only a hint of what changed: the affected session and patient are
read again from the API and written through the same code as the sync, whose "never
overwrite a newer state" rule makes the order in which events arrive irrelevant.

- `patient_session.completed` (the session): re-read the session and its patient.
- `connection.token_refresh_failed`, `records.sync.completed`, `records.sync.failed` (a
  patient connection, which does not name its patient): the patient comes from the mirror,
  else from the connection's session; then the patient is re-read. `records.sync.*` also
  says whether that connection's records arrived.
- any other type is stored and left for the next sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from medblocks.client import AsyncMedblocks, NotFoundError
from medblocks.client import models as m
from medblocks.mirror.pacing import Pacer, describe_failure
from medblocks.mirror.store import Changes, MirrorWriter, PatientRead

CONNECTION_EVENTS = frozenset(
    {"connection.token_refresh_failed", "records.sync.completed", "records.sync.failed"}
)
SESSION_EVENTS = frozenset({"patient_session.completed"})
Write = Callable[[Connection], str]  # what an event changes, in one transaction; its outcome


class NotAnEvent(ValueError):
    """A body that is not a Medblocks event; the message names what is wrong."""


def parse_event(body: Any) -> dict[str, Any]:
    """Check the shape of a delivered (or listed) event and return it as a plain dict: every
    field the mirror stores or reads is text (no NUL)."""
    if not isinstance(body, dict):
        raise NotAnEvent("the body is not a JSON object")
    event_id, data = body.get("id"), body.get("data")
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise NotAnEvent("the body has no evt_ id")
    if body.get("object", body.get("resource_type")) != "event":
        raise NotAnEvent("the body's object is not 'event'")
    if not isinstance(body.get("type"), str) or not body["type"]:
        raise NotAnEvent("the body has no event type")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise NotAnEvent("the body has no data.object")
    for name in ("id", "type", "webhook_endpoint_id", "created_at"):
        _stored_text(body.get(name), name)
    obj = data["object"]
    _stored_text(obj.get("id"), "data.object.id", needed=True)
    _stored_text(obj.get("patient_session_id"), "data.object.patient_session_id")
    return body


def _stored_text(value: Any, name: str, *, needed: bool = False) -> None:
    """Raise `NotAnEvent` unless `value` is text without NUL (the columns are TEXT: any length
    the API sends fits), or absent."""
    if value is None and not needed:
        return
    if not isinstance(value, str) or not value:
        raise NotAnEvent(f"the body's {name} is not text")
    if "\x00" in value:
        raise NotAnEvent(f"the body's {name} holds a NUL character")


class EventApplier:
    """Stores events once and brings the mirror up to date with what each one concerns."""

    def __init__(self, writer: MirrorWriter, client: AsyncMedblocks, pacer: Pacer | None = None):
        self.writer = writer
        self.client = client
        self.pacer = pacer or Pacer()

    def store(self, event: Mapping[str, Any], via: str) -> bool:
        """True when the event is new (and must be applied), False for a repeat."""
        return self.writer.record_event(event, via)

    async def apply(self, event: Mapping[str, Any]) -> str:
        """Re-read what the event concerns, then update the mirror and note the outcome on the
        stored event in one transaction. API failures are noted, not raised (the next sync
        catches up); a database failure is raised and nothing is written (the event stays
        unapplied, for the caller to apply again)."""
        try:
            write = await self._read(event)
        except sa.exc.SQLAlchemyError:
            raise
        except Exception as exc:  # noted on the event; the receiver must keep going
            outcome = f"not applied: {describe_failure(exc)}"

            def write(_db: Connection) -> str:
                return outcome

        return await asyncio.to_thread(self.writer.settle_event, event["id"], write)

    async def _read(self, event: Mapping[str, Any]) -> Write:
        """The reads an event calls for; returns the write that applies them."""
        event_type = event["type"]
        obj = event["data"]["object"]
        if event_type in SESSION_EVENTS:
            _, session_and_patient = await self._read_session(obj["id"])
            return lambda db: (
                f"applied: session and patient re-read ({session_and_patient(db).total} changes)"
            )
        if event_type in CONNECTION_EVENTS:
            patient_id = await self._patient_of(obj)
            if patient_id is None:
                return lambda _db: "not applied: the connection's patient is unknown (next sync)"
            arrived = None
            if event_type.startswith("records.sync."):
                arrived = event_type == "records.sync.completed"
            connection = await self._read_patient(patient_id, {obj["id"]: arrived})
            return lambda db: f"applied: patient re-read ({connection(db).total} changes)"
        return lambda _db: f"stored: {event_type} changes nothing the mirror holds"

    async def _patient_of(self, connection: Mapping[str, Any]) -> str | None:
        found = await asyncio.to_thread(
            self.writer.patient_of_connection, str(connection.get("id"))
        )
        if found is not None:
            return found
        session_id = connection.get("patient_session_id")
        if not session_id:
            return None
        session = await self.pacer.call(
            lambda: self.client.patient_sessions.retrieve(session_id, max_retries=0)
        )
        return session.patient_id

    async def refresh_session(
        self,
        session_id: str,
        *,
        observed_by: str = "event",
        actor: str | None = None,
        patient_if_changed: bool = False,
    ) -> tuple[m.PatientSession, Changes]:
        """Re-read one session and its patient into the mirror, in one transaction (the patient
        only when the session changed, with `patient_if_changed`); status changes are noted as
        `observed_by` (with `actor` for an action)."""
        session, write = await self._read_session(
            session_id,
            observed_by=observed_by,
            actor=actor,
            patient_if_changed=patient_if_changed,
        )
        return session, await asyncio.to_thread(self._in_one_transaction, write)

    async def refresh_patient(
        self,
        patient_id: str,
        arrived: Mapping[str, bool | None] | None = None,
        *,
        observed_by: str = "event",
        actor: str | None = None,
    ) -> Changes:
        """Re-read one patient into the mirror in one transaction (removed there when the API
        no longer has it); status changes are noted as `observed_by` (with `actor`)."""
        write = await self._read_patient(patient_id, arrived, observed_by=observed_by, actor=actor)
        return await asyncio.to_thread(self._in_one_transaction, write)

    def _in_one_transaction(self, write: Callable[[Connection], Changes]) -> Changes:
        with self.writer.mirror.write() as db:
            return write(db)

    async def _read_session(
        self,
        session_id: str,
        *,
        observed_by: str = "event",
        actor: str | None = None,
        patient_if_changed: bool = False,
    ) -> tuple[m.PatientSession, Callable[[Connection], Changes]]:
        """Re-read one session and (unless `patient_if_changed` and the mirror already holds it
        as read) its patient; returns the session and the write that puts both in the mirror."""
        session: m.PatientSession = await self.pacer.call(
            lambda: self.client.patient_sessions.retrieve(session_id, max_retries=0)
        )
        patient: Callable[[Connection], Changes] | None = None
        if not patient_if_changed or await asyncio.to_thread(self.writer.session_differs, session):
            patient = await self._read_patient(
                session.patient_id, observed_by=observed_by, actor=actor
            )

        def write(db: Connection) -> Changes:
            changes = self.writer.apply_session(session, db)
            if patient is not None:
                changes.add(patient(db))
            return changes

        return session, write

    async def _read_patient(
        self,
        patient_id: str,
        arrived: Mapping[str, bool | None] | None = None,
        *,
        observed_by: str = "event",
        actor: str | None = None,
    ) -> Callable[[Connection], Changes]:
        """Re-read one patient; returns the write that puts it in the mirror (or removes it
        there when the API no longer has it)."""
        try:
            detail: m.PatientDetail = await self.pacer.call(
                lambda: self.client.patients.retrieve(patient_id, max_retries=0)
            )
        except NotFoundError:
            return lambda db: Changes(deleted=self.writer.delete_patients([patient_id], db))
        records = {cid: value for cid, value in (arrived or {}).items() if value is not None}
        read = PatientRead(detail=detail, records_arrived=records)
        return lambda db: self.writer.apply_patients(
            [read], observed_by=observed_by, actor=actor, db=db
        )
