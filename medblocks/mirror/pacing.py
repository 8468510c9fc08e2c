"""Pacing the mirror's reads: a rate limit shared by every worker, and one pause for all of
them when the API answers 429.

`--rate N` is an `aiolimiter.AsyncLimiter` (a leaky bucket: N requests per second, in
bursts of at most a tenth of a second's worth, as servers' token buckets allow little burst).
A 429 sets a resume time for every worker at once (its `Retry-After`, or the client's
backoff when the header is missing), so the sync stops knocking instead of each worker
discovering the limit on its own. Without `--rate`, a 429 also sets a limiter: at first at
80% of the rate that had succeeded, then 80% of the current pace at each new overrun, and a
tenth faster after every 5 s without one; so the workers, released together after a pause, do
not all meet the limit again at once.
Other retryable failures (connection errors, 502, 503, 504) wait the client's backoff; the
rules themselves are the client's (`medblocks.client.retries`), only the waiting is shared
here. Every call sent is counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter

from medblocks.client import APIConnectionError, MedblocksError, PaginationError, RateLimitError
from medblocks.client import retries as client_retries

T = TypeVar("T")
MAX_ATTEMPTS = 12  # per call; 429s that keep coming this long are reported, not hidden
OTHER_RETRIES = 3
BURST_PERIOD_S = 0.1
ADAPT_SHARE = 0.8
ADAPT_MIN_SPAN_S = 0.1
ADAPT_CALM_S = 5.0


@dataclass
class PacerStats:
    requests: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0


def limiter_for(rate: float) -> AsyncLimiter:
    """`rate` requests a second, at most a tenth of a second's worth at once (at least one)."""
    period = max(BURST_PERIOD_S, 1.0 / rate)
    return AsyncLimiter(rate * period, period)


class Pacer:
    """Sends reads for many workers under one rate and one 429 pause."""

    def __init__(self, rate: float | None = None) -> None:
        self.rate = rate or None
        self.limiter = limiter_for(rate) if rate else None
        self.adaptive = not rate
        self.stats = PacerStats()
        self._resume_at = 0.0
        self._counted_from = self._calm_since = time.monotonic()
        self._successes = 0

    def pause_for(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def _slow_down(self) -> None:
        """A 429 without `--rate`: pace at a share of the rate that succeeded so far, or cut
        the pace again. The 429s of requests already on their way when the pause began
        belong to the same overrun and do not cut it twice."""
        now = time.monotonic()
        if not self.adaptive or now < self._resume_at:
            return
        if self.rate is None:
            span = max(now - self._counted_from, ADAPT_MIN_SPAN_S)
            rate = ADAPT_SHARE * max(self._successes, 1) / span
        else:
            rate = ADAPT_SHARE * self.rate
        self.rate, self.limiter = rate, limiter_for(rate)
        self._calm_since = now

    def _speed_up(self) -> None:
        """Without `--rate`: every `ADAPT_CALM_S` without a 429, pace a tenth faster."""
        now = time.monotonic()
        if self.adaptive and self.rate is not None and now - self._calm_since > ADAPT_CALM_S:
            self.rate *= 1.1
            self.limiter = limiter_for(self.rate)
            self._calm_since = now

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
                result = await send()
            except RateLimitError as exc:
                self.stats.rate_limited += 1
                delay = exc.retry_after or client_retries.backoff_delay(min(attempt, 4))
                self._slow_down()
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
            else:
                self._successes += 1
                self._speed_up()
                return result
            attempt += 1
            self.stats.retried += 1


def describe_failure(exc: BaseException) -> str:
    """A failure for logs and the mirror's notes: request id, status, type/code, operation;
    never the server's message (it could echo a name or an email). A stopped list is described
    by its own message (ours: the operation, the reason and the cursor)."""
    if isinstance(exc, PaginationError):
        return str(exc)
    if isinstance(exc, MedblocksError):
        status = f"HTTP {exc.http_status}" if exc.http_status is not None else "no response"
        kind = "/".join(part for part in (exc.type, exc.code) if part)
        where = f"[{exc.operation}]" if exc.operation else ""
        said = " ".join(part for part in (status, kind, where) if part)
        return f"{exc.request_id or 'no request id'}: {said}"
    return type(exc).__name__
