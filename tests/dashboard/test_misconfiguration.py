"""A key and a URL that do not belong together, and a URL where nothing answers: named as such."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from medblocks.client.errors import APIConnectionError, APITimeoutError, NotFoundError
from medblocks.dashboard.server_health import unreachable_advice
from medblocks.dashboard.target import Target
from medblocks.sandbox import RunningSandbox
from medblocks.spec import pinned_version
from tests.dashboard.apptest import APP

pytestmark = pytest.mark.usefixtures("app_environment")
LIVE_KEY = "mb_sk_live_" + "0" * 26


def everything_shown(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [w.value for w in at.warning] + [t.value for t in at.text]
    return json.dumps(parts + [s.value for s in at.subheader])


def test_a_live_key_against_a_loopback_url_is_not_called_production(
    embedded: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_KEY", LIVE_KEY)
    monkeypatch.setenv("MEDBLOCKS_API_URL", embedded.base_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    shown = everything_shown(at)
    assert "LIVE" not in shown and "production" not in shown
    host = embedded.base_url.removeprefix("http://")
    label = f"A local server at {host} with a live key — not Medblocks"
    assert label in [t.value for t in at.sidebar.text]
    [warning] = [w.value for w in at.warning]
    assert f"{embedded.base_url} is not Medblocks" in warning
    assert "MEDBLOCKS_API_URL" in warning and "read-only" in warning
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("ui_pages/launch.py")  # still read-only, as for any live key
    assert "mb_sk_" not in shown


@pytest.mark.parametrize(
    ("kind", "url", "label", "production"),
    [
        (
            "live",
            "https://app.medblocks.com",
            "LIVE — production Medblocks, real patient data",
            True,
        ),
        (
            "live",
            "https://eu.app.medblocks.com/",
            "LIVE — production Medblocks, real patient data",
            True,
        ),
        (
            "live",
            "https://medblocks.example.test",
            "medblocks.example.test with a live key — not a Medblocks address",
            False,
        ),
        (
            "live",
            "https://app.medblocks.com.evil.test",
            "app.medblocks.com.evil.test with a live key — not a Medblocks address",
            False,
        ),
        ("sandbox", "https://app.medblocks.com", "Medblocks sandbox workspace", False),
        (
            "sandbox",
            "http://127.0.0.1:8787",
            "Local sandbox at 127.0.0.1:8787 with a sandbox key — not Medblocks",
            False,
        ),
        ("embedded", "http://127.0.0.1:5", "Embedded sandbox (local emulator, demo data)", False),
    ],
)
def test_the_label_follows_the_key_and_the_url(
    kind: str, url: str, label: str, production: bool
) -> None:
    target = Target(kind, url, pinned_version(), False, "k")  # type: ignore[arg-type]
    assert target.label == label
    assert target.is_production is production


def test_an_unreachable_local_sandbox_names_the_url_and_how_to_start_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_KEY", "mb_sk_sbx_" + "0" * 26)
    monkeypatch.setenv("MEDBLOCKS_API_URL", "http://127.0.0.1:9")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "The target cannot be reached." in [e.value for e in at.error]
    advice = next(t.value for t in at.text if t.value.startswith("Nothing answered at"))
    assert advice.startswith("Nothing answered at http://127.0.0.1:9.")
    assert "python -m medblocks.sandbox" in advice and "unset MEDBLOCKS_API_URL" in advice


def test_the_advice_depends_on_where_the_url_points() -> None:
    down = APIConnectionError("connect failed")
    elsewhere = unreachable_advice("https://api.example.test", "elsewhere", down)
    assert elsewhere is not None and elsewhere.startswith("Nothing answered at https://api.")
    assert "Check MEDBLOCKS_API_URL: Medblocks is https://app.medblocks.com" in elsewhere
    medblocks = unreachable_advice("https://app.medblocks.com", "medblocks", down)
    assert medblocks is not None and "network access" in medblocks
    slow = unreachable_advice("http://127.0.0.1:1", "loopback", APITimeoutError("slow"))
    assert slow is not None and slow.startswith("http://127.0.0.1:1 did not answer in time.")
    assert unreachable_advice("http://127.0.0.1:1", "loopback", NotFoundError("x")) is None
