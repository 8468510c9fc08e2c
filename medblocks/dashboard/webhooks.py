"""Webhook endpoints and their recent delivery records, as frames."""

from __future__ import annotations

from itertools import islice

import pandas as pd

from medblocks.client import Medblocks
from medblocks.dashboard.frames import plain

ENDPOINT_COLUMNS = ["id", "url", "status", "events", "description", "api_version", "created_at"]
EVENT_COLUMNS = [
    "id",
    "endpoint_id",
    "type",
    "delivery",
    "attempts",
    "last_status_code",
    "next_attempt_at",
    "delivered_at",
    "last_redelivered_at",
    "created_at",
]


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


def delivery_state(delivered_at: str | None, next_attempt_at: str | None) -> str:
    """delivered, retrying (another attempt is scheduled) or failed (out of retries)."""
    if delivered_at:
        return "delivered"
    return "retrying" if next_attempt_at else "failed"


def events_frame(client: Medblocks, endpoint_id: str, *, limit: int = 50) -> pd.DataFrame:
    rows = [
        {
            "id": ev.id,
            "endpoint_id": ev.webhook_endpoint_id,
            "type": plain(ev.type),
            "delivery": delivery_state(ev.delivered_at, ev.next_attempt_at),
            "attempts": ev.attempts,
            "last_status_code": ev.last_status_code,
            "next_attempt_at": ev.next_attempt_at,
            "delivered_at": ev.delivered_at,
            "last_redelivered_at": ev.last_redelivered_at,
            "created_at": ev.created_at,
        }
        for ev in islice(client.webhooks.events(endpoint_id), limit)
    ]
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)
