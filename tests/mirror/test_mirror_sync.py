"""The full reconcile against a real sandbox, on SQLite and PostgreSQL: it mirrors what the API
says, changes nothing on a second run, deletes what is gone, records status changes, and
continues a sync that was killed instead of starting again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from medblocks.client import Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.sync import CHECKPOINT
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.mirror.conftest import command_env, rows, synced


def api_state(sandbox: RunningSandbox) -> tuple[dict[str, str], dict[str, int]]:
    """Connection id -> status, and patient id -> number of sessions, as the API says."""
    statuses, sessions = {}, {}
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        for patient in client.patients.list(limit=100):
            detail = client.patients.retrieve(patient.id)
            statuses.update({c.id: str(c.status) for c in detail.connections})
            sessions[patient.id] = len(list(client.patients.sessions(patient.id)))
    return statuses, sessions


async def test_sync_mirrors_the_api_and_a_second_sync_changes_nothing(
    mirror: Mirror, sandbox: RunningSandbox
) -> None:
    report = await synced(mirror, sandbox)
    statuses, sessions = api_state(sandbox)
    assert not report.resumed and report.failed_requests == 0 and not report.failures
    assert report.patients == len(sessions) == len(rows(mirror, schema.patients))
    mirrored = {r["id"]: r["status"] for r in rows(mirror, schema.connections)}
    assert mirrored == statuses
    per_patient: dict[str, int] = {}
    for row in rows(mirror, schema.sessions):
        per_patient[row["patient_id"]] = per_patient.get(row["patient_id"], 0) + 1
    assert per_patient == {pid: n for pid, n in sessions.items() if n}
    history = rows(mirror, schema.status_changes)
    assert len(history) == len(statuses)  # the first sight of each connection
    assert {h["from_status"] for h in history} == {None}
    failing = [r for r in rows(mirror, schema.connections) if r["status"] in {"failed", "expired"}]
    assert failing and all(r["failing_since"] for r in failing)
    arrived = [r for r in rows(mirror, schema.connections) if r["records_arrived"]]
    assert arrived and all(r["status"] == "active" for r in arrived)
    assert report.requests >= 1 + 2 * report.patients

    again = await synced(mirror, sandbox)
    assert again.changes.total == 0 and again.changes.status_changes == 0
    assert len(rows(mirror, schema.status_changes)) == len(statuses)
    # records already seen for unchanged active connections are not read again
    assert again.requests < report.requests


async def test_sync_records_changes_and_deletes_what_is_gone(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any
) -> None:
    await synced(mirror, sandbox)
    active = next(r for r in rows(mirror, schema.connections) if r["status"] == "active")
    controls.set_status(active["id"], "failed", "portal_login_failed")
    doomed = next(r["id"] for r in rows(mirror, schema.patients) if r["id"] != active["patient_id"])
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        client.patients.delete(doomed)

    report = await synced(mirror, sandbox)
    assert report.changes.deleted == 1
    assert doomed not in {r["id"] for r in rows(mirror, schema.patients)}
    assert doomed not in {r["patient_id"] for r in rows(mirror, schema.connections)}
    assert doomed not in {r["patient_id"] for r in rows(mirror, schema.sessions)}
    changed = [h for h in rows(mirror, schema.status_changes) if h["from_status"] is not None]
    assert [
        (h["connection_id"], h["from_status"], h["to_status"], h["failure_code"]) for h in changed
    ] == [(active["id"], "active", "failed", "portal_login_failed")]
    assert changed[0]["observed_by"] == "sync"
    now_failing = next(r for r in rows(mirror, schema.connections) if r["id"] == active["id"])
    assert now_failing["failing_since"] == changed[0]["changed_at"]


def run_cli_sync(sandbox: RunningSandbox, database_url: str, *args: str) -> subprocess.Popen[str]:
    env = command_env(sandbox, database_url)
    return subprocess.Popen(
        [sys.executable, "-m", "medblocks", "mirror", "sync", "--no-progress", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_sync_continues_where_it_stopped(mirror: Mirror, database_url: str) -> None:
    config = SandboxConfig(db_path=None, seed_demo=False, seed_patients=800)
    with start_in_thread(config) as sandbox:
        first = run_cli_sync(sandbox, database_url, "--rate", "300")
        deadline = time.monotonic() + 60
        while (mirror.checkpoint(CHECKPOINT) or {}).get("patients", 0) < 300:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the sync made no progress"
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        stopped_at = mirror.checkpoint(CHECKPOINT)
        assert stopped_at is not None and 300 <= stopped_at["patients"] < 800

        second = run_cli_sync(sandbox, database_url)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        assert out.startswith("resumed sync: 800 patients"), out
        assert mirror.checkpoint(CHECKPOINT) is None
        last = mirror.checkpoint("last_sync")
        assert last is not None and last["resumed"] and last["patients"] == 800
        # the second process only read what the first had not written: a bulk patient costs
        # its detail, its sessions and, for 3 in 7 (active), its records
        remaining = 800 - stopped_at["patients"]
        assert last["requests"] - stopped_at["requests"] <= 2.5 * remaining + 20
        assert len(rows(mirror, schema.patients)) == 800
        history = rows(mirror, schema.status_changes)
        assert len(history) == len({h["connection_id"] for h in history}) == 800


@pytest.mark.parametrize("rate", [40])
async def test_rate_option_paces_requests(
    mirror: Mirror, sandbox: RunningSandbox, rate: int
) -> None:
    started = time.monotonic()
    report = await synced(mirror, sandbox, rate=rate)
    elapsed = time.monotonic() - started
    assert report.requests > rate  # long enough for the limit to matter
    assert report.requests <= rate * (elapsed + 1)
