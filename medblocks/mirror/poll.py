"""`mirror poll`: for sites that cannot receive webhooks, read the endpoint's event list
(`GET /webhooks/{id}/events`, newest first) back to the newest event the last poll saw, and
apply the new ones oldest first, exactly as the receiver does (stored once by id, so events
that also arrive by webhook are applied once).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any

from medblocks.client import AsyncMedblocks
from medblocks.client import models as m
from medblocks.client.pagination import CursorTrail
from medblocks.mirror.db import Mirror
from medblocks.mirror.events import EventApplier
from medblocks.mirror.pacing import Pacer
from medblocks.mirror.store import MirrorWriter

PAGE_SIZE = 100


@dataclass
class PollReport:
    endpoint_id: str
    listed: int = 0
    new: int = 0
    applied: int = 0
    requests: int = 0

    def summary(self) -> str:
        return (
            f"poll of {self.endpoint_id}: {self.listed} events listed, {self.new} new, "
            f"{self.applied} applied; {self.requests} requests"
        )


def checkpoint_name(endpoint_id: str) -> str:
    return f"poll:{endpoint_id}"


def event_body(event: m.WebhookEvent) -> dict[str, Any]:
    """A listed event in the shape a delivery has (what the receiver stores)."""
    return {
        "id": event.id,
        "object": "event",
        "type": str(event.type),
        "api_version": event.api_version,
        "created_at": event.created_at,
        "webhook_endpoint_id": event.webhook_endpoint_id,
        "data": event.data.model_dump(mode="json"),
    }


async def find_endpoint(client: AsyncMedblocks) -> str:
    """The only webhook endpoint there is; with none or several, say what to set."""
    endpoints = [e async for e in client.webhooks.list(limit=100)]
    if len(endpoints) != 1:
        raise ValueError(
            f"{len(endpoints)} webhook endpoints exist: set MEDBLOCKS_WEBHOOK_ENDPOINT_ID "
            "(or --endpoint) to the wh_ id whose events the mirror reads"
        )
    return endpoints[0].id


async def poll_events(
    mirror: Mirror, client: AsyncMedblocks, endpoint_id: str, *, pacer: Pacer | None = None
) -> PollReport:
    """One poll: list back to the last seen event, apply the new ones, move the checkpoint."""
    pacer = pacer or Pacer()
    writer = MirrorWriter(mirror)
    applier = EventApplier(writer, client, pacer)
    report = PollReport(endpoint_id)
    name = checkpoint_name(endpoint_id)
    last_seen = (mirror.checkpoint(name) or {}).get("newest_event_id")
    newest: str | None = None
    listed: list[m.WebhookEvent] = []
    trail = CursorTrail("api.listWebhookEvents")
    cursor: str | None = None
    while True:
        page = await pacer.call(
            partial(
                client.webhooks.events_page,
                endpoint_id,
                limit=PAGE_SIZE,
                starting_after=cursor,
                max_retries=0,
            )
        )
        reached = False
        for event in page.data:
            if event.id == last_seen:
                reached = True
                break
            newest = newest or event.id
            listed.append(event)
        cursor = None if reached else trail.next(page)
        if cursor is None:
            break
    report.listed = len(listed)
    for event in reversed(listed):  # oldest first
        body = event_body(event)
        if await asyncio.to_thread(applier.store, body, "poll"):
            report.new += 1
            outcome = await applier.apply(body)
            report.applied += outcome.startswith("applied")
    if newest is not None:
        with mirror.write() as db:
            mirror.save_checkpoint(db, name, {"newest_event_id": newest})
    report.requests = pacer.stats.requests
    return report
