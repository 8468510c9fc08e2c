"""A mirror belongs to one organisation, on SQLite and PostgreSQL: a mistyped key, another
spelling of the server and another organisation change nothing in a mirror holding history;
starting over archives that history (still readable) instead of deleting it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from medblocks.client import AuthenticationError, Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.identity import (
    ORG_TABLES,
    TARGET,
    Organisation,
    OtherOrganisation,
    archived,
    canonical_server,
    claim,
    read_one_patient,
    start_over,
)
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.mirror.conftest import synced


def snapshot(mirror: Mirror) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the mirror keeps, in a stable order."""
    tables = (*ORG_TABLES, schema.archives, schema.archived_rows)
    with mirror.read() as db:
        return {t.name: sorted(map(tuple, db.execute(sa.select(t))), key=repr) for t in tables}


def claim_with(mirror: Mirror, base_url: str, key: str) -> None:
    claim(mirror, base_url, key, lambda: read_one_patient(Medblocks(key, base_url=base_url)))


@pytest.fixture
def other_sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as running:
        yield running


@pytest.fixture
async def with_history(mirror: Mirror, sandbox: RunningSandbox) -> Mirror:
    """A mirror claimed for `sandbox`, synced, holding status history."""
    claim_with(mirror, sandbox.base_url, sandbox.api_key)
    await synced(mirror, sandbox)
    with mirror.read() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(schema.status_changes)).scalar()
    return mirror


def test_the_spelling_of_a_server_does_not_matter() -> None:
    same = {
        canonical_server(url)
        for url in (
            "http://127.0.0.1:8000",
            "http://localhost:8000/",
            "HTTP://LocalHost:8000",
            "http://[::1]:8000/",
        )
    }
    assert same == {"http://localhost:8000"}
    assert canonical_server("https://api.medblocks.com:443/") == "https://api.medblocks.com"
    assert canonical_server("http://example.org:80/v1/") == "http://example.org/v1"
    assert canonical_server("http://localhost:8001") != canonical_server("http://localhost:8000")


def test_a_mistyped_key_changes_nothing(with_history: Mirror, sandbox: RunningSandbox) -> None:
    before = snapshot(with_history)
    mistyped = sandbox.api_key[:-1] + ("x" if sandbox.api_key[-1] != "x" else "y")
    with pytest.raises(AuthenticationError):
        claim_with(with_history, sandbox.base_url, mistyped)
    assert snapshot(with_history) == before


async def test_a_host_alias_is_the_same_organisation(
    with_history: Mirror, sandbox: RunningSandbox
) -> None:
    before = snapshot(with_history)
    alias = sandbox.base_url.replace("127.0.0.1", "localhost") + "/"
    assert alias != sandbox.base_url
    claim_with(with_history, alias, sandbox.api_key)
    assert snapshot(with_history) == before
    await synced(with_history, sandbox)  # and syncing through the alias keeps the history
    assert snapshot(with_history)["status_changes"] == before["status_changes"]


def test_another_organisation_is_refused_and_changes_nothing(
    with_history: Mirror, sandbox: RunningSandbox, other_sandbox: RunningSandbox
) -> None:
    before = snapshot(with_history)
    with pytest.raises(OtherOrganisation) as refused:
        claim_with(with_history, other_sandbox.base_url, other_sandbox.api_key)
    message = str(refused.value)
    assert str(Organisation.of(sandbox.base_url, sandbox.api_key)) in message
    assert str(Organisation.of(other_sandbox.base_url, other_sandbox.api_key)) in message
    assert "mirror start-over" in message
    assert sandbox.api_key not in message and other_sandbox.api_key not in message
    assert snapshot(with_history) == before


async def test_starting_over_archives_the_history_and_binds_the_new_target(
    with_history: Mirror, sandbox: RunningSandbox, other_sandbox: RunningSandbox
) -> None:
    before = snapshot(with_history)
    with with_history.read() as db:
        history = [dict(row._mapping) for row in db.execute(sa.select(schema.status_changes))]
    mistyped = other_sandbox.api_key[:-1] + ("x" if other_sandbox.api_key[-1] != "x" else "y")
    with pytest.raises(AuthenticationError):  # a refused key cannot start over either
        start_over(
            with_history,
            other_sandbox.base_url,
            mistyped,
            lambda: read_one_patient(Medblocks(mistyped, base_url=other_sandbox.base_url)),
        )
    assert snapshot(with_history) == before

    done = start_over(
        with_history,
        other_sandbox.base_url,
        other_sandbox.api_key,
        lambda: read_one_patient(Medblocks(other_sandbox.api_key, base_url=other_sandbox.base_url)),
    )
    assert done is not None
    assert done.organisation == str(Organisation.of(sandbox.base_url, sandbox.api_key))
    kept = archived(with_history, done.archive_id, "status_changes")
    assert sorted(kept, key=lambda r: r["id"]) == sorted(history, key=lambda r: r["id"])
    assert len(archived(with_history, done.archive_id, "patients")) == len(before["patients"])
    after = snapshot(with_history)
    assert after["status_changes"] == [] and after["patients"] == []
    assert with_history.checkpoint(TARGET) == {
        "server": canonical_server(other_sandbox.base_url),
        "key": Organisation.of(other_sandbox.base_url, other_sandbox.api_key).key,
    }
    claim_with(with_history, other_sandbox.base_url, other_sandbox.api_key)  # now its own
    await synced(with_history, other_sandbox)
    with pytest.raises(OtherOrganisation):  # and the first one is now the other organisation
        claim_with(with_history, sandbox.base_url, sandbox.api_key)


def test_a_binding_written_before_this_version_is_kept_for_the_same_target(
    mirror: Mirror, sandbox: RunningSandbox, other_sandbox: RunningSandbox
) -> None:
    old = hashlib.sha256(f"{sandbox.base_url}|{sandbox.api_key}".encode()).hexdigest()[:16]
    with mirror.write() as db:
        mirror.save_checkpoint(db, TARGET, {"fingerprint": old})
    before = snapshot(mirror)
    with pytest.raises(OtherOrganisation):
        claim_with(mirror, other_sandbox.base_url, other_sandbox.api_key)
    assert snapshot(mirror) == before
    claim_with(mirror, sandbox.base_url, sandbox.api_key)
    assert Organisation.held_by(mirror) == Organisation.of(sandbox.base_url, sandbox.api_key)


def test_start_over_as_a_command(
    with_history: Mirror, database_url: str, sandbox: RunningSandbox, other_sandbox: RunningSandbox
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBLOCKS_")}
    env |= {
        "MEDBLOCKS_API_KEY": other_sandbox.api_key,
        "MEDBLOCKS_API_URL": other_sandbox.base_url,
        "MEDBLOCKS_DATABASE_URL": database_url,
    }

    def mirror_command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "medblocks", "mirror", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    refused = mirror_command("sync", "--no-progress")
    assert refused.returncode == 1 and "mirror start-over" in refused.stderr
    held = str(Organisation.of(sandbox.base_url, sandbox.api_key))
    assert held in refused.stderr and "Traceback" not in refused.stderr
    done = mirror_command("start-over")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("archived ") and f"rows of {held} as archive #1" in done.stdout
    synced = mirror_command("sync", "--no-progress")
    assert synced.returncode == 0 and synced.stdout.startswith("full sync: ")
    assert sandbox.api_key not in done.stdout + refused.stderr
