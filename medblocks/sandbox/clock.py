"""The sandbox clock: real UTC time plus an offset that the sandbox controls can advance."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

from medblocks.sandbox.storage.store import Store

log = logging.getLogger("medblocks.sandbox")

CLOCK_OFFSET_KEY = "clock_offset_seconds"
# The sandbox clock never passes this, so every timestamp it hands out, plus the longest
# lifetime added to one (cursors, expiries, retries, scheduled refresh failures), stays a
# four-digit year that Python and ISO 8601 can represent.
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`, the form every sandbox timestamp takes."""
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def parse_iso(text: str) -> datetime:
    """Read back a timestamp written by `iso` (or any ISO 8601 string with an offset)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


class SandboxClock:
    """`now()` is the wall clock shifted by an offset persisted in `sandbox_state`.

    Time only moves forward: `advance` adds to the offset. Everything time-dependent
    (session expiry, redelivery limits, cursor lifetimes, webhook retries) reads this clock.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._offset = self._stored_offset()

    def _stored_offset(self) -> float:
        """The offset kept in the database, or 0 (reported) when that row is not usable."""
        text = self._store.get_state(CLOCK_OFFSET_KEY)
        if text is None:
            return 0.0
        try:
            offset = float(text)
            usable = offset >= 0 and math.isfinite(offset) and _reachable(offset)
        except (ValueError, OverflowError):
            usable = False
        if not usable:
            log.warning(
                "ignoring the stored sandbox clock offset (%s): not a finite number of seconds "
                "before %s; the clock starts at real time",
                CLOCK_OFFSET_KEY,
                LATEST.date(),
            )
            return 0.0
        return offset

    @property
    def offset_seconds(self) -> float:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def now_iso(self) -> str:
        return iso(self.now())

    def later_by(self, seconds: float) -> datetime:
        """The sandbox time `seconds` from now; ValueError past `LATEST` (or not a number)."""
        if not math.isfinite(seconds) or not _reachable(self._offset + seconds):
            raise ValueError(f"the sandbox clock cannot pass {LATEST.date()}")
        return self.now() + timedelta(seconds=seconds)

    def advance(self, seconds: float) -> datetime:
        """Move the sandbox clock forward by `seconds` (persisted) and return the new now."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.later_by(seconds)
        self._offset += seconds
        self._store.set_state(CLOCK_OFFSET_KEY, repr(self._offset))
        return self.now()


def _reachable(offset: float) -> bool:
    """Whether real time plus `offset` seconds is still before `LATEST`."""
    try:
        return datetime.now(UTC) + timedelta(seconds=offset) < LATEST
    except OverflowError:
        return False
