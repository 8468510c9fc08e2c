"""The Overview's server check: `/health`, and our clock's skew against the server's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from medblocks.client import Medblocks


@dataclass(frozen=True)
class HealthCheck:
    ok: bool
    server_time: datetime
    skew_seconds: float


def check_health(client: Medblocks) -> HealthCheck:
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
    )
