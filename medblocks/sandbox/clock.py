"""The sandbox clock: real UTC time plus an offset that the sandbox controls can advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from medblocks.sandbox.storage.store import Store

CLOCK_OFFSET_KEY = "clock_offset_seconds"


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
        self._offset = float(store.get_state(CLOCK_OFFSET_KEY) or 0.0)

    @property
    def offset_seconds(self) -> float:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def now_iso(self) -> str:
        return iso(self.now())

    def advance(self, seconds: float) -> datetime:
        """Move the sandbox clock forward by `seconds` (persisted) and return the new now."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds
        self._store.set_state(CLOCK_OFFSET_KEY, repr(self._offset))
        return self.now()
