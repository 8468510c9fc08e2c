"""Keeping a contract run within the target's rate limit, so that its requests are answered
rather than refused with 429 (a refused valid request fails its check, and a write is never
retried).

One `Pacer` per run, shared by every thread that sends: requests start at most `per_second` a
second, evenly spaced (the sandbox's token bucket holds a tenth of a second's worth, so
bunched requests would be refused even below the limit), and after a 429 no request starts
until its `Retry-After` has passed. The rate comes from the target when it says (a sandbox's
faults control: half its limit, because a server that is busy answers in bunches and its
bucket holds little), else from `MEDBLOCKS_CONTRACT_RATE`, else there is none
until a first 429, which sets a cautious one. The per-event redelivery limit (1 a minute) is
not the key's rate: `harness.RunHooks` waits that out for its route alone.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx
from pyrate_limiter import Limiter

RATE_ENV = "MEDBLOCKS_CONTRACT_RATE"  # requests per second, for a target that does not say
SHARE_OF_LIMIT = 0.5
RATE_AFTER_FIRST_429 = 5.0
SLOWER_AFTER_429 = 0.75
# A read refused by the key's rate limit is sent again once its Retry-After has passed (a read
# changes nothing); a write never is. At most this many times.
READ_RETRIES = 3
READS = ("GET", "HEAD")


# The one documented limit of a resource rather than of the key: one redelivery of an event a
# minute. Its 429 holds back that route only (`harness.RunHooks`), never the whole run.
PER_RESOURCE_LIMIT = re.compile(r"/events/[^/]+/redeliver")


def per_resource_limit(method: str, path: str) -> bool:
    return method.upper() == "POST" and PER_RESOURCE_LIMIT.fullmatch(path) is not None


def retry_throttled_read(method: str, status: int, attempt: int) -> bool:
    """Whether an answer of the key's rate limit to a read is asked again (after the hold)."""
    return status == 429 and method.upper() in READS and attempt < READ_RETRIES


class PacedTransport(httpx.HTTPTransport):
    """httpx's transport for the hand-written requests: paced, a 429 of the key's limit held
    and slowed for, and a refused read asked again once its Retry-After has passed."""

    def __init__(self, pacer: Pacer) -> None:
        super().__init__()
        self.pacer = pacer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            self.pacer.wait()
            response = super().handle_request(request)
            if response.status_code != 429 or per_resource_limit(request.method, request.url.path):
                return response
            self.pacer.throttled_for(retry_after_seconds(response.headers.get("retry-after")) or 1)
            if not retry_throttled_read(request.method, response.status_code, attempt):
                return response
            response.close()
            attempt += 1


class Pacer:
    def __init__(self, per_second: float | None = None) -> None:
        self.per_second = per_second
        self.throttled = 0  # 429s answered to the run
        self.waited = 0.0  # seconds spent waiting, in all threads together
        self._next_start = 0.0
        self._hold_until = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this request may start."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start, self._hold_until)
            if self.per_second:
                self._next_start = start + 1.0 / self.per_second
            pause = start - now
            self.waited += pause
        if pause > 0:
            time.sleep(pause)

    def throttled_for(self, seconds: float) -> None:
        """A 429 with `Retry-After: seconds` for the key: hold every request, and slow down."""
        with self._lock:
            self.throttled += 1
            self._hold_until = max(self._hold_until, time.monotonic() + seconds)
            if self.per_second:
                self.per_second *= SLOWER_AFTER_429
            else:
                self.per_second = RATE_AFTER_FIRST_429


def retry_after_seconds(value: str | None) -> int | None:
    """`Retry-After` in whole seconds (at least 1, as the spec's header says), None if absent."""
    try:
        return max(1, int(value)) if value is not None else None
    except ValueError:
        return None


class PacedLimiter(Limiter):
    """The run's `Pacer` in the place schemathesis asks for a rate limiter (its `rate-limit`
    setting), so that every request it sends is paced, the extra ones its checks send
    (`ignored_auth`'s requests without a key) included."""

    def __init__(self, pacer: Pacer) -> None:  # no buckets of its own: the pacer decides
        self.pacer = pacer

    def try_acquire(self, name: str = "", weight: int = 1, *args: Any, **kwargs: Any) -> bool:
        self.pacer.wait()
        return True
