"""Which API the dashboard talks to, and the clients for it.

`connected_target(settings)` is the one way from configuration to a server the dashboard can
call: for the embedded kind it starts the embedded sandbox in a background thread once per
process (with its demo organisation) and talks to it over loopback.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.config import Settings, TargetKind
from medblocks.loopback import is_loopback_host
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from medblocks.spec import pinned_version

LABELS = {
    "embedded": "Embedded sandbox (local emulator, demo data)",
    "sandbox": "Medblocks sandbox workspace",
    "live": "LIVE — production Medblocks, real patient data",
}
MEDBLOCKS_DOMAIN = "medblocks.com"

Place = Literal["loopback", "medblocks", "elsewhere"]


def place_of(base_url: str) -> Place:
    """Where a base URL points: this machine, a Medblocks host, or somewhere else."""
    hostname = urlsplit(base_url).hostname
    if is_loopback_host(hostname):
        return "loopback"
    host = (hostname or "").lower().rstrip(".")
    if host == MEDBLOCKS_DOMAIN or host.endswith("." + MEDBLOCKS_DOMAIN):
        return "medblocks"
    return "elsewhere"


_embedded_lock = threading.Lock()
_embedded: RunningSandbox | None = None


@dataclass(frozen=True)
class Target:
    """A resolved target: where to send requests and what the dashboard may do there."""

    kind: TargetKind
    base_url: str
    api_version: str
    writes_allowed: bool
    api_key: str  # never rendered; repr hides it

    def __repr__(self) -> str:
        return f"Target(kind={self.kind!r}, base_url={self.base_url!r})"

    @property
    def place(self) -> Place:
        return "loopback" if self.kind == "embedded" else place_of(self.base_url)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def label(self) -> str:
        """What the target is, by its key *and* its URL: a key's prefix alone can mislead."""
        if self.kind == "embedded" or self.place == "medblocks":
            return LABELS[self.kind]
        key = "live" if self.is_live else "sandbox"
        if self.place == "loopback":
            what = "Local sandbox" if self.kind == "sandbox" else "A local server"
            return f"{what} at {self.host} with a {key} key — not Medblocks"
        return f"{self.host} with a {key} key — not a Medblocks address"

    @property
    def is_live(self) -> bool:
        """A `mb_sk_live_` key: read-only unless live writes are allowed, wherever it points."""
        return self.kind == "live"

    @property
    def is_production(self) -> bool:
        """A live key sent to a Medblocks host: real patient data."""
        return self.is_live and self.place == "medblocks"

    @property
    def is_local_sandbox(self) -> bool:
        """The embedded sandbox, or a sandbox key on this machine: the /_sandbox/ levers exist."""
        return self.kind == "embedded" or (self.kind == "sandbox" and self.place == "loopback")

    @property
    def version_matches_spec(self) -> bool:
        return self.api_version == pinned_version()

    def client(self, **options: Any) -> Medblocks:
        return Medblocks(
            self.api_key, base_url=self.base_url, api_version=self.api_version, **options
        )

    def async_client(self, **options: Any) -> AsyncMedblocks:
        return AsyncMedblocks(
            self.api_key, base_url=self.base_url, api_version=self.api_version, **options
        )


def embedded_sandbox() -> RunningSandbox:
    """The process's embedded sandbox, started on first use (in memory, demo data seeded)."""
    global _embedded
    with _embedded_lock:
        if _embedded is None:
            _embedded = start_in_thread(SandboxConfig(db_path=None, seed_demo=True))
        return _embedded


def connected_target(settings: Settings) -> Target:
    """The server `settings` select, ready to call (the embedded sandbox started if needed)."""
    if settings.is_embedded:
        sandbox = embedded_sandbox()
        return Target(
            kind="embedded",
            base_url=sandbox.base_url,
            api_version=settings.api_version,
            writes_allowed=True,
            api_key=sandbox.api_key,
        )
    assert settings.base_url is not None and settings.api_key is not None
    return Target(
        kind=settings.kind,
        base_url=settings.base_url,
        api_version=settings.api_version,
        writes_allowed=settings.writes_allowed,
        api_key=settings.api_key,
    )
