"""Fan-out over several async clients, each with a small connection pool.

httpcore's connection pool does work proportional to its number of connections on every request,
so one client with 24 requests in flight spends more CPU per request than 8 clients with 3 each.
`bench/dashboard_load.py` measured the difference over 14,000 requests (the numbers are in the
README). Each shard is an ordinary `AsyncMedblocks.fan_out` over every k-th item; progress is
summed across shards and failures are kept per item, exactly as one fan-out would report them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TypeVar

from medblocks.client import AsyncMedblocks, FanOutResult

ItemT = TypeVar("ItemT", bound=Hashable)
ValueT = TypeVar("ValueT")
Progress = Callable[[int, int], None]


async def sharded_fan_out(
    clients: Sequence[AsyncMedblocks],
    call: Callable[[AsyncMedblocks, ItemT], Awaitable[ValueT]],
    items: Sequence[ItemT],
    *,
    per_client: int,
    on_progress: Progress | None = None,
) -> FanOutResult[ItemT, ValueT]:
    """`call(client, item)` for every item, `per_client` at a time on each of `clients`."""
    ordered = list(dict.fromkeys(items))
    total = len(ordered)
    done = [0] * len(clients)

    def shard_progress(index: int) -> Progress:
        def update(finished: int, _shard_total: int) -> None:
            done[index] = finished
            if on_progress is not None:
                on_progress(sum(done), total)

        return update

    def bound(client: AsyncMedblocks) -> Callable[[ItemT], Awaitable[ValueT]]:
        return lambda item: call(client, item)

    shards = await asyncio.gather(
        *(
            client.fan_out(
                bound(client),
                ordered[index :: len(clients)],
                concurrency=per_client,
                on_progress=shard_progress(index),
            )
            for index, client in enumerate(clients)
        )
    )
    results = {k: v for shard in shards for k, v in shard.results.items()}
    failures = {k: v for shard in shards for k, v in shard.failures.items()}
    return FanOutResult(
        results={item: results[item] for item in ordered if item in results},
        failures={item: failures[item] for item in ordered if item in failures},
    )
