"""When a failed call is tried again, and after how long.

Written by hand rather than with a retry library because the rule depends on facts only the
caller knows: whether the request may already have reached the server (Medblocks has no
idempotency key, so a write is never sent twice), the status, and the server's `Retry-After`.

- GET: retried on connection errors and timeouts, and on 408, 429, 502, 503, 504.
- POST, PUT, PATCH, DELETE: retried only on a connection error raised before the request was
  sent (the connection could not be made or no pooled connection was free).
- Wait: `Retry-After` when the server sends it, up to 60 s (a longer wait is not retried and
  the error says so); otherwise `min(0.5 * 2**n, 8)` seconds for retry n (0-based), scaled by
  a random factor in [0.75, 1] so that clients that failed together do not return together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD"})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
JITTER_FLOOR = 0.75
RETRY_AFTER_CAP = 60.0
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
SAFE_RETRY_ERRORS: tuple[type[Exception], ...] = (
    httpx.NetworkError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
)


def backoff_delay(retry: int, rand: float | None = None) -> float:
    """Seconds before retry number `retry` (0-based) when the server gave no `Retry-After`."""
    ceiling = min(BACKOFF_BASE * 2**retry, BACKOFF_CAP)
    factor = JITTER_FLOOR + (1 - JITTER_FLOOR) * (random.random() if rand is None else rand)
    return ceiling * factor


@dataclass(frozen=True)
class Decision:
    """Retry after `delay` seconds, or give up; `reason` says why in a log line."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


def after_exception(method: str, exc: Exception, retries_done: int, max_retries: int) -> Decision:
    """Whether a call that got no HTTP answer is tried again."""
    if method in SAFE_METHODS:
        retryable = isinstance(exc, SAFE_RETRY_ERRORS)
    else:
        retryable = isinstance(exc, NOT_SENT_ERRORS)
    if not retryable:
        why = "a write that may have reached the server is never retried"
        return Decision(False, reason=why if method not in SAFE_METHODS else "not retryable")
    if retries_done >= max_retries:
        return Decision(False, reason=f"gave up after {retries_done} retries")
    return Decision(True, backoff_delay(retries_done), type(exc).__name__)


def after_status(
    method: str, status: int, retry_after: float | None, retries_done: int, max_retries: int
) -> Decision:
    """Whether a call answered with a non-2xx `status` is tried again."""
    if status not in RETRY_STATUSES:
        return Decision(False, reason="not retryable")
    if method not in SAFE_METHODS:
        return Decision(False, reason="a write is never retried")
    if retries_done >= max_retries:
        return Decision(False, reason=f"gave up after {retries_done} retries")
    if retry_after is not None:
        if retry_after > RETRY_AFTER_CAP:
            return Decision(
                False,
                reason=f"Retry-After of {retry_after:.0f} s exceeds the {RETRY_AFTER_CAP:.0f} s "
                "the client waits; not retried",
            )
        return Decision(True, retry_after, f"HTTP {status}, Retry-After {retry_after:g} s")
    return Decision(True, backoff_delay(retries_done), f"HTTP {status}")
