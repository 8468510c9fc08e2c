"""The full reconcile: list every patient, read each, upsert, delete what is gone.

One page of the patient list at a time (100 patients): the next page is listed while this
page's patients are read, each patient read once (`GET /patients/{id}`), its sessions listed,
and, where a connection is active and the mirror does not yet know that its records arrived,
its records read until every active source has shown up. The page's results and the
checkpoint (the list cursor to continue from, the counts so far) are written in one
transaction, so a sync killed at any point continues from the last written page when started
again, and never writes a page twice. At the end, the patients this run did not see are
deleted. All reads go through one `Pacer` (rate limit, shared 429 pause).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from medblocks.alerts.hook import evaluate_after_change
from medblocks.client import AsyncMedblocks, MedblocksError, NotFoundError, PaginationError
from medblocks.client import models as m
from medblocks.client.pagination import CursorTrail
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror, now_iso
from medblocks.mirror.pacing import Pacer, describe_failure
from medblocks.mirror.store import Changes, MirrorWriter, PatientRead, text

CHECKPOINT = "sync"
LIST_PATIENTS = "api.listPatients"
MAX_RELISTS = 3  # an expired cursor starts the list again; more often than this, it is stopped
LAST_SYNC = "last_sync"
PAGE_SIZE = 100
RECORDS_PAGE = 100
DEFAULT_CONCURRENCY = 16
Progress = Callable[[int, int | None], None]
T = TypeVar("T")


@dataclass
class SyncReport:
    """What a sync did; `requests` counts every request sent, retries included."""

    run_id: str
    resumed: bool
    patients: int = 0
    requests: int = 0
    rate_limited: int = 0
    failed_requests: int = 0
    changes: Changes = field(default_factory=Changes)
    failures: dict[str, str] = field(default_factory=dict)
    list_stopped: str | None = None
    duration_s: float = 0.0
    finished_at: str | None = None

    def summary(self) -> str:
        c = self.changes
        stopped = (
            f"; the patient list was stopped, so nothing was deleted: {self.list_stopped}"
            if self.list_stopped
            else ""
        )
        return (
            f"{'resumed' if self.resumed else 'full'} sync: {self.patients} patients, "
            f"{self.requests} requests ({self.rate_limited} answered 429, "
            f"{self.failed_requests} failed), changes: {c.patients} patients, "
            f"{c.connections} connections, {c.sessions} sessions, {c.status_changes} status "
            f"changes, {c.deleted} deleted; {self.duration_s:.1f} s{stopped}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "resumed": self.resumed,
            "patients": self.patients,
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "failed_requests": self.failed_requests,
            "changes": self.changes.as_dict(),
            "failures": len(self.failures),
            "list_stopped": self.list_stopped,
            "duration_s": round(self.duration_s, 3),
            "finished_at": self.finished_at,
        }


class Reconcile:
    """One run of the full reconcile over `clients` (reads are spread over them)."""

    def __init__(
        self,
        mirror: Mirror,
        clients: Sequence[AsyncMedblocks],
        *,
        pacer: Pacer | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: Progress | None = None,
    ) -> None:
        if not clients:
            raise ValueError("the sync needs at least one client")
        self.mirror = mirror
        self.writer = MirrorWriter(mirror)
        self.clients = list(clients)
        self.pacer = pacer or Pacer()
        self.concurrency = concurrency
        self.on_progress = on_progress
        self._turn = 0

    def _client(self) -> AsyncMedblocks:
        self._turn += 1
        return self.clients[self._turn % len(self.clients)]

    async def _read(self, send: Callable[[AsyncMedblocks], Awaitable[T]]) -> T:
        client = self._client()
        return await self.pacer.call(lambda: send(client))

    async def run(self) -> SyncReport:
        started = time.monotonic()
        state = self.mirror.checkpoint(CHECKPOINT)
        resumed = state is not None
        if state is None:
            state = {
                "run_id": uuid.uuid4().hex[:16],
                "started_at": now_iso(),
                "cursor": None,
                "patients": 0,
                "requests": 0,
                "rate_limited": 0,
                "failed_requests": 0,
                "changes": Changes().as_dict(),
            }
            with self.mirror.write() as db:
                self.mirror.save_checkpoint(db, CHECKPOINT, state)
        report = SyncReport(run_id=state["run_id"], resumed=resumed)
        total_hint = self._patient_count() or None
        done = int(state["patients"])
        trail = CursorTrail(LIST_PATIENTS)
        relisted = 0
        page_task = asyncio.ensure_future(self._list_page(state["cursor"]))
        while True:
            page = await page_task
            if page is None:  # the cursor was refused (expired): list again, skip those seen
                relisted += 1
                if relisted > MAX_RELISTS:  # a server refusing the cursors it gives: stop
                    report.list_stopped = (
                        f"the patient list refused its own cursor {relisted} times "
                        "(listed again from the start each time)"
                    )
                    break
                trail = CursorTrail(LIST_PATIENTS)
                page_task = asyncio.ensure_future(self._list_page(None))
                continue
            try:
                next_cursor = trail.next(page)
            except PaginationError as exc:  # a list that would not end: stop it, say so
                report.list_stopped = describe_failure(exc)
                next_cursor = None
            if next_cursor is not None:
                page_task = asyncio.ensure_future(self._list_page(next_cursor))
            await self._reconcile_page(page.data, next_cursor, state, report)
            done = int(state["patients"])
            if self.on_progress is not None:
                self.on_progress(done, max(total_hint or 0, done) or None)
            if next_cursor is None:
                break
        if report.list_stopped is None:  # only a complete listing shows who is gone
            deleted = self.writer.delete_unseen(state["run_id"], state["started_at"])
            state["changes"]["deleted"] += deleted
        self._add_counts(state, Changes())
        report.patients = done
        report.requests = int(state["requests"])
        report.rate_limited = int(state["rate_limited"])
        report.failed_requests = int(state["failed_requests"])
        report.changes = Changes(**state["changes"])
        report.duration_s = time.monotonic() - started
        report.finished_at = now_iso()
        with self.mirror.write() as db:
            self.mirror.clear_checkpoint(db, CHECKPOINT)
            self.mirror.save_checkpoint(db, LAST_SYNC, report.as_dict())
        evaluate_after_change(self.mirror, by="mirror sync")
        return report

    def _add_counts(self, state: dict[str, Any], changes: Changes) -> None:
        """Fold the pacer's counts since the last page and `changes` into the checkpoint."""
        stats = self.pacer.stats
        state["requests"] += stats.requests
        state["rate_limited"] += stats.rate_limited
        state["failed_requests"] += stats.failed
        stats.requests = stats.rate_limited = stats.failed = stats.retried = 0
        total = Changes(**state["changes"])
        total.add(changes)
        state["changes"] = total.as_dict()

    def _patient_count(self) -> int:
        with self.mirror.read() as db:
            return int(
                db.execute(sa.select(sa.func.count()).select_from(schema.patients)).scalar_one()
            )

    async def _list_page(self, cursor: str | None) -> m.Page[m.Patient] | None:
        try:
            return await self._read(
                lambda c: c.patients.list_page(
                    limit=PAGE_SIZE, starting_after=cursor, max_retries=0
                )
            )
        except NotFoundError as exc:
            if cursor is not None and exc.param == "starting_after":
                return None
            raise

    async def _reconcile_page(
        self,
        patients: Sequence[m.Patient],
        next_cursor: str | None,
        state: dict[str, Any],
        report: SyncReport,
    ) -> None:
        """Read and write one page of patients; the checkpoint moves in the same transaction."""
        run_id = state["run_id"]
        ids = [p.id for p in patients]
        p, c = schema.patients, schema.connections
        with self.mirror.read() as db:
            done_ids = {
                row.id
                for row in db.execute(
                    sa.select(p.c.id).where(p.c.id.in_(ids), p.c.sync_run == run_id)
                )
            }
            known = {
                row.id: (row.updated_at, row.records_arrived)
                for row in db.execute(
                    sa.select(c.c.id, c.c.updated_at, c.c.records_arrived).where(
                        c.c.patient_id.in_(ids)
                    )
                )
            }
        todo = [pid for pid in ids if pid not in done_ids]
        gate = asyncio.Semaphore(self.concurrency)

        async def one(pid: str) -> PatientRead | MedblocksError:
            async with gate:
                try:
                    return await self._read_patient(pid, known)
                except MedblocksError as exc:
                    return exc

        outcomes = await asyncio.gather(*(one(pid) for pid in todo))
        reads, missing, failed = [], [], []
        for pid, outcome in zip(todo, outcomes, strict=True):
            if isinstance(outcome, PatientRead):
                reads.append(outcome)
            elif isinstance(outcome, NotFoundError):
                missing.append(pid)  # deleted between the list and the read
            else:
                failed.append(pid)
                report.failures[pid] = describe_failure(outcome)
        with self.mirror.write() as db:
            changes = self.writer.apply_patients(reads, observed_by="sync", sync_run=run_id, db=db)
            changes.deleted += self.writer.delete_patients(missing, db)
            if failed:  # keep what the mirror had for them: not seen is not gone
                db.execute(sa.update(p).where(p.c.id.in_(failed)).values(sync_run=run_id))
            state["patients"] += len(patients)
            state["cursor"] = next_cursor
            self._add_counts(state, changes)
            self.mirror.save_checkpoint(db, CHECKPOINT, state)

    async def _read_patient(
        self, patient_id: str, known: dict[str, tuple[str, bool | None]]
    ) -> PatientRead:
        detail = await self._read(lambda c: c.patients.retrieve(patient_id, max_retries=0))
        sessions: list[m.PatientSession] = []
        trail = CursorTrail("api.listPatientSessionsForPatient")
        cursor: str | None = None
        while True:
            page = await self._read(self._sessions_page(patient_id, cursor))
            sessions.extend(page.data)
            cursor = trail.next(page)
            if cursor is None:
                break
        active = {
            conn.id: conn.connection_id
            for conn in detail.connections
            if text(conn.status) == "active" and known.get(conn.id) != (conn.updated_at, True)
        }
        arrived: dict[str, bool] = {}
        if active:
            seen = await self._record_sources(patient_id, set(active.values()))
            arrived = {cid: source in seen for cid, source in active.items()}
        return PatientRead(detail=detail, sessions=sessions, records_arrived=arrived)

    @staticmethod
    def _sessions_page(
        patient_id: str, cursor: str | None
    ) -> Callable[[AsyncMedblocks], Awaitable[m.Page[m.PatientSession]]]:
        def send(c: AsyncMedblocks) -> Awaitable[m.Page[m.PatientSession]]:
            return c.patients.sessions_page(
                patient_id, limit=100, starting_after=cursor, max_retries=0
            )

        return send

    @staticmethod
    def _records_page(
        patient_id: str, cursor: str | None
    ) -> Callable[[AsyncMedblocks], Awaitable[m.PatientRecords]]:
        def send(c: AsyncMedblocks) -> Awaitable[m.PatientRecords]:
            return c.patients.records(
                patient_id, count=RECORDS_PAGE, starting_after=cursor, max_retries=0
            )

        return send

    async def _record_sources(self, patient_id: str, wanted: set[str]) -> set[str]:
        """The sources seen in a patient's records, read until all `wanted` have shown up."""
        seen: set[str] = set()
        trail = CursorTrail("api.getPatientRecords")
        cursor: str | None = None
        while True:
            page = await self._read(self._records_page(patient_id, cursor))
            seen.update(item.source for item in page.data if item.source)
            if seen >= wanted:
                return seen
            cursor = trail.next(page)
            if cursor is None:
                return seen


async def sync_mirror(
    mirror: Mirror,
    clients: Sequence[AsyncMedblocks],
    *,
    rate: float | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Progress | None = None,
) -> SyncReport:
    """Run (or continue) the full reconcile; returns what it did."""
    pacer = Pacer(rate)
    return await Reconcile(
        mirror, clients, pacer=pacer, concurrency=concurrency, on_progress=on_progress
    ).run()
