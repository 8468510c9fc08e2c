"""`mirror listen`: the webhook receiver (Starlette, served by uvicorn).

`POST /webhooks/medblocks` checks `Medblocks-Signature` against the endpoint secret (the
client's `verify_signature`: HMAC-SHA256, constant-time, 5-minute window), checks that the
body is an event, stores it once by id, and answers 200 at once; re-reading the patient or
session and updating the mirror happen after the answer, on a queue worked by `workers` tasks
(so a burst of deliveries never holds an answer up, and events about different patients are
applied side by side; their order does not matter, see `events`). A bad or missing signature
or a stale timestamp is 401, a body that is not an event 400 (not JSON, nested too deep,
a field of the wrong type), a body over `MAX_BODY_BYTES` 413 before it is read whole, and
none of them stores anything. A repeated event id is 200 (so Medblocks stops retrying) and is
not applied twice. Events stored but not yet applied when the receiver stopped are applied
when it starts again.
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

from medblocks.client import AsyncMedblocks
from medblocks.client.webhooks_signature import SignatureVerificationError, verify_signature
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror
from medblocks.mirror.events import EventApplier, NotAnEvent, parse_event
from medblocks.mirror.store import MirrorWriter

log = logging.getLogger("medblocks.mirror")

WEBHOOK_PATH = "/webhooks/medblocks"
SIGNATURE_HEADER = "medblocks-signature"


MAX_BODY_BYTES = 1024 * 1024
"""The largest delivery read (1 MiB; an event names one session or connection and is about a
kilobyte). A larger one is refused by its declared Content-Length, or, sent without one,
as soon as the bytes read pass it: at most this much of a body is ever held in memory."""


class BodyRefused(Exception):
    """A request body refused before it was read whole; `status` is the answer's code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def limited_body(request: Request, limit: int) -> bytes:
    """The request's body, read only while it stays within `limit` bytes."""
    too_large = BodyRefused(413, f"the body is larger than the {limit} bytes a delivery may be")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def event_of(body: bytes) -> dict[str, Any]:
    """The event a (signed) body holds; `NotAnEvent` says why it holds none."""
    try:
        parsed = json.loads(body)
    except RecursionError:
        raise NotAnEvent("the body's JSON nests too deep") from None
    except ValueError:
        raise NotAnEvent("the body is not JSON") from None
    return parse_event(parsed)


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
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The receiver app; `client_factory` makes the client it re-reads through (opened at
    start-up, closed at shutdown). `secret` may be set later as `app.state.secret` (a receiver
    must serve before its URL can be registered, and the secret comes with the registration);
    until then every delivery is answered 503 and Medblocks retries it. A body over
    `max_body_bytes` is refused unread (413)."""
    writer = MirrorWriter(mirror)
    state: dict[str, EventQueue] = {}

    async def receive(request: Request) -> JSONResponse:
        try:
            body = await limited_body(request, max_body_bytes)
        except BodyRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
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
            event = event_of(body)
        except NotAnEvent as exc:
            return JSONResponse({"error": f"not an event: {exc}"}, status_code=400)
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
