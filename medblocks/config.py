"""Where the product talks to, read from the environment and `.env`.

Three targets follow from the configuration:

* nothing configured               -> the embedded sandbox (started in-process on demand);
* a `mb_sk_sbx_` key (+ optional URL) -> a Medblocks sandbox workspace, or a local sandbox;
* a `mb_sk_live_` key              -> production, with real PHI.

Every invalid value raises `ConfigError` with a message naming the variable and the fix.
The key itself never appears in a message or in `repr()`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from medblocks.spec import pinned_version

DEFAULT_API_URL = "https://app.medblocks.com"
SANDBOX_KEY_PREFIX = "mb_sk_sbx_"
LIVE_KEY_PREFIX = "mb_sk_live_"
VARIABLES = (
    "MEDBLOCKS_API_KEY",
    "MEDBLOCKS_API_URL",
    "MEDBLOCKS_API_VERSION",
    "MEDBLOCKS_ALLOW_LIVE_WRITES",
)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")

Target = Literal["embedded", "sandbox", "live"]


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """A validated configuration. `api_key` is None only for the embedded sandbox."""

    target: Target
    base_url: str | None
    api_version: str
    api_key: str | None = field(default=None, repr=False)
    allow_live_writes: bool = False

    @property
    def is_live(self) -> bool:
        return self.target == "live"

    @property
    def writes_allowed(self) -> bool:
        """Sandbox targets always write; a live key writes only when explicitly enabled."""
        return not self.is_live or self.allow_live_writes

    @property
    def is_embedded(self) -> bool:
        return self.target == "embedded"


def is_loopback_host(host: str | None) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1: the only hosts allowed over plain http."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_base_url(url: str, variable: str = "MEDBLOCKS_API_URL") -> str:
    """Return `url` without a trailing slash, or raise when it is not a usable API base URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{variable} must be an absolute http(s) URL such as {DEFAULT_API_URL}, got {url!r}"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{variable} must use https; plain http is allowed only for loopback hosts "
            f"(localhost, 127.0.0.1, ::1), got host {parts.hostname!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{variable} must not carry a query string or fragment")
    return url.strip().rstrip("/")


def target_for_key(api_key: str) -> Target:
    """The environment a key belongs to, from its prefix; raise for anything else."""
    if api_key.startswith(SANDBOX_KEY_PREFIX) and len(api_key) > len(SANDBOX_KEY_PREFIX):
        return "sandbox"
    if api_key.startswith(LIVE_KEY_PREFIX) and len(api_key) > len(LIVE_KEY_PREFIX):
        return "live"
    raise ConfigError(
        "MEDBLOCKS_API_KEY must start with mb_sk_sbx_ (sandbox workspace) or mb_sk_live_ "
        "(production) followed by the key body; the value set has neither prefix "
        "(there is no mb_sk_test_ key)"
    )


def validate_version(version: str) -> str:
    """A `Version` header value must be a real calendar date written YYYY-MM-DD."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
        raise ConfigError(
            f"MEDBLOCKS_API_VERSION must be a date written YYYY-MM-DD (for example "
            f"{pinned_version()}), got {version!r}"
        )
    try:
        date.fromisoformat(version)
    except ValueError as exc:
        raise ConfigError(f"MEDBLOCKS_API_VERSION {version!r} is not a real calendar date") from exc
    return version


def parse_flag(value: str | None, variable: str) -> bool:
    """An on/off variable: 1/true/yes/on or 0/false/no/off (any case); unset is off."""
    word = (value or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{variable} must be true or false (1/0, yes/no, on/off), got {value!r}")


def settings_from(values: Mapping[str, str | None]) -> Settings:
    """Validate a mapping of the MEDBLOCKS_* variables (empty strings count as unset)."""
    api_key = (values.get("MEDBLOCKS_API_KEY") or "").strip() or None
    api_url = (values.get("MEDBLOCKS_API_URL") or "").strip() or None
    version = validate_version(
        (values.get("MEDBLOCKS_API_VERSION") or "").strip() or pinned_version()
    )
    allow_live_writes = parse_flag(
        values.get("MEDBLOCKS_ALLOW_LIVE_WRITES"), "MEDBLOCKS_ALLOW_LIVE_WRITES"
    )
    if api_key is None:
        if api_url is not None:
            raise ConfigError(
                "MEDBLOCKS_API_URL is set but MEDBLOCKS_API_KEY is not: set a key for that "
                "server, or unset both to use the embedded sandbox"
            )
        return Settings(target="embedded", base_url=None, api_version=version)
    target = target_for_key(api_key)
    base_url = validate_base_url(api_url or DEFAULT_API_URL)
    return Settings(
        target=target,
        base_url=base_url,
        api_version=version,
        api_key=api_key,
        allow_live_writes=allow_live_writes,
    )


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | str | None = ".env"
) -> Settings:
    """Read the process environment, falling back to `.env` for unset variables."""
    environ = os.environ if environ is None else environ
    from_file = dotenv_values(dotenv_path) if dotenv_path and Path(dotenv_path).is_file() else {}
    merged = {name: environ.get(name) or from_file.get(name) for name in VARIABLES}
    return settings_from(merged)
