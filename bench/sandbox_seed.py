"""How fast `python -m medblocks.sandbox --seed N` is ready, and how much memory it holds.

Starts the sandbox as a subprocess on a free port (in memory, then on a fresh database file),
times from the start of the process until `GET /health` answers 200, then reads the process's
resident memory (VmRSS now, VmHWM its peak) and the CPU time it used from /proc. Targets for
`--patients 100000`: ready in at most 10 s and at most 1 GiB resident.

    python bench/sandbox_seed.py [--patients 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _processes import free_port, stop

REPO = Path(__file__).resolve().parents[1]
READY_TARGET_SECONDS = 10.0
MEMORY_TARGET_MIB = 1024.0


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of `pid` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` has used (on a shared machine the wall time to ready
    depends on the load; this does not)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ready_after(url: str, process: subprocess.Popen[bytes], started: float) -> float:
    """Seconds from `started` until `url` answers 200 (health needs no key)."""
    while time.monotonic() - started < 120:
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise RuntimeError("the sandbox was not ready within 120 s")


def first_start(patients: int, storage: list[str]) -> tuple[float, float, float, float]:
    port = free_port()
    command = [
        *(sys.executable, "-m", "medblocks.sandbox", "--port", str(port)),
        *("--seed", str(patients), *storage),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        seconds = ready_after(f"http://127.0.0.1:{port}/health", process, started)
        rss, peak = memory_mib(process.pid)
        cpu = cpu_seconds(process.pid)
    finally:
        stop(process)
    return seconds, cpu, rss, peak


def main() -> int:
    parser = argparse.ArgumentParser(description="Time a first start with N bulk patients.")
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    within = True
    with tempfile.TemporaryDirectory() as folder:
        cases = {"memory": ["--memory"], "disk": ["--db", str(Path(folder) / "sbx.sqlite3")]}
        for label, storage in cases.items():
            seconds, cpu, rss, peak = first_start(args.patients, storage)
            ok = seconds <= READY_TARGET_SECONDS and peak <= MEMORY_TARGET_MIB
            within = within and ok
            print(
                f"{label:<7} --seed {args.patients}: /health 200 after {seconds:5.2f} s"
                f" ({cpu:.2f} s CPU);"
                f" resident {rss:6.1f} MiB, peak {peak:6.1f} MiB"
                f" ({'within' if ok else 'OUTSIDE'} {READY_TARGET_SECONDS:g} s / 1 GiB)",
                flush=True,
            )
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
