"""The mirror holds every value the API sends, and its failures never print a patient's name or
e-mail (on SQLite and PostgreSQL).

The case that printed them before: a 250-character `patient_id` (the pinned spec sets no
maximum) overflowed `String(200)` on PostgreSQL, and the traceback listed the bound rows of the
whole page. Now the column is TEXT; to see what a failing write prints, the test makes the
database refuse long ids itself (a trigger) and runs `mirror sync` as a person would.
"""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa

from medblocks.client import Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.sandbox import RunningSandbox
from tests.mirror.conftest import command_env

LONG_ID = "p" * 250


def add_long_patient(sandbox: RunningSandbox) -> None:
    """A patient whose id has 250 characters: `POST /patients` caps ids at 200, a session's
    `patient_id` has no maximum (and brings the patient in)."""
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        source = next(iter(client.sources.list(limit=1)))
        client.patient_sessions.create(
            patient_id=LONG_ID,
            return_url="http://127.0.0.1:8501/back",
            recommended_connection_ids=[source.id],
        )
        assert client.patients.retrieve(LONG_ID).id == LONG_ID


def patients_phi(sandbox: RunningSandbox) -> set[str]:
    """Every name and e-mail the sandbox holds."""
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        return {v for p in client.patients.list(limit=100) for v in (p.name, p.email) if v}


def cli_sync(
    sandbox: RunningSandbox, database_url: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = command_env(sandbox, database_url)
    return subprocess.run(
        [sys.executable, "-m", "medblocks", "mirror", "sync", "--no-progress", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_250_character_patient_id_is_synced(
    mirror: Mirror, database_url: str, sandbox: RunningSandbox
) -> None:
    add_long_patient(sandbox)
    done = cli_sync(sandbox, database_url)
    assert done.returncode == 0, done.stderr
    with mirror.read() as db:
        stored = db.execute(
            sa.select(schema.patients.c.id).where(schema.patients.c.id == LONG_ID)
        ).scalar()
        sessions = db.execute(
            sa.select(sa.func.count())
            .select_from(schema.sessions)
            .where(schema.sessions.c.patient_id == LONG_ID)
        ).scalar()
    assert stored == LONG_ID and sessions == 1


def refuse_long_ids(mirror: Mirror) -> None:
    """The database refuses a patient id over 200 characters (as `String(200)` did)."""
    with mirror.write() as db:
        if mirror.dialect == "sqlite":
            db.exec_driver_sql(
                "CREATE TRIGGER short_ids BEFORE INSERT ON patients WHEN length(NEW.id) > 200 "
                "BEGIN SELECT RAISE(ABORT, 'value too long for the id column'); END"
            )
        else:
            db.exec_driver_sql(
                "ALTER TABLE patients ADD CONSTRAINT short_ids CHECK (length(id) <= 200)"
            )


def test_a_failing_write_prints_no_name_or_email(
    mirror: Mirror, database_url: str, sandbox: RunningSandbox
) -> None:
    add_long_patient(sandbox)
    refuse_long_ids(mirror)
    phi = patients_phi(sandbox)
    assert len(phi) > 10  # the demo organisation's names and e-mails, all on the failing page
    for args in ((), ("--verbose",)):
        done = cli_sync(sandbox, database_url, *args)
        output = done.stdout + done.stderr
        assert done.returncode == 1
        assert "the mirror's database refused a statement" in done.stderr
        assert not [value for value in phi if value in output], output
        if args:
            assert "Traceback" in done.stderr  # --verbose shows it, still without PHI
        else:
            assert "Traceback" not in output and len(done.stderr.splitlines()) <= 4
