"""Storage: WAL on disk, restarts keep data and do not reseed, deterministic seeding, bulk
seeding, and concurrent writes over loopback."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from ulid import ULID

from medblocks.sandbox import SandboxConfig, create_app, start_in_thread
from medblocks.sandbox.storage.seed import _ulid_text
from medblocks.sandbox.storage.store import Store

KEY = "mb_sk_sbx_01STORAGETEST00000000000000"


def _patients(store: Store) -> list[tuple[str, str | None, str | None]]:
    rows = store.query("SELECT id, email, name FROM patients ORDER BY seq")
    return [(r["id"], r["email"], r["name"]) for r in rows]


def test_disk_database_runs_in_wal_mode(tmp_path: Path):
    store = Store(tmp_path / "data" / "sandbox.sqlite3")
    try:
        assert store.query_one("PRAGMA journal_mode")[0] == "wal"  # type: ignore[index]
    finally:
        store.close()


def test_restart_keeps_writes_and_does_not_reseed(tmp_path: Path):
    config = SandboxConfig(db_path=tmp_path / "sandbox.sqlite3", api_key=KEY)
    app = create_app(config)
    store = app.state.sandbox.store
    with store.transaction() as db:
        store.insert_patient(db, "kept", "kept@example.test", None, {}, "2026-01-01T00:00:00.000Z")
    before = _patients(store)
    store.close()
    again = create_app(config)
    try:
        assert _patients(again.state.sandbox.store) == before
    finally:
        again.state.sandbox.store.close()


def test_clock_offset_survives_a_restart(tmp_path: Path):
    config = SandboxConfig(db_path=tmp_path / "sandbox.sqlite3", api_key=KEY)
    app = create_app(config)
    app.state.sandbox.clock.advance(3600)
    app.state.sandbox.store.close()
    again = create_app(config)
    try:
        assert again.state.sandbox.clock.offset_seconds == 3600
    finally:
        again.state.sandbox.store.close()


def test_seed_is_deterministic_for_a_random_seed():
    runs = [create_app(SandboxConfig(api_key=KEY, random_seed=7)) for _ in range(2)]
    other = create_app(SandboxConfig(api_key=KEY, random_seed=8))
    try:
        first, second = (_patients(app.state.sandbox.store) for app in runs)
        assert first == second
        assert first != _patients(other.state.sandbox.store)
        assert len(first) >= 25
        assert all(email is None or email.endswith("@example.test") for _, email, _ in first)
    finally:
        for app in [*runs, other]:
            app.state.sandbox.store.close()


def test_demo_seed_has_sessions_records_events_and_a_launch_context():
    app = create_app(SandboxConfig(api_key=KEY))
    store = app.state.sandbox.store
    try:
        modes = {r["mode"] for r in store.query("SELECT mode FROM patient_sessions")}
        assert modes == {"picker", "direct"}
        types = {r[0] for r in store.query("SELECT DISTINCT resource_type FROM records")}
        assert {"Patient", "Observation", "Condition", "MedicationRequest"} <= types
        assert store.query_one("SELECT count(*) FROM webhook_events")[0] > 0  # type: ignore[index]
        assert store.query_one("SELECT count(*) FROM launch_contexts")[0] == 1  # type: ignore[index]
        for row in store.query("SELECT logo_url FROM fhir_sources"):
            assert row["logo_url"] is None or row["logo_url"].startswith("data:image/svg+xml,")
    finally:
        store.close()


def test_bulk_seed_adds_n_patients_with_connections():
    app = create_app(SandboxConfig(api_key=KEY, seed_demo=False, seed_patients=500))
    store = app.state.sandbox.store
    try:
        assert store.query_one("SELECT count(*) FROM patients")[0] == 500  # type: ignore[index]
        statuses = {r[0] for r in store.query("SELECT DISTINCT status FROM connections")}
        assert statuses == {"active", "failed", "refresh_failed", "expired", "disconnected"}
    finally:
        store.close()


def test_concurrent_writes_over_loopback_all_land(tmp_path: Path):
    config = SandboxConfig(db_path=tmp_path / "sandbox.sqlite3", api_key=KEY, seed_demo=False)
    with start_in_thread(config) as running:
        headers = {"Authorization": f"Bearer {running.api_key}"}

        def create(index: int) -> int:
            with httpx.Client(base_url=running.base_url, headers=headers, timeout=10) as client:
                body = {"patient_id": f"c_{index}", "metadata": {"i": index}}
                return client.post("/patients", json=body).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(create, range(80)))
        assert statuses == [200] * 80
        with httpx.Client(base_url=running.base_url, headers=headers) as client:
            page = client.get("/patients", params={"limit": 100}).json()
        assert sorted(json.dumps(p["metadata"]) for p in page["data"]) == sorted(
            json.dumps({"i": i}) for i in range(80)
        )


def test_bulk_connection_ids_are_the_ulid_library_s_text():
    rng = random.Random(7)
    for raw in [bytes(16), b"\xff" * 16, *(rng.randbytes(16) for _ in range(500))]:
        assert _ulid_text(raw) == str(ULID.from_bytes(raw))
