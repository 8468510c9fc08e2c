"""Acting where the problem is: Connection health's and Needs attention's row actions (a new
session link, a disconnect), the bulk "one link each" for selected failing rows, and the
disconnect of the Patients page.

- An **open link** for a patient at a source is a session the mirror holds as `open`, direct
  mode at that source, not expired. A row action offers it instead of creating a second one
  (`open_link`); the person may still ask for a new one on purpose.
- **Bulk links** (`plan_bulk`, `create_bulk`): one row per selected connection. A row whose
  patient already has an open link at that source is offered that link; the others get one
  session each through the Launch ledger, under an intent made of the batch id and the
  connection id, so pressing again (or a reload) never makes a second session for a row, and a
  failed row is never retried automatically (a new batch is a new decision). Creations are
  paced (`BULK_PAUSE_S` apart) so a long selection stays well within the API's rate.
- **Following them** (`follow`): each row's session status as the mirror holds it now (the
  open-session re-read updates it without a sync).
- The list for the team's messaging tool is `bulk_table`, exported through the one safe CSV
  writer (`tables.csv_text`), names masked unless revealed.
- **What a browser session remembers** (each page keeps one object in its session state, so the
  steps live here, not in the page): `Disconnect`, the two-step disconnect (asked → confirmed →
  the write once → the mirror re-reads the patient → "Disconnected." shown once), and
  `HealthActions`, Connection health's links made in this session, its disconnect and its
  last bulk batch.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import pandas as pd

from medblocks.client import Medblocks
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.roles import Actor
from medblocks.dashboard.session_link import create_session_link
from medblocks.dashboard.target import Target
from medblocks.mirror.pacing import describe_failure

BULK_PAUSE_S = 0.5
"""Seconds between two creations of one bulk run (two a second: far below any stated limit)."""


@dataclass(frozen=True)
class OpenLink:
    session_id: str
    url: str
    expires_at: datetime


def open_link(
    sessions: pd.DataFrame, patient_id: str, source_id: str, now: datetime
) -> OpenLink | None:
    """The newest open, unexpired direct-mode session for the patient at the source (the
    mirror's sessions frame), or None."""
    if sessions.empty:
        return None
    found = sessions[
        (sessions["patient_id"] == patient_id)
        & (sessions["source_id"] == source_id)
        & (sessions["mode"] == "direct")
        & (sessions["status"] == "open")
        & (sessions["expires_at"] > pd.Timestamp(now))
    ]
    if found.empty:
        return None
    newest = found.sort_values("created_at").iloc[-1]
    return OpenLink(str(newest["id"]), str(newest["url"]), newest["expires_at"].to_pydatetime())


@dataclass(frozen=True)
class BulkRow:
    """One selected connection and what the bulk run did for it."""

    connection_id: str
    patient_id: str
    source_id: str
    source: str
    name: str
    outcome: str = "to create"  # to create | created | offered (open already) | failed
    session_id: str = ""
    url: str = ""
    detail: str = ""


def bulk_intent(batch_id: str, connection_id: str) -> str:
    """The Launch ledger intent of one row of one bulk run (stable across reloads)."""
    return hashlib.sha256(f"bulk|{batch_id}|{connection_id}".encode()).hexdigest()[:32]


def plan_bulk(selected: pd.DataFrame, sessions: pd.DataFrame, now: datetime) -> list[BulkRow]:
    """One row per selected connection (columns `id`, `patient_id`, `source_id`, `source`,
    `name`); rows with an open link already are offered it."""
    rows = []
    for row in selected.itertuples():
        base = BulkRow(
            str(row.id), str(row.patient_id), str(row.source_id), str(row.source), str(row.name)
        )
        found = open_link(sessions, base.patient_id, base.source_id, now)
        if found is not None:
            base = replace(
                base, outcome="offered (open already)", session_id=found.session_id, url=found.url
            )
        rows.append(base)
    return rows


def create_bulk(
    rows: Sequence[BulkRow],
    *,
    client: Medblocks,
    ledger: Ledger,
    target: Target,
    batch_id: str,
    return_url: str,
    launched_by: Actor,
    pause: float = BULK_PAUSE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> list[BulkRow]:
    """Create the sessions of the rows still `to create`, one intent each, paced; a failure is
    recorded on its row (and its intent) and the run goes on. Rows done before are kept."""
    done = []
    created = 0
    for row in rows:
        if row.outcome != "to create":
            done.append(row)
            continue
        if created:
            sleep(pause)
        created += 1
        try:
            outcome = create_session_link(
                client,
                ledger,
                target,
                patient_id=row.patient_id,
                source_id=row.source_id,
                return_url=return_url,
                intent_id=bulk_intent(batch_id, row.connection_id),
                launched_by=launched_by,
            )
        except Exception as exc:  # recorded on the intent by the ledger: never retried
            done.append(replace(row, outcome="failed", detail=describe_failure(exc)))
            continue
        record = outcome.record
        if record.session_id:
            done.append(
                replace(
                    row,
                    outcome="created",
                    session_id=record.session_id,
                    url=record.session_url or "",
                )
            )
        else:  # this intent was tried before and did not end with a session: not again
            detail = record.error or "an earlier press did not finish: check Sessions first"
            done.append(replace(row, outcome="failed", detail=detail))
    return done


BULK_COLUMNS = ["name", "source", "outcome", "session_status", "url", "patient_id", "detail"]


def follow(rows: Sequence[BulkRow], sessions: pd.DataFrame) -> pd.DataFrame:
    """The bulk rows with each session's status as the mirror holds it now (`session_status`:
    open, complete, expired; empty where no session)."""
    status = dict(zip(sessions["id"], sessions["status"], strict=True)) if len(sessions) else {}
    return pd.DataFrame(
        [
            {
                "name": r.name,
                "source": r.source,
                "outcome": r.outcome,
                "session_status": str(status.get(r.session_id, "")) if r.session_id else "",
                "url": r.url,
                "patient_id": r.patient_id,
                "detail": r.detail,
            }
            for r in rows
        ],
        columns=BULK_COLUMNS,
    )


def completed_count(table: pd.DataFrame) -> tuple[int, int]:
    """(completed, with a link) of a `follow` table."""
    with_link = table[table["url"] != ""]
    return int((with_link["session_status"] == "complete").sum()), len(with_link)


DISCONNECTED = "Disconnected."


@dataclass
class Disconnect:
    """A disconnect in two steps: `ask` names the connection, `confirm` answers the question.
    Asking about another connection replaces the question; nothing is sent before `confirm`."""

    asking: str | None = None
    """The connection waiting for "Yes, disconnect"."""
    message: str | None = None
    """What to say once, on the next drawing of the page."""

    def ask(self, connection_id: str) -> None:
        self.asking = connection_id

    def awaits(self, connection_id: str | None) -> bool:
        """True while `connection_id`'s disconnect waits for its confirmation."""
        return connection_id is not None and self.asking == connection_id

    def confirm(
        self, disconnect: Callable[[], object], reread: Callable[[], None]
    ) -> BaseException | None:
        """Run `disconnect` once (never again on its own, whatever it did): the question is
        answered either way; on success `reread` brings the mirror up to date and the message
        waits to be shown. The failure, if any, is returned for the page to show."""
        self.asking = None
        try:
            disconnect()
        except Exception as exc:
            return exc
        reread()
        self.message = DISCONNECTED
        return None

    def take_message(self) -> str | None:
        """The message to show now (then gone)."""
        message, self.message = self.message, None
        return message


@dataclass
class HealthActions:
    """What Connection health remembers for one browser session."""

    disconnect: Disconnect = field(default_factory=Disconnect)
    links: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Connection id -> (session id, link) of the links made here."""
    bulk: list[BulkRow] = field(default_factory=list)
    """The last bulk batch and what it did for each row."""
    batch_id: str | None = None
    """The batch being created: kept until its run ends, so a run cut short by a reload or a
    second press goes on under the same intents (no second session for a row)."""

    def offered(self, connection_id: str, existing: OpenLink | None) -> OpenLink | None:
        """The open link to offer instead of making a new one: none once a link was made here
        for this row (that one is shown)."""
        return None if connection_id in self.links else existing

    def made(self, connection_id: str, session_id: str, url: str | None) -> None:
        self.links[connection_id] = (session_id, url or "")

    def made_for(self, connection_id: str) -> tuple[str, str] | None:
        """(session id, link) made here for the row, or None."""
        return self.links.get(connection_id)

    def batch(self) -> str:
        """The id of the batch to create now (a new one unless a run was cut short)."""
        if self.batch_id is None:
            self.batch_id = uuid.uuid4().hex
        return self.batch_id

    def batch_done(self, rows: list[BulkRow]) -> None:
        """The run ended: its rows are kept to follow; the next press is a new decision."""
        self.bulk = rows
        self.batch_id = None
