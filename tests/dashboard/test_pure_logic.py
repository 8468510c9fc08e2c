"""Masking, form validation, return-link parsing and the launch ledger (no server needed)."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.frames import patients_containing, patients_with_email, rows_with
from medblocks.dashboard.launch import (
    LaunchForm,
    LaunchRequest,
    default_return_url,
    is_intent_id,
    new_intent_id,
    recent_launches,
    validate_launch,
)
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.masking import (
    mask_email,
    mask_name,
    shown_email,
    shown_name,
    shown_people,
)
from medblocks.dashboard.return_page import parse_hint
from medblocks.dashboard.tables import count_text, sessions_table
from medblocks.dashboard.timeline import OBSERVED_AS, timeline_table
from medblocks.mirror.store import OBSERVED_BY


def test_masking_keeps_initials_only() -> None:
    assert mask_name("Maria Lopez") == "M**** L****"
    assert mask_email("maria.lopez@example.com") == "m***@e***.com"
    assert mask_name(None) == "" and mask_email(None) == ""
    assert "lopez" not in mask_email("lopez@lopez.org").split("@")[0]
    assert shown_name("Maria", reveal=True) == "Maria"
    assert shown_email("a@b.co", reveal=False) == "a***@b***.co"


def form(**overrides: object) -> LaunchForm:
    values: dict[str, object] = {
        "mode": "picker",
        "patient_id": "user_42",
        "return_url": "http://127.0.0.1:8501/connected",
    }
    values.update(overrides)
    return LaunchForm(**values)  # type: ignore[arg-type]


def test_valid_picker_form_builds_the_create_arguments() -> None:
    checked = validate_launch(
        form(source_ids=("fhirsrc_a", "fhirsrc_b"), metadata_json='{"ticket": 7}', expires_in=600)
    )
    assert checked.ok and not checked.errors
    assert checked.request == LaunchRequest(
        patient_id="user_42",
        return_url="http://127.0.0.1:8501/connected",
        expires_in=600,
        recommended_connection_ids=("fhirsrc_a", "fhirsrc_b"),
        metadata={"ticket": 7},
    )
    assert checked.request.mode == "picker"


def test_direct_form_sends_connection_id() -> None:
    request = validate_launch(
        form(mode="direct", source_ids=("fhirsrc_a",), patient_name="Ann", patient_email="a@b.co")
    ).request
    assert request is not None and request.mode == "direct"
    assert request.connection_id == "fhirsrc_a" and request.recommended_connection_ids == ()
    assert request.patient_name == "Ann"
    ledger_entry = request.without_phi()
    assert ledger_entry["connection_id"] == "fhirsrc_a"
    assert "Ann" not in str(ledger_entry) and "a@b.co" not in str(ledger_entry)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"patient_id": "  "}, "patient_id", "required"),
        ({"patient_id": "x" * 201}, "patient_id", "limit is 200"),
        ({"patient_id": "conn_123"}, "patient_id", "reserved prefix"),
        ({"patient_email": "not-an-email"}, "patient_email", "not a valid address"),
        ({"mode": "direct"}, "sources", "exactly one source"),
        ({"return_button_label": "x" * 61}, "return_button_label", "60"),
        ({"expires_in": 59}, "expires_in", "between 60 and 86400"),
        ({"metadata_json": "{bad"}, "metadata", "not valid JSON"),
        ({"metadata_json": "[1]"}, "metadata", "JSON object"),
    ],
)
def test_each_bad_field_gets_its_own_message(
    overrides: dict[str, object], field: str, words: str
) -> None:
    checked = validate_launch(form(**overrides))
    assert not checked.ok and checked.request is None
    assert words in checked.errors[field]


def test_intent_ids_are_fresh_and_checked() -> None:
    assert new_intent_id() != new_intent_id() and is_intent_id(new_intent_id())
    assert not is_intent_id("") and not is_intent_id("x' OR 1=1") and not is_intent_id(None)


def test_default_return_url_uses_the_browser_origin() -> None:
    assert (
        default_return_url("http://localhost:8600/launch?x=1") == "http://localhost:8600/connected"
    )
    assert default_return_url(None) == "http://127.0.0.1:8501/connected"
    assert default_return_url("javascript:alert(1)") == "http://127.0.0.1:8501/connected"


def test_return_hint_rejects_malformed_links() -> None:
    hint, problems = parse_hint({"patient_id": "user_1", "patient_session_id": "ps_01ABC"})
    assert hint is not None and not problems and hint.success is None
    hint, problems = parse_hint(
        {"patient_id": "", "patient_session_id": "sess_1", "success": "maybe"}
    )
    assert hint is None
    assert len(problems) == 3
    hint, problems = parse_hint(
        {"patient_id": "u", "patient_session_id": "ps_1", "error": "<script>"}
    )
    assert hint is None and problems == ["error is not an error code"]


def test_ledger_records_an_intent_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    args = {"target": "embedded", "launched_by": "qa", "patient_id": "u1", "mode": "picker"}
    assert ledger.begin(intent_id="i1", request={"a": 1}, **args) is None
    again = ledger.begin(intent_id="i1", request={"a": 1}, **args)
    assert again is not None and again.in_flight
    ledger.succeed("i1", session_id="ps_1", session_url="http://x/c/1")
    record = Ledger(tmp_path / "ledger.sqlite3").get("i1")
    assert record is not None and record.session_id == "ps_1" and not record.in_flight
    assert [r.intent_id for r in ledger.recent()] == ["i1"]
    assert recent_launches(ledger.recent(), {}, "http://127.0.0.1:8600/launch") == [
        {
            "when": record.requested_at[:19].replace("T", " ") + " UTC",
            "by": "qa",
            "patient": "u1",
            "mode": "picker",
            "outcome": "session created (status not read)",
            "hosted page": "http://x/c/1",
            "launch": "http://127.0.0.1:8600/launch?intent=i1",
        }
    ]


def test_ledger_lets_one_of_many_concurrent_clicks_through(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    winners: list[bool] = []

    def click() -> None:
        fresh = ledger.begin(
            intent_id="same",
            target="embedded",
            launched_by="qa",
            patient_id="u1",
            mode="picker",
            request={},
        )
        winners.append(fresh is None)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners.count(True) == 1


def test_only_safe_urls_become_links_or_images() -> None:
    from medblocks.dashboard.links import safe_image, safe_link

    assert safe_link("https://portal.example.test/x") == "https://portal.example.test/x"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link("data:text/html,<script>") is None
    assert safe_link(None) is None
    assert safe_image("data:image/svg+xml;utf8,<svg/>") == "data:image/svg+xml;utf8,<svg/>"
    assert safe_image("data:text/html;base64,PHNjcmlwdD4=") is None


def test_rows_with_keeps_chosen_values_and_everything_when_none_is_chosen() -> None:
    frame = pd.DataFrame({"status": ["active", "failed", "expired", "active"]})
    assert list(rows_with(frame, "status", ["active", "expired"]).index) == [0, 2, 3]
    assert rows_with(frame, "status", []) is frame


def test_patient_text_search_looks_at_names_only_when_they_are_shown() -> None:
    summary = pd.DataFrame(
        {
            "patient_id": ["user_1", "USER_2", "other"],
            "name": ["Maria Lopez", None, "Ann User"],
            "email": ["maria@example.com", None, "ann@example.org"],
        }
    )
    assert list(patients_containing(summary, "user", reveal=False)["patient_id"]) == [
        "user_1",
        "USER_2",
    ]
    assert list(patients_containing(summary, "user", reveal=True)["patient_id"]) == [
        "user_1",
        "USER_2",
        "other",
    ]
    # e-mails are searched too while revealed, never while masked
    assert patients_containing(summary, "EXAMPLE.ORG", reveal=False).empty
    assert list(patients_containing(summary, "EXAMPLE.ORG", reveal=True)["patient_id"]) == ["other"]
    # the e-mail filter: exact but in any case, spaces around ignored
    assert list(patients_with_email(summary, " MARIA@Example.COM ")["patient_id"]) == ["user_1"]
    assert patients_with_email(summary, "maria@example").empty
    assert [count_text(n, "patient") for n in (0, 1, 2)] == [
        "0 patients",
        "1 patient",
        "2 patients",
    ]
    masked = shown_people(summary, reveal=False)
    assert list(masked["name"]) == ["M**** L****", "", "A** U***"]
    assert list(masked["email"]) == ["m***@e***.com", "", "a***@e***.org"]
    assert summary["name"].iloc[0] == "Maria Lopez"  # the original frame is untouched
    assert list(shown_people(summary, reveal=True)["name"]) == ["Maria Lopez", "", "Ann User"]


def test_sessions_table_flags_open_sessions_near_their_end_in_words() -> None:
    now = pd.Timestamp("2026-04-25T12:00:00Z")
    sessions = pd.DataFrame(
        {
            "id": ["ps_1", "ps_2", "ps_3", "ps_4"],
            "patient_id": ["p1", "p2", "p3", "p4"],
            "status": ["open", "open", "complete", "open"],
            "mode": ["direct"] * 4,
            "source": ["A", None, "B", "C"],
            "attempts": [1, 0, 1, 0],
            "active_connections": [0, 0, 1, 0],
            "url": ["https://x/1", "https://x/2", "https://x/3", "https://x/4"],
            "created_at": pd.to_datetime(["2026-04-25T11:00:00.123456Z"] * 4),
            "expires_at": pd.to_datetime(
                [
                    "2026-04-25T12:05:00Z",
                    "2026-04-25T13:00:00Z",
                    "2026-04-25T12:01:30Z",
                    "2026-03-20T12:00:00Z",
                ]
            ),
        }
    )
    out = sessions_table(sessions, now, within_minutes=10)
    assert list(out["expires_soon"]) == [True, False, False, False]
    assert list(out["expires"]) == ["in 5 min", "in 1 h", "in 1 min", "36 d ago"]
    assert list(out["created"]) == ["2026-04-25 11:00 UTC"] * 4
    assert list(out["source"]) == ["A", "", "B", "C"]
    assert list(out["hosted_url"]) == ["https://x/1", "https://x/2", "", ""]
    assert "expires_soon" not in sessions


def test_a_connections_timeline_says_when_how_and_who() -> None:
    history = pd.DataFrame(
        {
            "connection_id": ["conn_a", "conn_a", "conn_b"],
            "source_id": ["fhirsrc_x", "fhirsrc_x", "fhirsrc_unknown"],
            "from_status": [None, "active", None],
            "to_status": ["active", "failed", "refresh_failed"],
            "failure_code": [None, "user_denied", None],
            "changed_at": pd.to_datetime(
                ["2026-12-01T10:00:00Z", "2026-12-02T11:00:00Z", "2026-12-04T12:00:00Z"], utc=True
            ),
            "changed_at_exact": [False, True, False],
            "observed_at": pd.to_datetime(
                ["2026-12-01T10:05:00Z", "2026-12-02T11:00:01Z", "2026-12-04T12:00:00Z"], utc=True
            ),
            "observed_by": ["sync", "action", "session"],
            "actor": [None, "ops@example.org", None],
        }
    )
    table = timeline_table(history, {"fhirsrc_x": "Example Hospital"}, ServerClock(-3600.0))
    assert list(table["connection"]) == ["conn_a", "conn_a", "conn_b"]
    assert list(table["to"]) == ["failed", "active", "refresh_failed"]  # newest first
    assert list(table["from"]) == ["active", "first seen", "first seen"]
    assert list(table["source"]) == ["Example Hospital", "Example Hospital", "fhirsrc_unknown"]
    assert list(table["how"]) == ["dashboard action", "full sync", "open session re-read"]
    assert list(table["who"]) == ["ops@example.org", "", ""]
    # the server's own time as it is; the mirror's first sight moved onto the server's clock
    assert table["happened"][0] == "2026-12-02 11:00 UTC"
    assert table["happened"][2] == "at least since 2026-12-04 13:00 UTC"
    assert table["seen"][2] == "2026-12-04 13:00 UTC"
    assert set(OBSERVED_AS) == set(OBSERVED_BY)
    assert timeline_table(history.iloc[:0], {}, ServerClock()).empty
