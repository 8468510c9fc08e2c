"""Dashboard load: the org-wide connection-health frame over 10,000 patients, three ways.

A sandbox seeded with 10,000 extra patients runs in its own process (as Medblocks runs on its
own servers), with a simulated network round trip (`--latency-ms`, the sandbox's latency fault).
The script then builds the Connection health page's frame as the page does: the data layer's
org-wide reads (`medblocks.dashboard.org_reads`, the async fan-out) behind `st.cache_data`:

* cold  - caches empty: list every patient, fan out `GET /patients/{id}`, then
          `GET /patients/{id}/records` for patients with an active connection, build the frame;
* warm  - the same call again, answered by `st.cache_data`;
* naive - the same requests one after another with the sync client (no concurrency, no cache).

It prints the three times and the ratios. Targets: cold <= 15 s, warm <= 0.5 s, cold at least
5x faster than naive. Run: `python bench/dashboard_load.py` (about three minutes, mostly the
naive pass waiting on the simulated network).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
from _processes import free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from medblocks.client import Medblocks  # noqa: E402
from medblocks.config import settings_from  # noqa: E402
from medblocks.dashboard import org_reads  # noqa: E402
from medblocks.dashboard.frames import OrgFrames, active_sources, health_frame  # noqa: E402
from medblocks.dashboard.target import Target, connected_target  # noqa: E402

TTL = 60  # as the pages cache their reads


def start_sandbox(patients: int, key: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, MEDBLOCKS_SANDBOX_API_KEY=key)
    command = [sys.executable, "-m", "medblocks.sandbox", "--memory", "--seed", str(patients)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(
                f"{base_url}/health", headers={"Authorization": f"Bearer {key}"}
            ).is_success:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the sandbox did not start")


@st.cache_data(ttl=TTL, show_spinner=False)
def cached_connections(key: str, _target: Target) -> OrgFrames:
    return org_reads.org_connections(_target)


@st.cache_data(ttl=TTL, show_spinner=False)
def cached_record_sources(
    key: str, wanted: tuple[tuple[str, tuple[str, ...]], ...], _target: Target
) -> tuple[dict[str, list[str]], dict[str, str]]:
    return org_reads.record_sources(_target, dict(wanted))


def build_like_the_page(target: Target) -> tuple[int, int]:
    """What ui_pages/connection_health.py does before rendering: (connections, record checks)."""
    org = cached_connections(target.base_url, target)
    wanted = active_sources(org.connections)
    arrived, _ = cached_record_sources(target.base_url, tuple(sorted(wanted.items())), target)
    frame = health_frame(org, arrived)
    return len(frame), len(wanted)


def naive(client: Medblocks) -> tuple[int, int]:
    ids = [p.id for p in client.patients.list(limit=100)]
    details = [client.patients.retrieve(pid) for pid in ids]
    wanted = {
        d.id: {c.connection_id for c in d.connections if c.status == "active"} for d in details
    }
    checked = 0
    for pid, sources in wanted.items():
        if not sources:
            continue
        checked += 1
        seen: set[str] = set()
        cursor = None
        while True:  # the same paging rule as the dashboard's
            page = client.patients.records(pid, count=100, starting_after=cursor)
            seen.update(item.source for item in page.data if item.source)
            if seen >= sources or not page.has_more or not page.next_cursor:
                break
            cursor = page.next_cursor
    return sum(len(d.connections) for d in details), checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=10, help="simulated round trip")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)

    key = "mb_sk_sbx_" + os.urandom(12).hex()
    process, base_url = start_sandbox(args.patients, key)
    try:
        httpx.put(
            f"{base_url}/_sandbox/faults",
            json={"latency_ms": args.latency_ms},
            headers={"Authorization": f"Bearer {key}"},
        ).raise_for_status()
        target = connected_target(
            settings_from({"MEDBLOCKS_API_KEY": key, "MEDBLOCKS_API_URL": base_url})
        )
        print(f"sandbox: {args.patients} bulk patients + demo, latency {args.latency_ms} ms")
        print(f"fan-out: {org_reads.SHARDS} async clients x {org_reads.PER_CLIENT} in flight each")
        st.cache_data.clear()
        started = time.perf_counter()
        rows, checked = build_like_the_page(target)
        cold = time.perf_counter() - started
        print(f"cold  {cold:8.2f} s  ({rows} connections, {checked} record checks)")

        started = time.perf_counter()
        build_like_the_page(target)
        warm = time.perf_counter() - started
        print(f"warm  {warm:8.3f} s  (st.cache_data)")

        with Medblocks(key, base_url=base_url) as client:
            started = time.perf_counter()
            naive_rows, _ = naive(client)
            sequential = time.perf_counter() - started
        assert naive_rows == rows, (naive_rows, rows)
        print(f"naive {sequential:8.2f} s  (sequential sync client, same requests)")
        print(f"naive / cold = {sequential / cold:6.1f}x   (target >= 5x)")
        print(f"cold / warm  = {cold / warm:6.0f}x")
        ok = cold <= 15 and warm <= 0.5 and sequential / cold >= 5
        print("targets:", "met" if ok else "NOT met (cold <= 15 s, warm <= 0.5 s, >= 5x)")
        return 0
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
