"""The Sessions page's list (`medblocks.dashboard.sessions_view`), frames in and out: status and
mode filters combined, sources named from the catalog, the link to resend only while open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from medblocks.dashboard import sessions_view as sv
from medblocks.mirror.views import SESSION_COLUMNS

NOW = datetime.now(UTC)


def session(sid: str, status: str, mode: str, source: str | None, expires_min: int) -> dict:
    return {
        "id": sid,
        "patient_id": f"pat_{sid}",
        "status": status,
        "mode": mode,
        "source_id": source,
        "attempts": 1,
        "active_connections": 0,
        "failed_attempts": 0,
        "failure_codes": None,
        "expires_at": pd.Timestamp(NOW + timedelta(minutes=expires_min)),
        "created_at": pd.Timestamp(NOW - timedelta(hours=1)),
        "url": f"https://link.example.test/{sid}",
    }


SESSIONS = pd.DataFrame(
    [
        session("ps_1", "open", "direct", "src_a", 30),
        session("ps_2", "open", "picker", None, 300),
        session("ps_3", "complete", "direct", "src_x", -10),
    ],
    columns=SESSION_COLUMNS,
)
CATALOG = {"src_a": {"name": "Alpha Hospital"}}


def rows(statuses: list[str], modes: list[str]) -> pd.DataFrame:
    return sv.session_rows(
        SESSIONS, CATALOG, statuses=statuses, modes=modes, now=NOW, within_minutes=60
    )


def test_the_filters_offer_the_apis_statuses_and_the_two_modes() -> None:
    assert sv.SESSION_STATUSES == ("open", "complete", "expired")
    assert sv.MODES == ("picker", "direct")


def test_status_and_mode_combine_and_empty_ones_keep_every_session() -> None:
    assert list(rows([], [])["id"]) == ["ps_1", "ps_2", "ps_3"]
    assert list(rows(["open"], [])["id"]) == ["ps_1", "ps_2"]
    assert list(rows(["open"], ["direct"])["id"]) == ["ps_1"]
    assert rows(["expired"], ["picker"]).empty


def test_sources_are_named_and_only_open_links_are_offered_to_resend() -> None:
    table = rows([], []).set_index("id")
    assert set(sv.COLUMNS) <= set(table.reset_index().columns)
    assert "patient_link" not in sv.CSV_COLUMNS
    assert table.loc["ps_1", "source"] == "Alpha Hospital"
    assert table.loc["ps_3", "source"] == "src_x"  # not in the catalog: its id
    assert table.loc["ps_1", "hosted_url"] == "https://link.example.test/ps_1"
    assert table.loc["ps_3", "hosted_url"] == ""
    assert list(table["expires_soon"]) == [True, False, False]
