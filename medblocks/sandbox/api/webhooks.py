"""Webhook events: queue them for subscribed endpoints, sign them and deliver them on schedule.

`emit` records one event per active endpoint subscribed to the type (inside the caller's
transaction, so the event exists exactly when the change that caused it does). `deliver_due`
POSTs every event whose `next_attempt_at` has come on the sandbox clock, records the outcome
and schedules the next retry; after the ninth failed attempt the endpoint is disabled. A
background thread per sandbox (`WebhookWorker`) calls it as soon as something is queued and
whenever a retry falls due, so API requests never wait for a receiver; tests and the clock
control call `deliver_due` directly for deterministic runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from medblocks.sandbox import jsontext
from medblocks.sandbox.clock import iso, parse_iso
from medblocks.sandbox.ids import new_id
from medblocks.sandbox.runtime import SandboxRuntime
from medblocks.sandbox.storage.store import Row, Store

log = logging.getLogger("medblocks.sandbox.webhooks")

SIGNATURE_HEADER = "Medblocks-Signature"
DELIVERY_TIMEOUT = 5.0
MAX_ATTEMPTS = 9
# Wait before attempt 2, 3, … 9 after the previous attempt failed (attempt 1 is immediate).
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
    timedelta(hours=24),
    timedelta(hours=24),
    timedelta(hours=24),
)
RESPONSE_BODY_LIMIT = 4096
IDLE_WAKE_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300.0


def subscribed(events: list[str], event_type: str) -> bool:
    return "*" in events or event_type in events


def emit(
    runtime: SandboxRuntime, db: sqlite3.Connection, event_type: str, obj: dict[str, Any]
) -> int:
    """Queue `event_type` about `obj` for every active subscribed endpoint; returns how many.

    Call `notify(runtime)` after the surrounding transaction commits.
    """
    now = runtime.clock.now_iso()
    queued = 0
    for endpoint in runtime.store.active_webhooks():  # same connection as `db`
        if not subscribed(json.loads(endpoint["events"]), event_type):
            continue
        runtime.store.insert_event(
            db,
            id=new_id("evt_"),
            webhook_endpoint_id=endpoint["id"],
            type=event_type,
            data={"object": obj},
            api_version=endpoint["api_version"],
            created_at=now,
            next_attempt_at=now,
        )
        queued += 1
    return queued


def payload(event: Row) -> bytes:
    """The delivered body: `{id, object, type, api_version, created_at, data}`."""
    body = {
        "id": event["id"],
        "object": "event",
        "type": event["type"],
        "api_version": event["api_version"],
        "created_at": event["created_at"],
        "data": json.loads(event["data"]),
    }
    return jsontext.encode(body)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed by the endpoint secret."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def next_attempt_after_failure(attempts: int, failed_at: datetime) -> datetime | None:
    """When the next attempt is due after attempt number `attempts` failed (None: no more)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return failed_at + RETRY_DELAYS[attempts - 1]


def _post(
    client: httpx.Client, url: str, headers: dict[str, str], body: bytes
) -> tuple[int | None, str]:
    """One POST; a transport failure is reported without the URL (it may carry a token)."""
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return None, "timed out after 5 s"
    except httpx.HTTPError as exc:
        return None, f"could not connect ({type(exc).__name__})"
    return response.status_code, response.text[:RESPONSE_BODY_LIMIT]


