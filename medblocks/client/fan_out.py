"""Bounded-concurrency fan-out for reads: one call per item, never more than N in flight.

The API has no org-wide view of sessions or connection health, so such a view calls one
operation per patient. `fan_out` runs those calls with a fixed number of workers, keeps going
past calls that fail with a `MedblocksError` and reports them beside the results. Anything
else (a bug) propagates. Each failure was already logged, with its request id, by the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from medblocks.client.errors import MedblocksError

ItemT = TypeVar("ItemT", bound=Hashable)
ValueT = TypeVar("ValueT")
ProgressCallback = Callable[[int, int], None]


@dataclass
class FanOutResult(Generic[ItemT, ValueT]):
    """`results` and `failures` keyed by item, each in the order the items were given."""

    results: dict[ItemT, ValueT] = field(default_factory=dict)
    failures: dict[ItemT, MedblocksError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


async def fan_out(
    func: Callable[[ItemT], Awaitable[ValueT]],
    items: Iterable[ItemT],
    *,
    concurrency: int = 16,
    on_progress: ProgressCallback | None = None,
) -> FanOutResult[ItemT, ValueT]:
    """Await `func(item)` for every distinct item, at most `concurrency` at a time.

    `on_progress(done, total)` is called after each item, success or failure.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    ordered = list(dict.fromkeys(items))
    total = len(ordered)
    values: dict[ItemT, ValueT] = {}
    errors: dict[ItemT, MedblocksError] = {}
    pending = iter(ordered)

    async def worker() -> None:
        for item in pending:
            try:
                values[item] = await func(item)
            except MedblocksError as error:
                errors[item] = error
            if on_progress is not None:
                on_progress(len(values) + len(errors), total)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    return FanOutResult(
        results={item: values[item] for item in ordered if item in values},
        failures={item: errors[item] for item in ordered if item in errors},
    )
