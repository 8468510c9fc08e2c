"""The org-wide reads the pages show: every patient's connections, every patient's sessions, and
which sources have delivered records. This module is their one boundary: pages (and the load
bench) call these three functions and nothing below them, so reading them from somewhere else
(a local mirror, say) changes this file alone.

Today each is a fan-out of per-patient calls (the API has no org-wide lists; see `frames`) over
`SHARDS` async clients with `PER_CLIENT` requests in flight on each: small pools cost less CPU
per request than one big one (see `sharded`). `on_progress(done, total)` reports as calls finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import TypeVar

import pandas as pd

from medblocks.client import AsyncMedblocks
from medblocks.dashboard import frames
from medblocks.dashboard.frames import Progress
from medblocks.dashboard.target import Target

SHARDS = 8
PER_CLIENT = 3
ResultT = TypeVar("ResultT")


def org_connections(target: Target, on_progress: Progress | None = None) -> frames.OrgFrames:
    """Every patient and every patient's connections."""
    return _on_shards(
        target,
        lambda clients: frames.fetch_connections(
            clients, per_client=PER_CLIENT, on_progress=on_progress
        ),
    )


def org_sessions(
    target: Target, patient_ids: Sequence[str], on_progress: Progress | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every session of the given patients, and the patients whose read failed."""
    return _on_shards(
        target,
        lambda clients: frames.fetch_sessions(
            clients, patient_ids, per_client=PER_CLIENT, on_progress=on_progress
        ),
    )


def record_sources(
    target: Target,
    wanted: Mapping[str, Sequence[str]],
    on_progress: Progress | None = None,
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Patient id -> the sources seen in its records, for the patients and sources in `wanted`."""
    return _on_shards(
        target,
        lambda clients: frames.fetch_record_sources(
            clients, wanted, per_client=PER_CLIENT, on_progress=on_progress
        ),
    )


def _on_shards(
    target: Target, work: Callable[[list[AsyncMedblocks]], Awaitable[ResultT]]
) -> ResultT:
    """`work(clients)` on `SHARDS` fresh async clients, closed when it is done."""

    async def run() -> ResultT:
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(target.async_client()) for _ in range(SHARDS)
            ]
            return await work(clients)

    return asyncio.run(run())
