"""Which browser sessions the dashboard serves, decided before any page reads data.

- **Its own hosts only.** A session's `Host` (and its `Origin`, when the browser sends one)
  must name the dashboard: a loopback name (`localhost`, 127.0.0.0/8, `::1`) or one listed in
  MEDBLOCKS_ALLOWED_HOSTS. A page on another site that points its own name at this machine (DNS
  rebinding) reaches the dashboard under that foreign name, and is refused; so is a page of
  another site opening the dashboard's websocket (a foreign `Origin`, or `null`).
- **No network exposure without a sign-in.** Listening beyond loopback (`--server.address
  0.0.0.0`, or no address, which is every interface) is refused unless `[auth]` (OIDC) is
  configured or MEDBLOCKS_NETWORK_SIGNS_IN says a proxy in front signs people in.

A run with no request headers at all belongs to no browser connection (Streamlit's AppTest,
bare mode): a websocket handshake always carries headers, so every real session is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from medblocks.config import ALLOWED_HOSTS_VARIABLE, NETWORK_SIGNS_IN_VARIABLE, DashboardAccess
from medblocks.loopback import is_loopback_host


def host_of(value: str | None, *, url: bool) -> str | None:
    """The lower-case host name of a `Host` header (`url=False`) or an `Origin` (`url=True`);
    None when there is none or it cannot be read."""
    if not value:
        return None
    try:
        parts = urlsplit(value if url else "//" + value)
        _ = parts.port  # a malformed port raises here
    except ValueError:
        return None
    if url and parts.scheme not in ("http", "https"):
        return None
    return parts.hostname or None


def is_allowed_host(host: str | None, access: DashboardAccess) -> bool:
    return host is not None and (is_loopback_host(host) or host in access.allowed_hosts)


def listens_on_loopback(address: str | None) -> bool:
    """Streamlit's `server.address`: empty means every interface (not loopback)."""
    return is_loopback_host((address or "").strip())


def session_refusal(
    headers: Mapping[str, str],
    access: DashboardAccess,
    *,
    server_address: str | None,
    auth_configured: bool,
) -> str | None:
    """Why this session gets no page (a message for the person), or None to serve it.
    `headers` are the session's request headers (any case)."""
    if not headers:
        return None  # no browser connection (see the module docstring)
    if not (auth_configured or access.network_signs_in or listens_on_loopback(server_address)):
        return (
            f"This dashboard listens on {server_address or 'every network interface'} without "
            "a sign-in, so it serves no page. Run it on 127.0.0.1 (the default), configure "
            "[auth] in .streamlit/secrets.toml, or, when a proxy in front signs people in, set "
            f"{NETWORK_SIGNS_IN_VARIABLE}=true."
        )
    lowered = {name.lower(): value for name, value in headers.items()}
    host = host_of(lowered.get("host"), url=False)
    if not is_allowed_host(host, access):
        return (  # the name itself is not echoed: it comes from whoever sent the request
            "This dashboard does not answer under the name this page used. Open it at its own "
            f"address, or add that name to {ALLOWED_HOSTS_VARIABLE}."
        )
    if "origin" in lowered and not is_allowed_host(host_of(lowered["origin"], url=True), access):
        return "This dashboard does not serve pages of another site."
    return None
