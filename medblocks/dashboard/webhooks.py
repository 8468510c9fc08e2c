"""Webhook endpoints and their recent delivery records, as frames; the redelivery limit, and
what the Webhooks page remembers of the redeliveries made from it (`Redeliveries`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

import pandas as pd

from medblocks.client import Medblocks, MedblocksError, RateLimitError
from medblocks.dashboard.tables import empty_cells, time_text
from medblocks.mirror.store import text as plain

# Medblocks documents one redelivery per event per minute (429 throttled before it is over).
REDELIVERY_INTERVAL_SECONDS = 60

ENDPOINT_COLUMNS = ["id", "url", "status", "events", "description", "api_version", "created_at"]
EVENT_COLUMNS = [
    "id",
    "endpoint_id",
    "type",
    "patient_id",
    "delivery",
    "attempts",
    "last_status_code",
    "next_attempt_at",
    "delivered_at",
    "last_redelivered_at",
    "created_at",
    "payload",
    "last_response_body",
]
HIDDEN_EVENT_COLUMNS = ("endpoint_id", "payload", "last_response_body")  # the endpoint is picked
ENDPOINT_TIMES = ("created_at",)
EVENT_TIMES = ("next_attempt_at", "delivered_at", "last_redelivered_at", "created_at")


def for_people(frame: pd.DataFrame, times: tuple[str, ...]) -> pd.DataFrame:
    """The frame as a person reads it: times to the minute in UTC, an HTTP status as its
    number, nothing missing shown as "None" (empty instead)."""
    out = frame.copy()
    for column in times:
        out[column] = time_text(pd.to_datetime(out[column], utc=True, format="ISO8601"))
    if "last_status_code" in out:
        out["last_status_code"] = [
            "" if pd.isna(code) else str(int(code)) for code in out["last_status_code"]
        ]
    return empty_cells(out)


def endpoints_frame(client: Medblocks) -> pd.DataFrame:
    rows = [
        {
            "id": e.id,
            "url": e.url,
            "status": plain(e.status),
            "events": ", ".join(plain(x) for x in e.events),
            "description": e.description,
            "api_version": e.api_version,
            "created_at": e.created_at,
        }
        for e in client.webhooks.list(limit=100)
    ]
    return pd.DataFrame(rows, columns=ENDPOINT_COLUMNS)


DELIVERY_STATES = ("delivered", "retrying", "failed")
"""What `delivery_state` says of an event (the Webhooks page's "Delivery" filter)."""


def delivery_state(delivered_at: str | None, next_attempt_at: str | None) -> str:
    """delivered, retrying (another attempt is scheduled) or failed (out of retries)."""
    if delivered_at:
        return "delivered"
    return "retrying" if next_attempt_at else "failed"


def events_frame(client: Medblocks, endpoint_id: str, *, limit: int = 50) -> pd.DataFrame:
    """The endpoint's newest events, with the patient each is about and, for the viewers, the
    payload (`data.object` as JSON) and the receiver's last response body."""
    events = list(islice(client.webhooks.events(endpoint_id), limit))
    patients = PatientLookup(client)
    rows = [
        {
            "id": ev.id,
            "endpoint_id": ev.webhook_endpoint_id,
            "type": plain(ev.type),
            "patient_id": patients.of(ev.data.object),
            "delivery": delivery_state(ev.delivered_at, ev.next_attempt_at),
            "attempts": ev.attempts,
            "last_status_code": ev.last_status_code,
            "next_attempt_at": ev.next_attempt_at,
            "delivered_at": ev.delivered_at,
            "last_redelivered_at": ev.last_redelivered_at,
            "created_at": ev.created_at,
            "payload": json.dumps(ev.data.object, indent=2, sort_keys=True),
            "last_response_body": ev.last_response_body,
        }
        for ev in events
    ]
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


class PatientLookup:
    """The patient an event's object belongs to: its `patient_id`, or its session's.

    A session is read once per frame; an object that names neither (a bare connection) has
    no patient here, rather than one guessed."""

    def __init__(self, client: Medblocks) -> None:
        self._client = client
        self._sessions: dict[str, str | None] = {}

    def of(self, obj: Any) -> str | None:
        if not isinstance(obj, dict):
            return None
        if isinstance(obj.get("patient_id"), str):
            return str(obj["patient_id"])
        session_id = obj.get("patient_session_id")
        if not isinstance(session_id, str) and str(obj.get("id", "")).startswith("ps_"):
            session_id = obj["id"]
        return self._session_patient(session_id) if isinstance(session_id, str) else None

    def _session_patient(self, session_id: str) -> str | None:
        if session_id not in self._sessions:
            try:
                self._sessions[session_id] = self._client.patient_sessions.retrieve(
                    session_id
                ).patient_id
            except MedblocksError:
                self._sessions[session_id] = None
        return self._sessions[session_id]


def redelivery_wait(exc: BaseException) -> int | None:
    """Seconds until the event may be redelivered again, when `exc` is the documented limit."""
    if isinstance(exc, RateLimitError):
        return max(1, round(exc.retry_after or REDELIVERY_INTERVAL_SECONDS))
    return None


QUEUED = "Queued for redelivery (one redelivery per event per minute)."


@dataclass
class Redeliveries:
    """What the Webhooks page remembers in one browser session: when each event redelivered
    from it may go again, and the message to show once."""

    after: dict[str, float] = field(default_factory=dict)
    """Event id -> when (seconds since the epoch) it may be redelivered again."""
    message: str | None = None

    def redeliver(
        self, event_id: str, send: Callable[[], object], now: float
    ) -> Literal["queued", "wait"] | BaseException:
        """Send once, never again on its own. "queued": the event may go again in a minute and
        the message waits to be shown; "wait": the documented limit answered, the event may go
        again when it said (information, not a failure); any other failure is returned."""
        try:
            send()
        except Exception as exc:
            wait = redelivery_wait(exc)
            if wait is None:
                return exc
            self.after[event_id] = now + wait
            return "wait"
        self.after[event_id] = now + REDELIVERY_INTERVAL_SECONDS
        self.message = QUEUED
        return "queued"

    def seconds_left(self, event_id: str, now: float) -> int | None:
        """Seconds until the event may be redelivered again (0: now); None when it was not
        redelivered from here."""
        until = self.after.get(event_id)
        return None if until is None else max(0, round(until - now))

    def take_message(self) -> str | None:
        """The message to show now (then gone)."""
        message, self.message = self.message, None
        return message
