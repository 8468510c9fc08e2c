"""What the client costs over raw httpx: the same GETs to the sandbox over loopback.

Both sides send `GET /patients/{id}` to one sandbox served on 127.0.0.1 (uvicorn in a
thread), over one keep-alive connection each, with the same headers; raw httpx decodes the
JSON, the client also validates it into `PatientDetail`. The requests alternate in blocks
(raw, client, raw, client, ...) so that drift in the machine's load falls on both sides.
Prints both timings and the ratio client / raw (target: 1.15 or less).

A second, smaller figure replays the sandbox's recorded answer through `httpx.MockTransport`
(no network, no server) on both sides: the client's own CPU cost per call, the worst case
for the ratio.

    python bench/client_overhead.py [--requests 2000] [--block 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medblocks import Medblocks
from medblocks.client.base import user_agent
from medblocks.sandbox import SandboxConfig, start_in_thread
from medblocks.spec import pinned_version

KEY = "mb_sk_sbx_benchclientoverhead0123456"
TARGET_RATIO = 1.15


def side_by_side(
    raw_get: Callable[[], None], client_get: Callable[[], None], total: int, block: int
) -> tuple[list[float], list[float]]:
    """Seconds per GET of each block, raw and client blocks alternating, after a warm-up."""
    for _ in range(min(50, total)):
        raw_get()
        client_get()
    raw_blocks: list[float] = []
    client_blocks: list[float] = []
    done = 0
    while done < total:
        size = min(block, total - done)
        for run, blocks in ((raw_get, raw_blocks), (client_get, client_blocks)):
            started = time.perf_counter()
            for _ in range(size):
                run()
            blocks.append((time.perf_counter() - started) / size)
        done += size
    return raw_blocks, client_blocks


def gets(
    raw: httpx.Client, client: Medblocks, patient_id: str
) -> tuple[Callable[[], None], Callable[[], None]]:
    """The same GET, as raw httpx (status check, JSON decode) and as the client."""

    def raw_get() -> None:
        response = raw.get(f"/patients/{patient_id}")
        response.raise_for_status()
        response.json()

    def client_get() -> None:
        client.patients.retrieve(patient_id)

    return raw_get, client_get


def report(title: str, raw_blocks: list[float], client_blocks: list[float]) -> float:
    raw_ms = 1e3 * statistics.mean(raw_blocks)
    client_ms = 1e3 * statistics.mean(client_blocks)
    ratio = client_ms / raw_ms
    print(title)
    print(f"  raw httpx : {raw_ms:8.3f} ms/GET")
    print(f"  client    : {client_ms:8.3f} ms/GET  ({1e3 * (client_ms - raw_ms):+.0f} us)")
    print(f"  ratio client/raw: {ratio:.3f}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="GETs per side")
    parser.add_argument("--block", type=int, default=100, help="GETs per alternating block")
    args = parser.parse_args()

    with start_in_thread(SandboxConfig(db_path=None, api_key=KEY, seed_demo=True)) as sandbox:
        headers = {
            "Authorization": f"Bearer {KEY}",
            "Version": pinned_version(),
            "User-Agent": user_agent(),
            "Accept": "application/json",
        }
        with (
            httpx.Client(base_url=sandbox.base_url, headers=headers) as raw,
            Medblocks(KEY, base_url=sandbox.base_url, max_retries=0) as client,
        ):
            patient_id = next(iter(client.patients.list(limit=1))).id
            loopback = side_by_side(*gets(raw, client, patient_id), args.requests, args.block)
            recorded = raw.get(f"/patients/{patient_id}")

    replay = httpx.MockTransport(
        lambda request: httpx.Response(200, content=recorded.content, headers=recorded.headers)
    )
    with (
        httpx.Client(base_url="http://127.0.0.1", headers=headers, transport=replay) as raw,
        Medblocks(KEY, base_url="http://127.0.0.1", transport=replay) as client,
    ):
        no_network = side_by_side(*gets(raw, client, patient_id), args.requests, args.block)

    print(f"GET /patients/{{id}} x {args.requests} per side, alternating blocks of {args.block}")
    ratio = report("over loopback to the sandbox (start_in_thread):", *loopback)
    report("recorded answer replayed, no network (the client's own cost):", *no_network)
    print(f"target <= {TARGET_RATIO} over loopback: {'met' if ratio <= TARGET_RATIO else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
