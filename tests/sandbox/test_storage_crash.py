"""Crash safety: writes under load to a subprocess sandbox, `kill -9`, restart; every write
the server acknowledged with 200 is still there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from medblocks.sandbox import SandboxConfig, create_app
from tests.local_servers import free_port, wait_answering

KEY = "mb_sk_sbx_01CRASHTEST000000000000000000"
REPO = Path(__file__).resolve().parents[2]
WRITERS = 4
ACKS_BEFORE_KILL = 200


def test_kill_9_loses_no_acknowledged_write(tmp_path: Path):
    db_path = tmp_path / "sandbox.sqlite3"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MEDBLOCKS_SANDBOX_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "medblocks.sandbox", "--db", str(db_path), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def write(worker: int) -> None:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=5) as client:
            for index in range(100_000):
                patient_id = f"crash_{worker}_{index}"
                try:
                    response = client.post("/patients", json={"patient_id": patient_id})
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(patient_id)
                        if len(acknowledged) >= ACKS_BEFORE_KILL:
                            enough.set()

    try:
        wait_answering(
            process,
            f"{base_url}/health",
            what="the sandbox",
            headers={"Authorization": f"Bearer {KEY}"},
        )
        writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        for thread in writers:
            thread.start()
        assert enough.wait(60), "the writers did not get enough acknowledgements"
        process.send_signal(signal.SIGKILL)  # while the writers are still sending
        process.wait(10)
        for thread in writers:
            thread.join(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)

    assert process.returncode == -signal.SIGKILL
    restarted = create_app(SandboxConfig(db_path=db_path, api_key=KEY))
    try:
        store = restarted.state.sandbox.store
        stored = {r["id"] for r in store.query("SELECT id FROM patients WHERE id LIKE 'crash_%'")}
    finally:
        restarted.state.sandbox.store.close()
    with lock:
        missing = set(acknowledged) - stored
    assert len(acknowledged) >= ACKS_BEFORE_KILL
    assert not missing, f"{len(missing)} acknowledged writes lost"
