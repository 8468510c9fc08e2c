"""Which sessions the dashboard serves (`medblocks.dashboard.access`) and its access settings."""

from __future__ import annotations

import pytest

from medblocks.config import ConfigError, DashboardAccess, access_from, load_access
from medblocks.dashboard.access import host_of, session_refusal

LOCAL = DashboardAccess()
TEAM = DashboardAccess(allowed_hosts=frozenset({"workbench.example.org"}))
WS = {"Upgrade": "websocket", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def refusal(
    headers: dict[str, str],
    access: DashboardAccess = LOCAL,
    address: str | None = "127.0.0.1",
    auth: bool = False,
) -> str | None:
    return session_refusal(headers, access, server_address=address, auth_configured=auth)


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("127.0.0.1:8501", "http://127.0.0.1:8501"),
        ("localhost:8501", "http://localhost:8501"),
        ("LOCALHOST", None),
        ("[::1]:8501", "http://[::1]:8501"),
        ("127.0.0.2:8501", "http://127.0.0.2:8501"),
    ],
)
def test_loopback_names_are_served(host: str, origin: str | None) -> None:
    headers = {**WS, "Host": host} | ({"Origin": origin} if origin else {})
    assert refusal(headers) is None


@pytest.mark.parametrize(
    ("host", "origin", "why"),
    [
        ("evil.example:8501", "http://evil.example:8501", "does not answer under the name"),
        ("evil.example", None, "does not answer under the name"),
        ("127.0.0.1.evil.example", None, "does not answer under the name"),
        ("localhost:notaport", None, "does not answer under the name"),
        ("", None, "does not answer under the name"),
        ("127.0.0.1:8501", "http://evil.example", "another site"),
        ("127.0.0.1:8501", "null", "another site"),
        ("127.0.0.1:8501", "file://", "another site"),
    ],
)
def test_foreign_hosts_and_origins_are_refused(host: str, origin: str | None, why: str) -> None:
    headers = {**WS, "host": host} | ({"origin": origin} if origin else {})
    said = refusal(headers)
    assert said is not None and why in said
    assert "evil" not in said  # the foreign name is never echoed


def test_the_configured_names_are_served_and_only_those() -> None:
    ok = {**WS, "Host": "workbench.example.org", "Origin": "https://workbench.example.org"}
    assert refusal(ok, TEAM) is None
    assert refusal(ok) is not None  # not without the setting
    assert refusal({**WS, "Host": "other.example.org"}, TEAM) is not None


def test_a_run_without_a_browser_connection_is_not_refused() -> None:
    assert refusal({}) is None and refusal({}, address="0.0.0.0") is None


@pytest.mark.parametrize("address", ["0.0.0.0", "", None, "::", "10.1.2.3", "workbench.internal"])
def test_beyond_loopback_only_with_a_sign_in(address: str | None) -> None:
    headers = {**WS, "Host": "127.0.0.1:8501"}
    said = refusal(headers, address=address)
    assert said is not None and "without a sign-in" in said
    assert refusal(headers, address=address, auth=True) is None
    assert refusal(headers, DashboardAccess(network_signs_in=True), address=address) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_loopback_addresses_need_no_sign_in(address: str) -> None:
    assert refusal({**WS, "Host": "localhost:8501"}, address=address) is None


def test_host_names_are_read_from_headers_and_origins() -> None:
    assert host_of("Example.ORG:443", url=False) == "example.org"
    assert host_of("https://Example.ORG:443", url=True) == "example.org"
    assert host_of("[::1]:8501", url=False) == "::1"
    assert host_of("null", url=True) is None and host_of(None, url=False) is None


def test_access_settings() -> None:
    assert load_access({}, dotenv_path=None) == DashboardAccess()
    read = access_from(
        {
            "MEDBLOCKS_ALLOWED_HOSTS": " Workbench.Example.org, 10.0.0.5 ,[::1],",
            "MEDBLOCKS_NETWORK_SIGNS_IN": "yes",
        }
    )
    assert read.allowed_hosts == {"workbench.example.org", "10.0.0.5", "::1"}
    assert read.network_signs_in
    for bad in ("https://workbench.example.org", "workbench.example.org:8501", "*", "a b"):
        with pytest.raises(ConfigError, match="MEDBLOCKS_ALLOWED_HOSTS lists host names"):
            access_from({"MEDBLOCKS_ALLOWED_HOSTS": bad})
    with pytest.raises(ConfigError, match="MEDBLOCKS_NETWORK_SIGNS_IN must be true or false"):
        access_from({"MEDBLOCKS_NETWORK_SIGNS_IN": "maybe"})
