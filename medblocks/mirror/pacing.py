"""Pacing the mirror's reads: a rate limit shared by every worker, and one pause for all of
them when the API answers 429.

`--rate N` is an `aiolimiter.AsyncLimiter` (a leaky bucket: N requests per second, no burst
above N). A 429 sets a resume time for every worker at once (its `Retry-After`, or the
client's backoff when the header is missing), so the sync stops knocking instead of each
worker discovering the limit on its own. Other retryable failures (connection errors, 502,
503, 504) wait the client's backoff; the rules themselves are the client's
(`medblocks.client.retries`), only the waiting is shared here. Every call sent is counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter

from medblocks.client import APIConnectionError, MedblocksError, RateLimitError
from medblocks.client import retries as client_retries

T = TypeVar("T")
MAX_ATTEMPTS = 12  # per call; 429s that keep coming this long are reported, not hidden
OTHER_RETRIES = 3


@dataclass
class PacerStats:
    requests: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0


class Pacer:
    """Sends reads for many workers under one rate and one 429 pause."""

    def __init__(self, rate: float | None = None) -> None:
        self.limiter = AsyncLimiter(rate, 1.0) if rate else None
        self.stats = PacerStats()
        self._resume_at = 0.0

    def pause_for(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    async def _wait_turn(self) -> None:
        while (delay := self._resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        if self.limiter is not None:
            await self.limiter.acquire()

    async def call(self, send: Callable[[], Awaitable[T]]) -> T:
        """Await `send()` (a client read made with `max_retries=0`) until it succeeds or fails
        for good; a final failure is counted and raised."""
        attempt = 0
        while True:
            await self._wait_turn()
            self.stats.requests += 1
            try:
                return await send()
            except RateLimitError as exc:
                self.stats.rate_limited += 1
                delay = exc.retry_after or client_retries.backoff_delay(min(attempt, 4))
                self.pause_for(delay)
                if attempt + 1 >= MAX_ATTEMPTS:
                    self.stats.failed += 1
                    raise
            except APIConnectionError as exc:
                cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
                decision = client_retries.after_exception("GET", cause, attempt, OTHER_RETRIES)
                if not decision.retry:
                    self.stats.failed += 1
                    raise
                await asyncio.sleep(decision.delay)
            except MedblocksError as exc:
                decision = client_retries.after_status(
                    "GET", exc.http_status or 0, exc.retry_after, attempt, OTHER_RETRIES
                )
                if not decision.retry:
                    self.stats.failed += 1
                    raise
                await asyncio.sleep(decision.delay)
            attempt += 1
            self.stats.retried += 1


def describe_failure(exc: BaseException) -> str:
    """A failure for logs and the mirror's notes: request id, status, type/code, operation;
    never the server's message (it could echo a name or an email)."""
    if isinstance(exc, MedblocksError):
        status = f"HTTP {exc.http_status}" if exc.http_status is not None else "no response"
        kind = "/".join(part for part in (exc.type, exc.code) if part)
        where = f" [{exc.operation}]" if exc.operation else ""
        return f"{exc.request_id or 'no request id'}: {status} {kind}{where}".rstrip()
    return type(exc).__name__
