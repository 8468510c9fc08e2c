"""One clock on every page, the server's: a local sandbox whose clock was advanced 3 h is said
once, in words, and no failure is dated in the future."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from medblocks.client import Medblocks
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.dashboard.apptest import open_app_page
from tests.dashboard.conftest import an_active_connection

pytestmark = pytest.mark.usefixtures("app_environment")


@pytest.fixture
def advanced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RunningSandbox]:
    """A local sandbox of its own (not the shared embedded one) 3 h ahead, as the target."""
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as sandbox:
        httpx.post(
            f"{sandbox.base_url}/_sandbox/clock/advance",
            json={"seconds": 3 * 3600},
            headers={"Authorization": f"Bearer {sandbox.api_key}"},
        ).raise_for_status()
        monkeypatch.setenv("MEDBLOCKS_API_KEY", sandbox.api_key)
        monkeypatch.setenv("MEDBLOCKS_API_URL", sandbox.base_url)
        monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", f"sqlite:///{tmp_path / 'mirror.sqlite3'}")
        yield sandbox


def test_an_advanced_sandbox_clock_is_said_in_words_and_dates_nothing_in_the_future(
    advanced: RunningSandbox,
) -> None:
    at = open_app_page("ui_pages/overview.py")
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clock"] == "sandbox +3 h"
    notes = [c.value for c in at.caption if "sandbox clock" in c.value]
    assert notes == [
        "The sandbox clock has been advanced 3 h beyond real time: times and ages on these "
        "pages are the sandbox's."
    ]
    assert not [c.value for c in at.caption if "-10800" in c.value]

    with Medblocks(advanced.api_key, base_url=advanced.base_url) as api:
        _, just_failed = an_active_connection(api)
    httpx.post(  # fails now, on the sandbox's clock: failure_at is 3 h ahead of this machine
        f"{advanced.base_url}/_sandbox/connections/{just_failed}/status",
        json={"status": "failed", "failure_code": "consent_timeout"},
        headers={"Authorization": f"Bearer {advanced.api_key}"},
    ).raise_for_status()
    at = open_app_page("ui_pages/connection_health.py")
    at.button(key="mirror_sync_now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len([c.value for c in at.caption if "sandbox clock" in c.value]) == 1  # once
    table = at.dataframe[0].value
    failing = table[table["status"].isin(["failed", "refresh_failed", "expired"])]
    assert len(failing)
    # first seen just now, on the sandbox's clock: seconds, not "3 h" (nor in the future)
    unsure = failing[failing["failing_since"].str.startswith("at least since")]
    assert len(unsure) and unsure["failing_for"].str.match(r"^at least \d+ (s|min)$").all()
    # failed just now by the server's clock: seconds ago, not 3 h in the future
    [now_failing] = table[table["id"] == just_failed]["failing_for"]
    assert re.match(r"^\d+ (s|min)$", now_failing), now_failing
