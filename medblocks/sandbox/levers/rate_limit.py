"""A sustained per-key request limit, as production answers a client that sends too fast.

One token bucket per key (pyrate-limiter's `TokenBucket`, kept as one number): it refills at
`per_second` tokens a second and holds a tenth of a second's worth (at least one), so a burst
passes only briefly and the admitted rate over any few seconds stays at `per_second`. A
refused request spends nothing; its `Retry-After` is the wait until the next token, rounded
up to whole seconds (at least 1, as the spec's header requires), so waiting it out succeeds.
Time is the real monotonic clock: the sandbox clock's jumps never refill a bucket.
"""

from __future__ import annotations

import math
import threading
import time

from pyrate_limiter import Duration, Rate, RateItem, StateBucket, TokenBucket

# Requests that do not carry the sandbox's key share one bucket, so a flood of made-up keys
# cannot grow the table.
OTHER_KEYS = ""


class PerKeyLimit:
    """The buckets of one sandbox at one rate (a new rate makes a new `PerKeyLimit`)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._rate = Rate(per_second, Duration.SECOND, burst=max(1, math.ceil(per_second / 10)))
        self._buckets: dict[str, StateBucket] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """None when `key` may send this request now, else the seconds to wait (≥ 1)."""
        item = RateItem(key, int(time.monotonic() * 1000))
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = StateBucket([self._rate], algorithm=TokenBucket())
            if bucket.put(item):
                return None
            wait_ms = bucket.waiting(item)
        assert isinstance(wait_ms, int)  # the in-memory store answers synchronously
        return max(1, math.ceil(wait_ms / 1000))
