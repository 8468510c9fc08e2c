"""`mirror listen`: the webhook receiver (Starlette, served by uvicorn).

`POST /webhooks/medblocks` checks `Medblocks-Signature` against the endpoint secret (the
client's `verify_signature`: HMAC-SHA256, constant-time, 5-minute window), checks that the
body is an event, stores it once by id, and answers 200 at once; re-reading the patient or
session and updating the mirror happen after the answer, on a queue worked by `workers` tasks
(so a burst of deliveries never holds an answer up, and events about different patients are
applied side by side; their order does not matter, see `events`). A bad or missing signature
or a stale timestamp is 401, a body that is not an event 400, and neither stores anything. A
repeated event id is 200 (so Medblocks stops retrying) and is not applied twice. Events stored
but not yet applied when the receiver stopped are applied when it starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from medblocks.alerts.engine import evaluate_after_change
from medblocks.client import AsyncMedblocks
from medblocks.client.webhooks_signature import SignatureVerificationError, verify_signature
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror
from medblocks.mirror.events import EventApplier, NotAnEvent, parse_event
from medblocks.mirror.store import MirrorWriter

log = logging.getLogger("medblocks.mirror")

WEBHOOK_PATH = "/webhooks/medblocks"
SIGNATURE_HEADER = "medblocks-signature"


class EventQueue:
    """Events accepted by the receiver, applied one by one after their answers went out."""

    def __init__(self, applier: EventApplier) -> None:
        self.applier = applier
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.applied = 0

    async def work(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                outcome = await self.applier.apply(event)
                self.applied += 1
                log.info("event %s %s: %s", event["id"], event["type"], outcome)
                if self.queue.empty():  # a burst is evaluated once, when it has been applied
                    mirror = self.applier.writer.mirror
                    await run_in_threadpool(evaluate_after_change, mirror, by="mirror receiver")
            finally:
                self.queue.task_done()


def unapplied_events(mirror: Mirror) -> list[dict[str, Any]]:
    e = schema.events
    with mirror.read() as db:
        rows = db.execute(
            sa.select(e.c.payload).where(e.c.applied_at.is_(None)).order_by(e.c.received_at)
        ).all()
    return [json.loads(row.payload) for row in rows]


def create_receiver(
    mirror: Mirror,
    secret: str | None,
    client_factory: Callable[[], AsyncMedblocks],
    *,
    tolerance: int = 300,
    workers: int = 8,
) -> Starlette:
    """The receiver app; `client_factory` makes the client it re-reads through (opened at
    start-up, closed at shutdown). `secret` may be set later as `app.state.secret` (a receiver
    must serve before its URL can be registered, and the secret comes with the registration);
    until then every delivery is answered 503 and Medblocks retries it."""
    writer = MirrorWriter(mirror)
    state: dict[str, EventQueue] = {}

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        current_secret = request.app.state.secret
        if not current_secret:
            return JSONResponse({"error": "the receiver has no signing secret yet"}, 503)
        try:
            verify_signature(
                body, request.headers.get(SIGNATURE_HEADER, ""), current_secret, tolerance=tolerance
            )
        except SignatureVerificationError as exc:
            return JSONResponse({"error": f"signature refused: {exc}"}, status_code=401)
        try:
            event = parse_event(json.loads(body))
        except (ValueError, NotAnEvent) as exc:
            reason = str(exc) if isinstance(exc, NotAnEvent) else "the body is not JSON"
            return JSONResponse({"error": f"not an event: {reason}"}, status_code=400)
        queue = state["queue"]
        fresh = await run_in_threadpool(queue.applier.store, event, "webhook")
        if fresh:
            queue.queue.put_nowait(event)
        return JSONResponse({"received": True, "duplicate": not fresh})

    async def health(request: Request) -> JSONResponse:
        queue = state.get("queue")
        return JSONResponse(
            {"ok": True, "pending": queue.queue.qsize() if queue else 0},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = client_factory()
        queue = EventQueue(EventApplier(writer, client))
        state["queue"] = queue
        app.state.events = queue
        for event in await run_in_threadpool(unapplied_events, mirror):
            queue.queue.put_nowait(event)
        tasks = [asyncio.create_task(queue.work()) for _ in range(workers)]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.aclose()

    app = Starlette(
        routes=[
            Route(WEBHOOK_PATH, receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.secret = secret
    return app
