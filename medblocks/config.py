"""Where the product talks to, read from the environment and `.env`.

Three targets follow from the configuration:

* nothing configured               -> a sandbox the product starts itself (kind `embedded`):
                                      the dashboard's embedded sandbox (on loopback), the
                                      in-process sandbox for `spec check`;
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

from dotenv import dotenv_values

from medblocks.client.checks import DEFAULT_API_URL, checked_base_url, key_environment
from medblocks.client.checks import LIVE_KEY_PREFIX as LIVE_KEY_PREFIX  # for contract_tests
from medblocks.spec import pinned_version

VARIABLES = (
    "MEDBLOCKS_API_KEY",
    "MEDBLOCKS_API_URL",
    "MEDBLOCKS_API_VERSION",
    "MEDBLOCKS_ALLOW_LIVE_WRITES",
)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")

TargetKind = Literal["embedded", "sandbox", "live"]
"""Which kind of server the settings select (the dashboard's `Target` is the connected one)."""


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """A validated configuration. `api_key` is None only for the embedded sandbox."""

    kind: TargetKind
    base_url: str | None
    api_version: str
    api_key: str | None = field(default=None, repr=False)
    allow_live_writes: bool = False

    @property
    def is_live(self) -> bool:
        return self.kind == "live"

    @property
    def writes_allowed(self) -> bool:
        """Sandbox targets always write; a live key writes only when explicitly enabled."""
        return not self.is_live or self.allow_live_writes

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"


def base_url_from(url: str) -> str:
    """MEDBLOCKS_API_URL checked by the client's own rule."""
    try:
        return checked_base_url(url, name="MEDBLOCKS_API_URL")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def kind_for_key(api_key: str) -> TargetKind:
    """The environment MEDBLOCKS_API_KEY belongs to, by the client's own rule."""
    try:
        return key_environment(api_key, name="MEDBLOCKS_API_KEY")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


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
        return Settings(kind="embedded", base_url=None, api_version=version)
    kind = kind_for_key(api_key)
    base_url = base_url_from(api_url or DEFAULT_API_URL)
    return Settings(
        kind=kind,
        base_url=base_url,
        api_version=version,
        api_key=api_key,
        allow_live_writes=allow_live_writes,
    )


def _read(
    names: tuple[str, ...], environ: Mapping[str, str] | None, dotenv_path: Path | str | None
) -> dict[str, str | None]:
    """`names` from the process environment, falling back to `.env` for unset ones."""
    environ = os.environ if environ is None else environ
    from_file = dotenv_values(dotenv_path) if dotenv_path and Path(dotenv_path).is_file() else {}
    return {name: environ.get(name) or from_file.get(name) for name in names}


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | str | None = ".env"
) -> Settings:
    """Read the process environment, falling back to `.env` for unset variables."""
    return settings_from(_read(VARIABLES, environ, dotenv_path))


ALLOWED_HOSTS_VARIABLE = "MEDBLOCKS_ALLOWED_HOSTS"
NETWORK_SIGNS_IN_VARIABLE = "MEDBLOCKS_NETWORK_SIGNS_IN"
ACCESS_VARIABLES = (ALLOWED_HOSTS_VARIABLE, NETWORK_SIGNS_IN_VARIABLE)
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)


@dataclass(frozen=True)
class DashboardAccess:
    """Who may reach the dashboard: `allowed_hosts` are the names (beyond the loopback ones)
    a browser may use for it (a team's proxy name); `network_signs_in` says the network in
    front (a sign-in proxy) authenticates people, so the dashboard may listen beyond loopback
    without `[auth]`."""

    allowed_hosts: frozenset[str] = frozenset()
    network_signs_in: bool = False


def access_from(values: Mapping[str, str | None]) -> DashboardAccess:
    """Validate MEDBLOCKS_ALLOWED_HOSTS (host names or IP addresses, comma-separated, no port
    or scheme) and MEDBLOCKS_NETWORK_SIGNS_IN (on/off)."""
    hosts: set[str] = set()
    for entry in (values.get(ALLOWED_HOSTS_VARIABLE) or "").split(","):
        name = entry.strip().lower()
        if not name:
            continue
        if not (_HOST_NAME.fullmatch(name) or _is_ip_address(name)):
            raise ConfigError(
                f"{ALLOWED_HOSTS_VARIABLE} lists host names separated by commas (for example "
                f"workbench.example.org,10.0.0.5), without scheme or port; {entry.strip()!r} is "
                "not one"
            )
        hosts.add(name.strip("[]"))
    return DashboardAccess(
        allowed_hosts=frozenset(hosts),
        network_signs_in=parse_flag(
            values.get(NETWORK_SIGNS_IN_VARIABLE), NETWORK_SIGNS_IN_VARIABLE
        ),
    )


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def load_access(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | str | None = ".env"
) -> DashboardAccess:
    """The dashboard's access settings from the environment, falling back to `.env`."""
    return access_from(_read(ACCESS_VARIABLES, environ, dotenv_path))


ROLES = ("viewer", "ops", "admin")
"""Who may do what on the dashboard, least first (`medblocks.dashboard.roles` holds the rules)."""


def roles_from(text: str | None) -> dict[str, str]:
    """`MEDBLOCKS_ROLES`: `email=role` pairs, comma-separated (e-mails compared in lower case)."""
    roles: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        email, sep, role = item.partition("=")
        email, role = email.strip().lower(), role.strip().lower()
        if not sep or "@" not in email or role not in ROLES:
            raise ConfigError(
                f"MEDBLOCKS_ROLES has an entry that is not e-mail=role ({item.strip()!r}); "
                f"write e.g. alice@example.org=ops, with a role among {', '.join(ROLES)}."
            )
        roles[email] = role
    return roles


def load_roles(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | str | None = ".env"
) -> dict[str, str]:
    """Each signed-in person's role from the environment, falling back to `.env`."""
    return roles_from(_read(("MEDBLOCKS_ROLES",), environ, dotenv_path).get("MEDBLOCKS_ROLES"))
