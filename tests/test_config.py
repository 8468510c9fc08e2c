"""Every configuration error has a specific message; the key never shows up in one."""

from __future__ import annotations

from pathlib import Path

import pytest

from medblocks.config import ConfigError, load_settings, settings_from

SBX = "mb_sk_sbx_" + "k" * 24
LIVE = "mb_sk_live_" + "k" * 24


def test_nothing_configured_means_the_embedded_sandbox() -> None:
    settings = settings_from({})
    assert settings.kind == "embedded"
    assert settings.base_url is None and settings.api_key is None
    assert settings.api_version == "2026-04-25"


def test_sandbox_key_defaults_to_medblocks_url() -> None:
    settings = settings_from({"MEDBLOCKS_API_KEY": SBX})
    assert settings.kind == "sandbox"
    assert settings.base_url == "https://app.medblocks.com"


def test_live_key_means_live() -> None:
    settings = settings_from({"MEDBLOCKS_API_KEY": LIVE})
    assert settings.kind == "live" and settings.is_live


def test_key_is_not_in_repr() -> None:
    assert SBX not in repr(settings_from({"MEDBLOCKS_API_KEY": SBX}))


@pytest.mark.parametrize("bad", ["mb_sk_test_abcdef", "sk_live_abc", "mb_sk_sbx_", "Bearer x"])
def test_key_with_unknown_prefix_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"must start with mb_sk_sbx_ .* or mb_sk_live_"):
        settings_from({"MEDBLOCKS_API_KEY": bad})


def test_refused_key_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as exc:
        settings_from({"MEDBLOCKS_API_KEY": "mb_sk_prod_SECRETVALUE123"})
    assert "SECRETVALUE123" not in str(exc.value)


def test_plain_http_is_refused_for_remote_hosts() -> None:
    with pytest.raises(ConfigError, match="must use https; plain http is allowed only for loop"):
        settings_from({"MEDBLOCKS_API_KEY": SBX, "MEDBLOCKS_API_URL": "http://example.com"})


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8787", "http://localhost:8787/", "http://[::1]:9000", "http://127.8.0.1"],
)
def test_plain_http_is_allowed_for_loopback(url: str) -> None:
    settings = settings_from({"MEDBLOCKS_API_KEY": SBX, "MEDBLOCKS_API_URL": url})
    assert settings.base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["app.medblocks.com", "ftp://app.medblocks.com", "https://"])
def test_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ConfigError, match="must be an absolute http"):
        settings_from({"MEDBLOCKS_API_KEY": SBX, "MEDBLOCKS_API_URL": url})


def test_url_with_query_is_refused() -> None:
    with pytest.raises(ConfigError, match="must not carry a query string"):
        settings_from({"MEDBLOCKS_API_KEY": SBX, "MEDBLOCKS_API_URL": "https://a.example/?k=1"})


def test_url_without_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="MEDBLOCKS_API_URL is set but MEDBLOCKS_API_KEY is not"):
        settings_from({"MEDBLOCKS_API_URL": "https://app.medblocks.com"})


@pytest.mark.parametrize("version", ["2026/04/25", "latest", "26-04-25", "2026-4-25"])
def test_version_must_be_a_date(version: str) -> None:
    with pytest.raises(ConfigError, match="must be a date written YYYY-MM-DD"):
        settings_from({"MEDBLOCKS_API_VERSION": version})


def test_version_must_be_a_real_day() -> None:
    with pytest.raises(ConfigError, match="is not a real calendar date"):
        settings_from({"MEDBLOCKS_API_VERSION": "2026-02-30"})


def test_dotenv_fills_unset_variables_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"MEDBLOCKS_API_KEY={SBX}\nMEDBLOCKS_API_VERSION=2026-01-01\n")
    settings = load_settings({"MEDBLOCKS_API_VERSION": "2026-04-25"}, dotenv_path=dotenv)
    assert settings.kind == "sandbox"
    assert settings.api_version == "2026-04-25"


def test_missing_dotenv_is_fine(tmp_path: Path) -> None:
    assert load_settings({}, dotenv_path=tmp_path / "absent").kind == "embedded"


def test_live_key_is_read_only_unless_writes_are_enabled() -> None:
    assert not settings_from({"MEDBLOCKS_API_KEY": LIVE}).writes_allowed
    enabled = settings_from({"MEDBLOCKS_API_KEY": LIVE, "MEDBLOCKS_ALLOW_LIVE_WRITES": "true"})
    assert enabled.writes_allowed and enabled.allow_live_writes
    assert settings_from({"MEDBLOCKS_API_KEY": SBX}).writes_allowed
    assert settings_from({}).writes_allowed


def test_allow_live_writes_must_be_a_clear_flag() -> None:
    with pytest.raises(ConfigError, match="MEDBLOCKS_ALLOW_LIVE_WRITES must be true or false"):
        settings_from({"MEDBLOCKS_API_KEY": LIVE, "MEDBLOCKS_ALLOW_LIVE_WRITES": "maybe"})
