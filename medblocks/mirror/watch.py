"""Open sessions re-read on a schedule, for what no webhook event reports.

A direct-mode denial leaves its session open and sends no event; a link that expires sends none
either. `reread_open_sessions` re-reads every session the mirror holds as `open` (the least
recently read first, at most `limit` a pass) and, where the session changed (status or
attempts), re-reads its patient too, so a failed attempt's connection reaches the mirror; those
status changes are noted as observed by `session`; a pass that changed the mirror evaluates the
alert rules once (`medblocks.alerts.hook.evaluate_after_change`). A session stops being
re-read once the API says it is complete or expired.

`SessionWatcher` runs one pass every `interval` seconds on a thread of its own (the dashboard
runs one beside its receiver). A failed read is logged with its request id and tried again on
the next pass; nothing is written for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

from medblocks.alerts.hook import evaluate_after_change
from medblocks.client import AsyncMedblocks
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror
from medblocks.mirror.events import EventApplier
from medblocks.mirror.pacing import describe_failure
from medblocks.mirror.store import MirrorWriter

log = logging.getLogger("medblocks.mirror")

INTERVAL = 10.0
"""Seconds between passes: an outcome no event reports shows within about this long."""
LIMIT = 200


def open_session_ids(mirror: Mirror, limit: int = LIMIT) -> list[str]:
    """The sessions the mirror holds as open, the least recently read first."""
    s = schema.sessions
    query = (
        sa.select(s.c.id).where(s.c.status == "open").order_by(s.c.mirrored_at, s.c.id).limit(limit)
    )
    with mirror.read() as db:
        return [row.id for row in db.execute(query)]


async def reread_open_sessions(
    mirror: Mirror, client: AsyncMedblocks, *, limit: int = LIMIT
) -> int:
    """One pass: re-read the open sessions (and the patients of those that changed); returns
    how many sessions had changed."""
    applier = EventApplier(MirrorWriter(mirror), client)
    changed = written = 0
    for session_id in await asyncio.to_thread(open_session_ids, mirror, limit):
        try:
            _, changes = await applier.refresh_session(
                session_id, observed_by="session", patient_if_changed=True
            )
        except Exception as exc:  # logged; the next pass tries again
            log.warning("re-reading session %s failed: %s", session_id, describe_failure(exc))
            continue
        changed += int(changes.sessions > 0)
        written += changes.total
    if written:  # the mirror changed: the alert rules are evaluated once for the pass
        await asyncio.to_thread(evaluate_after_change, mirror, by="open-session re-read")
    return changed


class SessionWatcher:
    """`reread_open_sessions` every `interval` seconds on a daemon thread, until `stop()`."""

    def __init__(
        self,
        mirror: Mirror,
        client_factory: Callable[[], AsyncMedblocks],
        *,
        interval: float = INTERVAL,
    ) -> None:
        self.mirror = mirror
        self.client_factory = client_factory
        self.interval = interval
        self.passes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="medblocks-mirror-session-watcher", daemon=True
        )

    def start(self) -> SessionWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    async def _pass(self) -> None:
        async with self.client_factory() as client:
            await reread_open_sessions(self.mirror, client)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                asyncio.run(self._pass())
            except Exception as exc:  # the database away, say: logged, tried again next pass
                log.warning("re-reading open sessions failed: %s", describe_failure(exc))
            self.passes += 1
