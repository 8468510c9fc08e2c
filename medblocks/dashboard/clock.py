"""One clock on every page: the server's.

Ages and "since" on the pages count to the server's now (this machine's clock minus the skew
`/health` measured), so a sandbox whose clock was advanced never shows a failure "in the
future". Times the mirror stamped with this machine's clock (when it first saw a connection
failing) are moved onto the server's clock the same way. A skew is said once, in words: for a
local sandbox, that its clock was moved; for any other server, that this machine's clock is off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from medblocks.dashboard.tables import age_text

IN_STEP_SECONDS = 5.0
"""Below this the clocks agree for every purpose of the pages (ages are whole seconds at best)."""


@dataclass(frozen=True)
class ServerClock:
    """`skew_seconds` is this machine's clock minus the server's (positive: we are ahead)."""

    skew_seconds: float = 0.0

    def now(self, local: datetime | None = None) -> datetime:
        """The server's now."""
        return (local or datetime.now(UTC)) - timedelta(seconds=self.skew_seconds)

    def from_local(self, times: pd.Series) -> pd.Series:
        """Times stamped with this machine's clock, on the server's."""
        return times - pd.Timedelta(seconds=self.skew_seconds)

    def seen_or_said(self, times: pd.Series, exact: pd.Series) -> pd.Series:
        """Times that are the server's where `exact`, else this machine's (the mirror's first
        sight), all on the server's clock."""
        return times.where(exact.astype(bool), self.from_local(times))

    @property
    def in_step(self) -> bool:
        return abs(self.skew_seconds) < IN_STEP_SECONDS

    def note(self, local_sandbox: bool) -> str | None:
        """The skew in words, or None when the clocks agree."""
        if self.in_step:
            return None
        gap = self._gap()
        ahead = self.skew_seconds < 0  # the server is ahead of this machine
        if local_sandbox:
            if ahead:
                return (
                    f"The sandbox clock has been advanced {gap} beyond real time: times and ages "
                    "on these pages are the sandbox's."
                )
            return f"The sandbox clock is {gap} behind real time: times and ages are the sandbox's."
        return (
            f"This computer's clock is {gap} {'behind' if ahead else 'ahead of'} the server's: "
            "times and ages on these pages are the server's."
        )

    def short(self, local_sandbox: bool) -> str:
        """For a tile: "in step", "sandbox +3 h", "this machine −2 min"."""
        if self.in_step:
            return "in step"
        sign = "+" if self.skew_seconds < 0 else "−"
        who = "sandbox" if local_sandbox else "server"
        return f"{who} {sign}{self._gap()}"

    def _gap(self) -> str:
        """The skew in words, to the nearest minute (a measured skew is off by the round trip:
        10,799.9 s is "3 h")."""
        seconds = abs(self.skew_seconds)
        return age_text(seconds if seconds < 60 else round(seconds / 60) * 60)
