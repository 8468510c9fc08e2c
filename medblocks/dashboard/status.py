"""The Overview's status line: `/health`, clock skew against the server, the Version sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from medblocks.client import Medblocks
from medblocks.spec import pinned_version


@dataclass(frozen=True)
class HealthCheck:
    ok: bool
    server_time: datetime
    skew_seconds: float
    version_sent: str
    version_pinned: str

    @property
    def version_matches(self) -> bool:
        return self.version_sent == self.version_pinned


def check_health(client: Medblocks, version_sent: str) -> HealthCheck:
    """Call `/health`; skew is local clock minus `server_time` (positive: we are ahead)."""
    before = datetime.now(UTC)
    answer = client.health()
    after = datetime.now(UTC)
    server_time = datetime.fromisoformat(str(answer.server_time).replace("Z", "+00:00"))
    if server_time.tzinfo is None:
        server_time = server_time.replace(tzinfo=UTC)
    midpoint = before + (after - before) / 2
    return HealthCheck(
        ok=bool(answer.ok),
        server_time=server_time,
        skew_seconds=(midpoint - server_time).total_seconds(),
        version_sent=version_sent,
        version_pinned=pinned_version(),
    )
