"""Throughput and latency of the sandbox (`python -m medblocks.sandbox`) next to Prism, in one
run over loopback.

For `GET /patients/{id}` and `POST /patient-sessions` it prints requests per second and p50 /
p99 latency for the sandbox (a `python -m medblocks.sandbox --memory` subprocess, state kept)
and for Prism's stateless mock of the same pinned document (`@stoplight/prism-cli mock`),
measured the same way in the same run. Prism is skipped, with the reason printed, where Node
is absent or Prism cannot be installed.

Then it checks the rate-limit emulation: a sandbox started with `--rate-limit N` is sent
`GET /patients/{id}` as fast as the connections allow for 10 s, and the script prints the
admitted rate (200 answers per second) next to N and whether it is within ±10%.

The load generator is a small keep-alive HTTP/1.1 client on raw asyncio streams, written by
hand because a full client library's per-request overhead on this 2-core machine would cap
the figures below what either server can answer.

    python bench/sandbox_throughput.py [--seconds 5] [--connections 16] [--rate-limit 200]
                                       [--rate-limit-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _processes import free_port, stop

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "medblocks" / "spec" / "medblocks.json"
KEY = "mb_sk_sbx_01BENCHKEY0000000000000000000"
VERSION = "2026-04-25"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
SESSION_BODY = json.dumps(
    {"patient_id": "bench_patient", "return_url": "https://app.example.test/back"}
).encode()


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {KEY}"})
        try:
            with urllib.request.urlopen(request, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers HTTP: ready
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def request_bytes(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {KEY}\r\nVersion: {VERSION}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def load(port: int, payload: bytes, seconds: float, connections: int) -> Result:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                writer.write(payload)
                status = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Result(len(latencies), time.perf_counter() - began, latencies, statuses)


def start_sandbox(port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MEDBLOCKS_SANDBOX_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "medblocks.sandbox", "--memory", "--port", str(port), *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def prism_command(port: int) -> tuple[list[str] | None, str]:
    """How to start Prism here, or None and the reason it cannot run."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "Node.js (node/npm) is not installed"
    prefix = Path(tempfile.gettempdir()) / "medblocks-bench-prism"
    binary = prefix / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        print(f"installing {PRISM_PACKAGE} into {prefix} (once) ...", flush=True)
        install = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", PRISM_PACKAGE],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if install.returncode != 0 or not binary.exists():
            return None, f"npm could not install {PRISM_PACKAGE}: {install.stderr.strip()[-300:]}"
    return [str(binary), "mock", str(SPEC), "--host", "127.0.0.1", "--port", str(port)], ""


def measure(name: str, port: int, args: argparse.Namespace) -> dict[str, Result]:
    cases = {
        "GET /patients/{id}": request_bytes("GET", "/patients/user_1002", port),
        "POST /patient-sessions": request_bytes("POST", "/patient-sessions", port, SESSION_BODY),
    }
    results = {}
    for label, payload in cases.items():
        asyncio.run(load(port, payload, 1.0, args.connections))  # warm-up
        results[label] = asyncio.run(load(port, payload, args.seconds, args.connections))
        print(f"  measured {name}: {label}", flush=True)
    return results


RATE_LIMIT_SECONDS = 10.0


def measure_rate_limit(args: argparse.Namespace) -> bool:
    """Flood a sandbox started with `--rate-limit N` for 10 s; True when the admitted rate is
    within 10% of N."""
    port = free_port()
    sandbox = start_sandbox(port, "--rate-limit", str(args.rate_limit))
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", sandbox)
        payload = request_bytes("GET", "/patients/user_1002", port)
        result = asyncio.run(load(port, payload, RATE_LIMIT_SECONDS, args.connections))
    finally:
        stop(sandbox)
    admitted = result.statuses.get(200, 0) / result.seconds
    deviation = admitted / args.rate_limit - 1
    within = abs(deviation) <= 0.10
    print(
        f"\nrate limit {args.rate_limit}/s, {args.connections} connections flooding for "
        f"{result.seconds:.1f} s: {result.requests} requests, statuses "
        f"{dict(sorted(result.statuses.items()))}"
    )
    print(
        f"admitted {admitted:.1f} req/s = {deviation:+.1%} of the limit "
        f"({'within' if within else 'OUTSIDE'} ±10%)"
    )
    return within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate-limit", type=int, default=200, metavar="N")
    parser.add_argument(
        "--rate-limit-only", action="store_true", help="measure only the rate-limit emulation"
    )
    args = parser.parse_args()
    if args.rate_limit_only:
        return 0 if measure_rate_limit(args) else 1

    table: dict[str, dict[str, Result]] = {}
    port = free_port()
    sandbox = start_sandbox(port)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", sandbox)
        table["sandbox"] = measure("sandbox", port, args)
    finally:
        stop(sandbox)

    prism_port = free_port()
    command, reason = prism_command(prism_port)
    if command is None:
        print(f"Prism skipped: {reason}")
    else:
        prism = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(f"http://127.0.0.1:{prism_port}/health", prism)
            table["prism"] = measure("prism", prism_port, args)
        finally:
            stop(prism)

    print()
    print(f"{args.connections} keep-alive connections, {args.seconds:g} s per case, loopback")
    print(f"{'operation':<24} {'server':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for label in ("GET /patients/{id}", "POST /patient-sessions"):
        for server, results in table.items():
            result = results[label]
            print(
                f"{label:<24} {server:<8} {result.rate:>9.0f} {result.percentile(0.5):>8.2f} "
                f"{result.percentile(0.99):>8.2f}  {dict(sorted(result.statuses.items()))}"
            )
    if "prism" in table:
        label = "GET /patients/{id}"
        ratio = table["sandbox"][label].rate / table["prism"][label].rate
        print(f"\nGET /patients/{{id}} throughput, sandbox / prism: {ratio:.2f}x")
    return 0 if measure_rate_limit(args) else 1


if __name__ == "__main__":
    raise SystemExit(main())
