"""Which organisation a mirror holds, and the one rule every writer follows before writing.

The API names no organisation, so the mirror knows one by the server it reads and the key it
reads with: the server's URL in one spelling (scheme and host in lower case, every loopback
alias — `localhost`, `127.0.0.1`, `::1` — as `localhost`, no default port, no trailing slash)
and a fingerprint of the key (a SHA-256 prefix; never the key). `claim()` is the rule, used by
`python -m medblocks mirror …` and by the dashboard alike:

1. the key is tried first with a real read (one page of one patient): a refused key, an API
   that does not answer, raises the client's error and nothing has changed;
2. an empty mirror is bound to the organisation; a mirror bound to it goes on;
3. a mirror holding another organisation is refused with `OtherOrganisation`, which names both
   (server and key fingerprint) and what to do; nothing changes.

Starting over is explicit: `start_over()` (`python -m medblocks mirror start-over`) moves every
row of the organisation's tables (its alerts' state, sends and silences included) into the
archive (`archives`, `archived_rows`: one JSON row each, still readable with SQL or
`archived()`) and binds the mirror to the configured target.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from medblocks.alerts import tables as alert_tables
from medblocks.client import Medblocks
from medblocks.loopback import is_loopback_host
from medblocks.mirror import schema
from medblocks.mirror.db import Mirror, now_iso

TARGET = "target"
ORG_TABLES = (
    schema.status_changes,
    schema.events,
    schema.sessions,
    schema.connections,
    schema.patients,
    schema.checkpoints,
    # an old organisation's alerts must never resolve or repeat for the new one: their
    # episodes, sends and silences are archived with the rest
    alert_tables.alert_state,
    alert_tables.alert_sends,
    alert_tables.alert_silences,
)
DEFAULT_PORTS = {"http": 80, "https": 443}
ARCHIVE_BATCH = 1000
START_OVER = "python -m medblocks mirror start-over"


def canonical_server(base_url: str) -> str:
    """`base_url` in one spelling: the same server however it was written."""
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if is_loopback_host(host):
        host = "localhost"
    port = parts.port
    netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.strip().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Organisation:
    """An organisation as the mirror knows it: the server and the key's fingerprint."""

    server: str
    key: str  # the fingerprint, never the key

    @classmethod
    def of(cls, base_url: str, api_key: str) -> Organisation:
        return cls(canonical_server(base_url), key_fingerprint(api_key))

    @classmethod
    def held_by(cls, mirror: Mirror, db: Connection | None = None) -> Organisation | None:
        """The organisation the mirror is bound to (None: not bound)."""
        value = mirror.checkpoint(TARGET, db)
        if value is None or "server" not in value:
            return None
        return cls(str(value["server"]), str(value["key"]))

    def __str__(self) -> str:
        return f"key #{self.key} at {self.server}"

    def bind(self, mirror: Mirror, db: Connection) -> None:
        mirror.save_checkpoint(db, TARGET, {"server": self.server, "key": self.key})


class OtherOrganisation(RuntimeError):
    """The mirror holds another organisation than the target's: nothing was changed."""

    def __init__(self, held: Organisation | str, target: Organisation) -> None:
        super().__init__(
            f"this mirror holds the organisation of {held}, not the configured target "
            f"({target}); nothing was changed. Point MEDBLOCKS_DATABASE_URL at the target's "
            f"own database, or, to archive this history and mirror the target here, run "
            f"`{START_OVER}`"
        )
        self.held = held
        self.target = target


def read_one_patient(client: Medblocks) -> None:
    """A real read with the client's key (one page of one patient), then the client closed:
    what `claim()` and `start_over()` try a key with."""
    with client:
        client.patients.list_page(limit=1)


def _legacy_fingerprint(value: dict[str, Any]) -> str | None:
    """A binding written before `Organisation` (a hash of the URL as spelt and the key)."""
    found = value.get("fingerprint")
    return None if found is None or "server" in value else str(found)


def _holds_data(db: Connection) -> bool:
    return any(
        db.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None
        for table in (
            schema.patients,
            schema.status_changes,
            schema.events,
            alert_tables.alert_state,
            alert_tables.alert_sends,
        )
    )


def claim(mirror: Mirror, base_url: str, api_key: str, try_key: Callable[[], object]) -> None:
    """Make sure the mirror holds the organisation of (`base_url`, `api_key`) before anything
    writes to it: `try_key()` reads with the key first (its error propagates, nothing changed);
    then an unbound, empty mirror is bound, and a mirror of another organisation raises
    `OtherOrganisation` (nothing changed)."""
    try_key()
    target = Organisation.of(base_url, api_key)
    with mirror.write() as db:
        value = mirror.checkpoint(TARGET, db)
        if value is None:
            if _holds_data(db):
                raise OtherOrganisation("an organisation it does not name (no binding)", target)
            target.bind(mirror, db)
            return
        legacy = _legacy_fingerprint(value)
        if legacy is not None:
            old = hashlib.sha256(f"{base_url}|{api_key}".encode()).hexdigest()[:16]
            if legacy != old:
                raise OtherOrganisation("an organisation named before this version", target)
            target.bind(mirror, db)  # the same one: written the new way
            return
        held = Organisation(str(value["server"]), str(value["key"]))
        if held != target:
            raise OtherOrganisation(held, target)


@dataclass(frozen=True)
class Archived:
    archive_id: int
    organisation: str
    rows: int


def start_over(
    mirror: Mirror, base_url: str, api_key: str, try_key: Callable[[], object]
) -> Archived | None:
    """Archive everything the mirror holds of its organisation (rows kept, readable) and bind
    it to the target; the key is tried first (its error: nothing changed). None when the mirror
    held nothing to archive."""
    try_key()
    target = Organisation.of(base_url, api_key)
    with mirror.write() as db:
        held = Organisation.held_by(mirror, db)
        described = str(held) if held is not None else "an organisation it did not name"
        archived: Archived | None = None
        if _holds_data(db):
            archive_id = int(
                db.execute(
                    sa.insert(schema.archives)
                    .values(organisation=described, archived_at=now_iso(), rows=0)
                    .returning(schema.archives.c.id)
                ).scalar_one()
            )
            rows = sum(_archive_table(db, table, archive_id) for table in ORG_TABLES)
            db.execute(
                sa.update(schema.archives)
                .where(schema.archives.c.id == archive_id)
                .values(rows=rows)
            )
            archived = Archived(archive_id, described, rows)
        for table in ORG_TABLES:
            db.execute(sa.delete(table))
        target.bind(mirror, db)
        mirror.touch(db)
    return archived


def _archive_table(db: Connection, table: sa.Table, archive_id: int) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    for row in db.execute(sa.select(table)).mappings():
        batch.append(
            {
                "archive_id": archive_id,
                "table_name": table.name,
                "data": json.dumps(dict(row), sort_keys=True, default=str),
            }
        )
        if len(batch) == ARCHIVE_BATCH:
            db.execute(sa.insert(schema.archived_rows), batch)
            count += len(batch)
            batch = []
    if batch:
        db.execute(sa.insert(schema.archived_rows), batch)
        count += len(batch)
    return count


def archived(mirror: Mirror, archive_id: int, table: str) -> list[dict[str, Any]]:
    """The rows of `table` kept in archive `archive_id`, as they were."""
    a = schema.archived_rows
    with mirror.read() as db:
        found = db.execute(
            sa.select(a.c.data)
            .where(a.c.archive_id == archive_id, a.c.table_name == table)
            .order_by(a.c.id)
        ).scalars()
        return [dict(json.loads(data)) for data in found]
