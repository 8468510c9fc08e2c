"""The audit log's one writer and its reader (table `audit_log`, migration 0005).

`record` is the only code that touches the table besides reads: it inserts one row, in its own
transaction, and nothing in the product updates or deletes a row (on PostgreSQL a trigger
refuses it for every role; start-over's archive leaves the table alone). Rows name patients by
id and say what was shown (the view and its filters); never a name or an e-mail of a patient.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from medblocks.mirror import schema
from medblocks.mirror.db import Mirror, now_iso

# What `audit export` writes (the CLI offers these without loading the dashboard layer).
EXPORT_FORMATS = ("csv", "jsonl")

ACTIONS = (
    "sign-in",
    "reveal",
    "export",
    "launch",
    "session-link",
    "disconnect",
    "redeliver",
    "sandbox-lever",
    "contract-run",
    "alert-silence",
)
OUTCOMES = ("done", "failed", "refused")
COLUMNS = tuple(c.name for c in schema.audit_log.columns)


@dataclass(frozen=True)
class AuditEntry:
    """One thing a person did. `target` is what it was done to (a connection, an event, a
    session, a file name); `view` and `detail` say which page and which filters, or the lever
    and its value; `rows` counts an export's rows."""

    actor: str
    role: str
    action: str
    outcome: str = "done"
    target: str | None = None
    patient_id: str | None = None
    view: str | None = None
    detail: str | None = None
    rows: int | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"not an audited action: {self.action!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"not an audit outcome: {self.outcome!r}")


def record(mirror: Mirror, entry: AuditEntry) -> None:
    """Append `entry`, stamped now, in a transaction of its own (kept whatever the action's
    own transaction does)."""
    with mirror.write() as db:
        db.execute(sa.insert(schema.audit_log).values(at=now_iso(), **asdict(entry)))


@dataclass(frozen=True)
class AuditFilter:
    person: str | None = None
    action: str | None = None
    patient_id: str | None = None
    since: str | None = None  # an ISO 8601 UTC time; rows at or after it


def _where(query: sa.Select[Any], f: AuditFilter) -> sa.Select[Any]:
    t = schema.audit_log
    if f.person:
        query = query.where(t.c.actor == f.person)
    if f.action:
        query = query.where(t.c.action == f.action)
    if f.patient_id:
        query = query.where(t.c.patient_id == f.patient_id)
    if f.since:
        query = query.where(t.c.at >= f.since)
    return query


def entries(
    mirror: Mirror, f: AuditFilter, *, newest_first: bool = True
) -> Iterator[dict[str, Any]]:
    """The rows matching `f` (all columns), newest first for a page, oldest first for an
    export; read in batches so a long log is never held at once."""
    t = schema.audit_log
    order = t.c.id.desc() if newest_first else t.c.id.asc()
    with mirror.read() as db:
        result = db.execution_options(yield_per=500).execute(
            _where(sa.select(t), f).order_by(order)
        )
        for row in result.mappings():
            yield dict(row)


def people(mirror: Mirror) -> list[str]:
    """Everyone the log names, for the page's filter."""
    with mirror.read() as db:
        return list(
            db.execute(sa.select(schema.audit_log.c.actor).distinct().order_by("actor")).scalars()
        )