class WebhookDelivery:
    """Delivers the due events of one sandbox; one delivery run at a time."""

    def __init__(self, runtime: SandboxRuntime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()

    def deliver_due(self) -> int:
        """Attempt every event due now on the sandbox clock; returns how many were attempted."""
        with self._lock:
            store = self.runtime.store
            due = store.due_events(self.runtime.clock.now_iso())
            if not due:
                return 0
            with httpx.Client(timeout=DELIVERY_TIMEOUT, follow_redirects=False) as client:
                return self._deliver(client, store, due)

    def _deliver(self, client: httpx.Client, store: Store, due: list[Row]) -> int:
        attempted = 0
        for event in due:
            endpoint = store.get_webhook(event["webhook_endpoint_id"])
            if endpoint is None or endpoint["status"] != "active":
                with store.transaction() as db:
                    store.drop_pending_delivery(db, event["id"])
                continue
            self._attempt(client, store, event, endpoint)
            attempted += 1
        return attempted

    def _attempt(self, client: httpx.Client, store: Store, event: Row, endpoint: Row) -> None:
        body = payload(event)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Medblocks-Sandbox-Webhooks",
            # Real time, not the sandbox clock: receivers check it against their own clock.
            SIGNATURE_HEADER: signature(endpoint["secret"], int(time.time()), body),
        }
        status_code, response_body = _post(client, endpoint["url"], headers, body)
        attempts = int(event["attempts"]) + 1
        finished_at = self.runtime.clock.now()
        delivered = status_code is not None and 200 <= status_code < 300
        next_at = None if delivered else next_attempt_after_failure(attempts, finished_at)
        with store.transaction() as db:
            store.record_attempt(
                db,
                event["id"],
                attempts=attempts,
                status_code=status_code,
                response_body=response_body,
                delivered_at=iso(finished_at) if delivered else None,
                next_attempt_at=None if next_at is None else iso(next_at),
            )
            if not delivered and attempts == MAX_ATTEMPTS:
                store.update_webhook(
                    db, endpoint["id"], {"status": "disabled", "updated_at": iso(finished_at)}
                )
        log.info(
            "webhook event %s attempt %d to endpoint %s: %s",
            event["id"],
            attempts,
            endpoint["id"],
            status_code if status_code is not None else "no response",
        )


DueWork = Callable[[SandboxRuntime], None]


class WebhookWorker:
    """A daemon thread that runs the due work of one sandbox as soon as it falls due.

    `due_work` (given by whoever starts the worker) does the work; the worker only decides
    when: it sleeps until the earliest pending retry or scheduled refresh failure, at most 5 s
    (so a redelivery queued through the API goes out within seconds), and exits once the
    sandbox's database is closed. When the work fails it logs that failure once (with its
    traceback), backs off (5 s, doubling up to 5 min) and says when the work runs again.
    """

    def __init__(self, runtime: SandboxRuntime, due_work: DueWork) -> None:
        self.runtime = runtime
        self._due_work = due_work
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def notify(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="medblocks-sandbox-webhooks", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        failures = 0
        last_failure: tuple[str, str] | None = None
        while True:
            self._wake.clear()
            try:
                self._due_work(self.runtime)
                wait = self._seconds_until_next_due()
            except sqlite3.ProgrammingError:
                return  # the sandbox was stopped and its database closed
            except Exception as exc:
                failures += 1
                failure = (type(exc).__name__, str(exc))
                if failure != last_failure:
                    log.error("sandbox background work failed; backing off", exc_info=True)
                    last_failure = failure
                wait = min(IDLE_WAKE_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
            else:
                if failures:
                    log.warning("sandbox background work runs again after %d failures", failures)
                failures, last_failure = 0, None
            self._wake.wait(timeout=wait)

    def _seconds_until_next_due(self) -> float:
        store = self.runtime.store
        pending = [t for t in (store.next_event_attempt_at(), store.next_refresh_failure_at()) if t]
        if not pending:
            return IDLE_WAKE_SECONDS
        due = min(parse_iso(t) for t in pending)
        seconds = (due - self.runtime.clock.now()).total_seconds()
        return min(max(seconds, 0.05), IDLE_WAKE_SECONDS)


def start_worker(runtime: SandboxRuntime, due_work: DueWork) -> None:
    """Start this sandbox's one background worker, which runs `due_work(runtime)` when due."""
    runtime.companion(WebhookWorker, lambda rt: WebhookWorker(rt, due_work)).notify()


def notify(runtime: SandboxRuntime) -> None:
    """Wake this sandbox's background worker: something was queued or re-queued."""
    worker = runtime.find_companion(WebhookWorker)
    if worker is not None:
        worker.notify()


def deliver_due(runtime: SandboxRuntime) -> int:
    """Attempt every due delivery now, in the caller's thread (tests, the clock control)."""
    return runtime.companion(WebhookDelivery, WebhookDelivery).deliver_due()
