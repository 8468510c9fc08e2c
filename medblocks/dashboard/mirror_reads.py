"""The org-wide reads the pages show, from the org mirror (`medblocks.mirror`): patients,
connections, sessions, which sources delivered records, trends, and how fresh it all is.
Viewing a page sends no API request for these; the mirror is filled by a sync ("Sync now",
or by itself on a first start with the embedded sandbox) and kept fresh by webhook events.

With the embedded sandbox the dashboard wires the events itself: it serves the mirror's
receiver on a loopback port of its own process and registers a webhook endpoint for it on the
sandbox (with a real Medblocks, run `python -m medblocks mirror listen` behind HTTPS instead;
README "Team deployment"). For every target it re-reads the mirror's open sessions every 10 s
(`medblocks.mirror.watch`: outcomes no event reports). The dashboard's own writes are re-read
into the mirror at once (`refresh_session`, `refresh_patient`), as actions with who acted;
each re-read is written in one transaction.

Which organisation: the dashboard follows the CLI's rule (`identity.claim`, before the mirror
is first read and before every "Sync now"): a refused key or another organisation changes
nothing and is shown as the failure it is. The embedded sandbox is a new organisation at each
start (in memory, a key of its own), so its mirror is a SQLite file of its own for the life of
the process (`embedded_database_url`), never `MEDBLOCKS_DATABASE_URL`: a team's mirror is
never touched by it, and nobody has to start over after a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import threading
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from medblocks.alerts.hook import evaluate_after_change
from medblocks.client import AsyncMedblocks
from medblocks.dashboard.frames import OrgFrames, health_frame
from medblocks.dashboard.tables import age_text
from medblocks.dashboard.target import Target
from medblocks.mirror import Mirror, open_mirror, views, watch
from medblocks.mirror.events import EventApplier
from medblocks.mirror.history import (
    failures_per_day,
    reconnect_summary,
    reconnects,
    status_changes,
)
from medblocks.mirror.identity import claim, read_one_patient
from medblocks.mirror.receiver import create_receiver
from medblocks.mirror.server import RunningReceiver, serve_in_thread
from medblocks.mirror.settings import sqlite_url
from medblocks.mirror.store import MirrorWriter
from medblocks.mirror.sync import SyncReport, sync_mirror

SYNC_CLIENTS = 4
SYNC_CONCURRENCY = 16
Progress = Callable[[int, int | None], None]
_sync_lock = threading.Lock()
_embedded_lock = threading.Lock()
_embedded_folder: tempfile.TemporaryDirectory[str] | None = None


class SyncAlreadyRunning(RuntimeError):
    """Another sync of this dashboard process is under way."""


def embedded_database_url(configured: str) -> str:
    """The embedded sandbox's own mirror: a SQLite file in a folder that lives as long as this
    process (and so as long as the sandbox it mirrors), one per configured database."""
    global _embedded_folder
    with _embedded_lock:
        if _embedded_folder is None:
            _embedded_folder = tempfile.TemporaryDirectory(prefix="medblocks-embedded-mirror-")
        name = hashlib.sha256(configured.encode()).hexdigest()[:12]
        return sqlite_url(f"{_embedded_folder.name}/{name}.sqlite3")


def database_for(target: Target, configured: str) -> str:
    """Where `target`'s mirror lives: the configured database, or for the embedded sandbox
    its own (`embedded_database_url`)."""
    return embedded_database_url(configured) if target.kind == "embedded" else configured


def claim_for(mirror: Mirror, target: Target) -> None:
    """`identity.claim` for the dashboard's target: the same rule as the CLI's."""
    claim(mirror, target.base_url, target.api_key, lambda: read_one_patient(target.client()))


def mirror_for(target: Target, database_url: str) -> Mirror:
    """The mirror at `database_url`, claimed for this target's organisation (a refused key
    or another organisation raises, nothing changed)."""
    mirror = open_mirror(database_url)
    claim_for(mirror, target)
    return mirror


def sync_now(mirror: Mirror, target: Target, on_progress: Progress | None = None) -> SyncReport:
    """Run the full reconcile now (continuing one that was stopped); one at a time per process.
    The mirror is claimed for the target first (a CLI may have started it over meanwhile)."""
    if not _sync_lock.acquire(blocking=False):
        raise SyncAlreadyRunning("a sync is already running; its result will show when it ends")
    try:
        claim_for(mirror, target)

        async def run() -> SyncReport:
            async with AsyncExitStack() as stack:
                clients: list[AsyncMedblocks] = [
                    await stack.enter_async_context(target.async_client())
                    for _ in range(SYNC_CLIENTS)
                ]
                return await sync_mirror(
                    mirror, clients, concurrency=SYNC_CONCURRENCY, on_progress=on_progress
                )

        return asyncio.run(run())
    finally:
        _sync_lock.release()


@dataclass
class EventWiring:
    """The receiver this process serves and the sandbox endpoint that delivers to it."""

    receiver: RunningReceiver
    endpoint_id: str

    def stop(self) -> None:
        self.receiver.stop()


def wire_sandbox_events(mirror: Mirror, target: Target) -> EventWiring:
    """Serve the mirror's receiver on loopback and register it as a webhook endpoint (every
    event type) on the sandbox `target`; the signing secret comes back with the registration."""
    app = create_receiver(mirror, None, target.async_client)
    receiver = serve_in_thread(app)
    with target.client() as client:
        endpoint = client.webhooks.create(
            receiver.webhook_url, ["*"], description="workbench dashboard: org mirror receiver"
        )
    app.state.secret = endpoint.secret
    return EventWiring(receiver=receiver, endpoint_id=endpoint.id)


def org_frames(mirror: Mirror) -> OrgFrames:
    """Patients and connections, as the pages' frames take them."""
    return OrgFrames(
        patients=views.patients_frame(mirror), connections=views.connections_frame(mirror)
    )


