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

The database may be away while events are applied (SQLite locked by another writer, PostgreSQL
restarting): a worker keeps the event and tries it again, waiting 0.5 s, 1 s, 2 s … up to 15 s
between attempts, until the database takes it; an event is applied and marked in one
transaction, so nothing is lost or applied twice. A worker never ends on an error (any other
failure is logged and the worker takes the next event). `GET /health` answers 503 with
`ok: false` and the reason while work is stuck (an event waiting for the database, or a worker
that stopped), 200 `ok: true` otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from medblocks.alerts.hook import evaluate_after_change
from medblocks.client import AsyncMedblocks
from medblocks.client.webhooks_signature import SignatureVerificationError, verify_signature
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror, database_away, database_failure
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
    """Events accepted by the receiver, applied one by one after their answers went out; an
    event the database cannot take yet is tried again with backoff (`stuck` says why)."""

    def __init__(
        self, applier: EventApplier, *, first_wait: float = 0.5, longest_wait: float = 15.0
    ) -> None:
        self.applier = applier
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.applied = 0
        self.first_wait = first_wait
        self.longest_wait = longest_wait
        self.stuck: dict[str, tuple[float, str]] = {}  # event id -> (since, why)

    async def work(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                outcome = await self.apply_until_done(event)
                self.applied += 1
                log.info("event %s %s: %s", event["id"], event["type"], outcome)
                if self.queue.empty():  # a burst is evaluated once, when it has been applied
                    mirror = self.applier.writer.mirror
                    await run_in_threadpool(evaluate_after_change, mirror, by="mirror receiver")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never end a worker: log it, take the next event
                log.error(
                    "event %s %s not applied: %s (it stays stored; the next start or sync "
                    "applies it)",
                    event["id"],
                    event["type"],
                    type(exc).__name__,
                )
            finally:
                self.queue.task_done()

    async def apply_until_done(self, event: dict[str, Any]) -> str:
        """Apply `event`, waiting out a database that is away (backoff, no limit)."""
        wait = self.first_wait
        try:
            while True:
                try:
                    return await self.applier.apply(event)
                except sa.exc.DBAPIError as exc:
                    if not database_away(exc):
                        raise
                    why = f"the database is not taking writes ({database_failure(exc)})"
                    since = self.stuck.get(event["id"], (time.monotonic(), why))[0]
                    self.stuck[event["id"]] = (since, why)
                    log.warning("event %s waits for the database: %s", event["id"], why)
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, self.longest_wait)
        finally:
            self.stuck.pop(event["id"], None)

    def trouble(self) -> str | None:
        """Why work is stuck, or None."""
        if not self.stuck:
            return None
        since, why = min(self.stuck.values())
        return (
            f"{len(self.stuck)} events wait to be applied: {why}, for "
            f"{time.monotonic() - since:.0f} s"
        )


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
        if queue is None:
            return JSONResponse({"ok": False, "pending": 0, "problem": "not started"}, 503)
        stopped = [task for task in workers_of(request.app) if task.done()]
        problem = queue.trouble() or (
            f"{len(stopped)} of the receiver's workers stopped" if stopped else None
        )
        pending = queue.queue.qsize() + len(queue.stuck)
        if problem is not None:
            return JSONResponse({"ok": False, "pending": pending, "problem": problem}, 503)
        return JSONResponse({"ok": True, "pending": pending})

    def workers_of(app: Starlette) -> list[asyncio.Task[None]]:
        return list(getattr(app.state, "workers", []))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = client_factory()
        queue = EventQueue(EventApplier(writer, client))
        state["queue"] = queue
        app.state.events = queue
        for event in await run_in_threadpool(unapplied_events, mirror):
            queue.queue.put_nowait(event)
        tasks = [asyncio.create_task(queue.work()) for _ in range(workers)]
        app.state.workers = tasks
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
