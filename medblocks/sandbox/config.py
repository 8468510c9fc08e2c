"""How one sandbox instance is configured: storage, the accepted key, seeding."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from medblocks.sandbox.ids import new_ulid

API_KEY_ENV = "MEDBLOCKS_SANDBOX_API_KEY"
SANDBOX_KEY_PREFIX = "mb_sk_sbx_"
DEFAULT_DATA_DIR = Path(".sandbox")
DEFAULT_DB_PATH = DEFAULT_DATA_DIR / "sandbox.sqlite3"


def resolve_api_key(explicit: str | None) -> str:
    """The key the sandbox accepts: explicit, else the environment, else a fresh random one."""
    if explicit:
        return explicit
    from_env = os.environ.get(API_KEY_ENV, "").strip()
    if from_env:
        return from_env
    return f"{SANDBOX_KEY_PREFIX}{new_ulid()}"


def checked_public_url(url: str) -> str:
    """`url` without a trailing slash; ValueError unless it is an http(s) base URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the public URL must be an http or https URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the public URL takes no query, fragment or credentials")
    return url.rstrip("/")


@dataclass(frozen=True)
class SandboxConfig:
    """Settings of one sandbox.

    `db_path` None keeps everything in memory; `api_key` None reads `MEDBLOCKS_SANDBOX_API_KEY`
    or mints a random `mb_sk_sbx_` key; `expired_api_keys` answer 401 `expired_api_key`;
    `seed_demo` builds the demo organisation on a first start; `seed_patients` adds that many
    extra patients for scale work; `random_seed` makes the seed deterministic; `public_url` is
    the base of every URL the sandbox hands out (None: the address a request reached);
    `rate_limit_per_second` starts the sandbox with that sustained limit per key (None keeps
    what the faults control stored; 0 is off); `organisation_name` is the name the hosted page
    gives the app when a session has no `return_button_label` (the API carries no app name);
    `hosted_test_mode` shows the hosted page's test-mode badge, personas, EHR vendors and test
    servers (False: the page as a live organisation's patients see it).
    """

    db_path: Path | str | None = None
    api_key: str | None = None
    expired_api_keys: frozenset[str] = field(default_factory=frozenset)
    seed_demo: bool = True
    seed_patients: int = 0
    random_seed: int = 0
    public_url: str | None = None
    rate_limit_per_second: int | None = None
    organisation_name: str = "Demo Health"
    hosted_test_mode: bool = True

    def __post_init__(self) -> None:
        if self.public_url is not None:
            object.__setattr__(self, "public_url", checked_public_url(self.public_url))
        if self.rate_limit_per_second is not None and self.rate_limit_per_second < 0:
            raise ValueError("rate_limit_per_second must be 0 (off) or more")
        if not self.organisation_name.strip() or len(self.organisation_name) > 60:
            raise ValueError("organisation_name must be 1 to 60 characters")
