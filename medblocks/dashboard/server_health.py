"""The server check: `/health`, our clock's skew against the server's, and what to do when
nothing answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from medblocks.client import Medblocks
from medblocks.client.errors import APIConnectionError, APITimeoutError
from medblocks.dashboard.target import Place


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


def unreachable_advice(base_url: str, place: Place, exc: BaseException) -> str | None:
    """For a connection error or timeout: the URL that did not answer and the likely fix.

    None for any other error (those carry a request id and are explained where they happen).
    """
    if isinstance(exc, APITimeoutError):
        what = f"{base_url} did not answer in time."
    elif isinstance(exc, APIConnectionError):
        what = f"Nothing answered at {base_url}."
    else:
        return None
    if place == "loopback":
        fix = (
            "Is the local sandbox running? Start it with `python -m medblocks.sandbox --port "
            "<port>` (it prints its key), or unset MEDBLOCKS_API_URL and MEDBLOCKS_API_KEY to "
            "let the dashboard start its embedded sandbox."
        )
    elif place == "medblocks":
        fix = (
            "Check this machine's network access to Medblocks (proxy, firewall, DNS); the "
            "address itself is a Medblocks one."
        )
    else:
        fix = (
            "Check MEDBLOCKS_API_URL: Medblocks is https://app.medblocks.com; a local sandbox "
            "is http://127.0.0.1:<port>."
        )
    return f"{what} {fix} Restart the dashboard after changing the configuration."