def health(mirror: Mirror) -> pd.DataFrame:
    """The Connection health frame, from the mirror."""
    return health_frame(views.connections_frame(mirror))


def sessions(mirror: Mirror) -> pd.DataFrame:
    return views.sessions_frame(mirror)


@dataclass(frozen=True)
class Trends:
    by_reason: pd.DataFrame
    by_source: pd.DataFrame
    reconnects: pd.DataFrame
    reconnect_summary: dict[str, float | int | None]


def trends(mirror: Mirror, now: datetime | None = None) -> Trends:
    """Failures per day by failure code and by source over 30 days; time to reconnect."""
    back = reconnects(mirror, now=now)
    return Trends(
        by_reason=failures_per_day(mirror, "reason", now=now),
        by_source=failures_per_day(mirror, "source_id", now=now),
        reconnects=back,
        reconnect_summary=reconnect_summary(back),
    )


def trend_gap_text(needs_attention: int) -> str:
    """What an empty failures-per-day chart means beside the "Needs attention" count."""
    text = "No failures happened in the last 30 days."
    if needs_attention:
        text += (
            f" The {needs_attention} connections that need attention failed earlier (the API "
            "dates them before this window)."
        )
    return text


def patient_history(mirror: Mirror, patient_id: str) -> pd.DataFrame:
    """One patient's status history (every connection), oldest first."""
    return status_changes(mirror, patient_id=patient_id)


def freshness(mirror: Mirror) -> views.Freshness:
    return views.freshness(mirror)


def freshness_text(fresh: views.Freshness, now: datetime | None = None) -> str:
    """ "as of 12:04:10 UTC, 40 s ago" (the age as `tables.age_text` words it), or that the
    mirror is empty."""
    as_of = fresh.as_of
    if as_of is None:
        return "the mirror is empty: no sync has run yet"
    now = now or datetime.now(UTC)
    ago = age_text(max(0.0, (now - as_of).total_seconds()))
    text = f"as of {as_of.astimezone(UTC):%H:%M:%S} UTC, {ago} ago"
    if fresh.sync_in_progress:
        text += " · a sync is under way (or was stopped: Sync now continues it)"
    return text


def refresh_patient(mirror: Mirror, target: Target, patient_id: str, actor: str) -> None:
    """After the dashboard's own write about a patient (a disconnect, which sends no event):
    re-read it into the mirror now, its changes noted as an action by `actor`; then the alert
    rules are evaluated (nothing without a channel)."""
    _reread_after_action(
        mirror,
        target,
        lambda applier: applier.refresh_patient(patient_id, observed_by="action", actor=actor),
    )


def refresh_session(mirror: Mirror, target: Target, session_id: str, actor: str) -> None:
    """After the dashboard created or changed a session (a launch, a link from a row, a forced
    outcome): re-read the session and its patient into the mirror now, as an action by
    `actor`; then the alert rules are evaluated (nothing without a channel)."""
    _reread_after_action(
        mirror,
        target,
        lambda applier: applier.refresh_session(session_id, observed_by="action", actor=actor),
    )


def _reread_after_action(
    mirror: Mirror, target: Target, reread: Callable[[EventApplier], Awaitable[object]]
) -> None:
    """The one step after each of the dashboard's own writes: `reread` through a client of
    `target` into `mirror`, then the alert rules, once."""

    async def run() -> None:
        async with target.async_client() as client:
            await reread(EventApplier(MirrorWriter(mirror), client))

    asyncio.run(run())
    evaluate_after_change(mirror, by="dashboard action")


def reread_open_sessions(mirror: Mirror, target: Target) -> int:
    """One pass of the open sessions' re-read now (after the sandbox clock moved, say)."""

    async def run() -> int:
        async with target.async_client() as client:
            return await watch.reread_open_sessions(mirror, client)

    return asyncio.run(run())


def watch_open_sessions(mirror: Mirror, target: Target) -> watch.SessionWatcher:
    """Start re-reading the mirror's open sessions every `watch.INTERVAL` seconds on a thread
    of this process (an outcome no event reports, a direct-mode denial, shows within it)."""
    return watch.SessionWatcher(mirror, target.async_client).start()
