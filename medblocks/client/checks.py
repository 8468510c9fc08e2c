"""The client's own checks on where it sends the key: an http(s) base URL (plain http only to
loopback, as `medblocks.loopback` defines it) and a key of a known shape. Configuration reuses
them for its variables; the client needs nothing from configuration.

Messages name the argument (or variable) and never contain the key.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from medblocks.loopback import is_loopback_host

DEFAULT_API_URL = "https://app.medblocks.com"
SANDBOX_KEY_PREFIX = "mb_sk_sbx_"
LIVE_KEY_PREFIX = "mb_sk_live_"

KeyEnvironment = Literal["sandbox", "live"]


def checked_base_url(url: str, name: str = "base_url") -> str:
    """`url` without a trailing slash, or `ValueError` when it is not a usable API base URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{name} must be an absolute http(s) URL such as {DEFAULT_API_URL}, got {url!r}"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            f"{name} must use https; plain http is allowed only for loopback hosts "
            f"(localhost, 127.0.0.1, ::1), got host {parts.hostname!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"{name} must not carry a query string or fragment")
    return url.strip().rstrip("/")


def key_environment(api_key: object, name: str = "api_key") -> KeyEnvironment:
    """Which environment a key belongs to, from its prefix; `ValueError` for anything else."""
    key = api_key.strip() if isinstance(api_key, str) else ""
    if key.startswith(SANDBOX_KEY_PREFIX) and len(key) > len(SANDBOX_KEY_PREFIX):
        return "sandbox"
    if key.startswith(LIVE_KEY_PREFIX) and len(key) > len(LIVE_KEY_PREFIX):
        return "live"
    raise ValueError(
        f"{name} must start with {SANDBOX_KEY_PREFIX} (sandbox workspace) or {LIVE_KEY_PREFIX} "
        "(production) followed by the key body; the value given has neither prefix "
        "(there is no mb_sk_test_ key)"
    )
