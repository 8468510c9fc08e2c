"""Opening the mirror's database: the engines, the schema migrations, and shared write helpers.

`open_mirror(url)` creates the engine, brings the schema to the newest Alembic revision (the
migrations ship inside the package, so no `alembic.ini` is needed) and returns a `Mirror`.

SQLite runs in WAL mode (readers never wait for the writer) with `synchronous=NORMAL` and a
10 s busy timeout; its writes begin with `BEGIN IMMEDIATE`, so two writers queue for the lock
instead of one failing when it upgrades a read to a write. PostgreSQL is reached through
psycopg 3 (`postgresql+psycopg://…`); the migration step holds an advisory lock so replicas
starting together migrate once. Both engines hide bound parameters in their errors
(`hide_parameters=True`): a failed write would otherwise print the rows it carried, patients'
names and e-mails among them, in every traceback and log line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url

from medblocks.mirror import schema
from medblocks.mirror.settings import database_url

MIGRATIONS = Path(__file__).parent / "migrations"
CHANGED = "changed"
MIGRATION_LOCK = 7_305_113  # any constant: the advisory lock id for migrations on PostgreSQL


def database_failure(exc: sa.exc.SQLAlchemyError) -> str:
    """A database error in the driver's first line: no statement, no parameters."""
    original = getattr(exc, "orig", None)
    lines = str(original if original is not None else type(exc).__name__).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def database_away(exc: sa.exc.SQLAlchemyError) -> bool:
    """The database cannot be reached, refused the login, is locked or dropped the connection
    (as opposed to refusing a statement)."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def now_iso() -> str:
    """Now in UTC, written the way the API writes timestamps (`…T10:00:00.000Z`)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sqlite_engines(url: str) -> tuple[Engine, Engine]:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)

    def tune(engine: Engine, immediate: bool) -> Engine:
        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    reader = tune(sa.create_engine(url, hide_parameters=True), immediate=False)
    writer = tune(sa.create_engine(url, hide_parameters=True), immediate=True)
    return reader, writer


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creating it on an empty database)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Mirror:
    """The mirror's database: `read()` for queries, `write()` for one transaction of changes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self.reader, self.writer = _sqlite_engines(url)
        else:
            self.reader = self.writer = sa.create_engine(
                url, pool_pre_ping=True, hide_parameters=True
            )
        migrate(self.writer)

    def __repr__(self) -> str:
        return f"Mirror({make_url(self.url).render_as_string(hide_password=True)!r})"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.writer.begin() as connection:
            yield connection

    def close(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()

    # -- statements that differ by dialect ------------------------------------------------------

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def upsert(
        self, db: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: str
    ) -> None:
        """Insert `rows`, replacing every non-key column of rows whose `key` already exists."""
        if not rows:
            return
        statement = self._insert(table)
        columns = [name for name in rows[0] if name != key]
        statement = statement.on_conflict_do_update(
            index_elements=[key], set_={name: statement.excluded[name] for name in columns}
        )
        db.execute(statement, list(rows))

    def insert_new(self, db: Connection, table: sa.Table, row: Mapping[str, Any]) -> bool:
        """Insert `row` unless its primary key exists (a unique constraint decides, not a read);
        True when it was inserted."""
        key = table.primary_key.columns.values()[0]
        statement = self._insert(table).on_conflict_do_nothing().returning(key)
        return db.execute(statement, dict(row)).first() is not None

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, name: str, db: Connection | None = None) -> dict[str, Any] | None:
        query = sa.select(schema.checkpoints.c.value).where(schema.checkpoints.c.name == name)
        if db is not None:
            value = db.execute(query).scalar()
        else:
            with self.read() as reader:
                value = reader.execute(query).scalar()
        return None if value is None else dict(json.loads(value))

    def save_checkpoint(self, db: Connection, name: str, value: Mapping[str, Any]) -> None:
        row = {"name": name, "value": json.dumps(dict(value)), "updated_at": now_iso()}
        self.upsert(db, schema.checkpoints, [row], "name")

    def touch(self, db: Connection) -> None:
        """Note that the mirror's content changed (readers key their caches on it)."""
        self.save_checkpoint(db, CHANGED, {"at": now_iso()})

    def data_version(self) -> str:
        """Changes whenever the mirror's content does: a cache key for frames built from it."""
        return str((self.checkpoint(CHANGED) or {}).get("at", "empty"))

    def clear_checkpoint(self, db: Connection, name: str) -> None:
        db.execute(sa.delete(schema.checkpoints).where(schema.checkpoints.c.name == name))


def open_mirror(url: str | None = None) -> Mirror:
    """The mirror at `url` (default: `MEDBLOCKS_DATABASE_URL`, else `.dashboard/…sqlite3`)."""
    return Mirror(url or database_url())


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
