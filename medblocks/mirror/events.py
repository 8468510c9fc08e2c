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
from collections.abc import Mapping
from typing import Any

from medblocks.client import AsyncMedblocks, NotFoundError
from medblocks.client import models as m
from medblocks.mirror.pacing import Pacer, describe_failure
from medblocks.mirror.store import Changes, MirrorWriter, PatientRead

CONNECTION_EVENTS = frozenset(
    {"connection.token_refresh_failed", "records.sync.completed", "records.sync.failed"}
)
SESSION_EVENTS = frozenset({"patient_session.completed"})


class NotAnEvent(ValueError):
    """A body that is not a Medblocks event; the message names what is wrong."""


def parse_event(body: Any) -> dict[str, Any]:
    """Check the shape of a delivered (or listed) event and return it as a plain dict."""
    if not isinstance(body, dict):
        raise NotAnEvent("the body is not a JSON object")
    event_id, event_type, data = body.get("id"), body.get("type"), body.get("data")
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise NotAnEvent("the body has no evt_ id")
    if body.get("object", body.get("resource_type")) != "event":
        raise NotAnEvent("the body's object is not 'event'")
    if not isinstance(event_type, str) or not event_type:
        raise NotAnEvent("the body has no event type")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise NotAnEvent("the body has no data.object")
    return body


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
        """Re-read what the event concerns and update the mirror; returns the outcome noted
        on the stored event. API failures are noted, not raised (the next sync catches up)."""
        try:
            outcome = await self._apply(event)
        except Exception as exc:  # noted on the event; the receiver must keep going
            outcome = f"not applied: {describe_failure(exc)}"
        await asyncio.to_thread(self.writer.event_applied, event["id"], outcome)
        return outcome

    async def _apply(self, event: Mapping[str, Any]) -> str:
        event_type = event["type"]
        obj = event["data"]["object"]
        if event_type in SESSION_EVENTS:
            _, changes = await self.refresh_session(obj["id"])
            return f"applied: session and patient re-read ({changes.total} changes)"
        if event_type in CONNECTION_EVENTS:
            patient_id = await self._patient_of(obj)
            if patient_id is None:
                return "not applied: the connection's patient is unknown (next sync)"
            arrived = None
            if event_type.startswith("records.sync."):
                arrived = event_type == "records.sync.completed"
            changes = await self.refresh_patient(patient_id, {obj["id"]: arrived})
            return f"applied: patient re-read ({changes.total} changes)"
        return f"stored: {event_type} changes nothing the mirror holds"

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
        """Re-read one session and its patient into the mirror (the patient only when the
        session changed, with `patient_if_changed`)."""
        session: m.PatientSession = await self.pacer.call(
            lambda: self.client.patient_sessions.retrieve(session_id, max_retries=0)
        )
        changes = await asyncio.to_thread(self.writer.apply_session, session)
        if changes.sessions or not patient_if_changed:
            changes.add(
                await self.refresh_patient(session.patient_id, observed_by=observed_by, actor=actor)
            )
        return session, changes

    async def refresh_patient(
        self,
        patient_id: str,
        arrived: Mapping[str, bool | None] | None = None,
        *,
        observed_by: str = "event",
        actor: str | None = None,
    ) -> Changes:
        """Re-read one patient into the mirror (removed there when the API no longer has it);
        its status changes are noted as `observed_by` (with `actor` for an action)."""
        try:
            detail: m.PatientDetail = await self.pacer.call(
                lambda: self.client.patients.retrieve(patient_id, max_retries=0)
            )
        except NotFoundError:
            return Changes(
                deleted=await asyncio.to_thread(self.writer.delete_patients, [patient_id])
            )
        records = {cid: value for cid, value in (arrived or {}).items() if value is not None}
        read = PatientRead(detail=detail, records_arrived=records)
        return await asyncio.to_thread(
            self.writer.apply_patients, [read], observed_by=observed_by, actor=actor
        )
