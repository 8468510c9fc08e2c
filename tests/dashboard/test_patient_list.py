"""The Patients page's list (`medblocks.dashboard.patient_list`), frames in and out: the three
filters combined (the API's exact id, the e-mail in any case, "Contains" that never matches a
masked name), the table masked unless revealed; which connections a disconnect offers; the
sessions' sources named from the catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from medblocks.dashboard import patient_list as pl
from medblocks.dashboard.patient_view import disconnectable
from medblocks.dashboard.sources import with_source_names

NOW = datetime.now(UTC)
SUMMARY = pd.DataFrame(
    {
        "patient_id": ["pat_ada", "pat_bob", "pat_cy"],
        "name": ["Ada Lovelace", "Bob Stone", None],
        "email": ["Ada@Example.test", "bob@example.test", None],
        "created_at": [pd.Timestamp(NOW - timedelta(days=d)) for d in (3, 2, 1)],
        "active": [1, 0, 0],
        "failed": [0, 2, 0],
        "refresh_failed": [0, 0, 0],
        "expired": [0, 0, 1],
        "disconnected": [0, 0, 0],
        "last_activity": [pd.Timestamp(NOW - timedelta(hours=h)) for h in (1, 2, 3)],
    }
)


def ids(chosen: pl.PatientFilters, exact: list[str] | None = None, reveal: bool = False) -> list:
    return list(pl.matching(SUMMARY, chosen, exact, reveal=reveal)["patient_id"])


def test_no_filter_keeps_everyone_and_typed_values_lose_their_spaces() -> None:
    assert ids(pl.PatientFilters()) == ["pat_ada", "pat_bob", "pat_cy"]
    assert pl.PatientFilters.typed("  pat_ada ", " a@b ", "\tx ") == pl.PatientFilters(
        "pat_ada", "a@b", "x"
    )


def test_the_exact_id_is_what_the_api_answered_and_nobody_when_it_could_not_answer() -> None:
    assert ids(pl.PatientFilters(patient_id="pat_bob"), ["pat_bob"]) == ["pat_bob"]
    assert ids(pl.PatientFilters(patient_id="pat_zed"), []) == []
    assert ids(pl.PatientFilters(patient_id="pat_bob"), None) == []  # the API call failed


def test_email_in_any_case_and_contains_only_what_is_shown() -> None:
    assert ids(pl.PatientFilters(email="ada@example.TEST")) == ["pat_ada"]
    assert ids(pl.PatientFilters(text="lovelace")) == []  # masked: the name is not searched
    assert ids(pl.PatientFilters(text="lovelace"), reveal=True) == ["pat_ada"]
    assert ids(pl.PatientFilters(text="PAT_")) == ["pat_ada", "pat_bob", "pat_cy"]


def test_the_filters_combine_every_one_must_keep_the_patient() -> None:
    both = pl.PatientFilters(patient_id="pat_ada", email="bob@example.test")
    assert ids(both, ["pat_ada"]) == []
    assert ids(pl.PatientFilters(email="bob@example.test", text="bob"), reveal=True) == ["pat_bob"]
    assert ids(pl.PatientFilters(email="bob@example.test", text="ada"), reveal=True) == []


def test_the_table_is_masked_unless_revealed_and_missing_values_are_empty() -> None:
    masked = pl.patient_rows(SUMMARY, NOW, reveal=False)
    assert list(masked.columns) == pl.COLUMNS
    assert "Ada Lovelace" not in set(masked["name"]) and "bob@example.test" not in set(
        masked["email"]
    )
    revealed = pl.patient_rows(SUMMARY, NOW, reveal=True)
    assert list(revealed["name"]) == ["Ada Lovelace", "Bob Stone", ""]
    assert list(revealed["email"]) == ["Ada@Example.test", "bob@example.test", ""]
    assert list(revealed["failed"]) == [0, 2, 0]


def test_a_disconnect_offers_every_connection_not_disconnected_already() -> None:
    connections = pd.DataFrame(
        {"id": ["c1", "c2", "c3", "c4"], "status": ["active", "disconnected", "failed", "expired"]}
    )
    assert disconnectable(connections) == ["c1", "c3", "c4"]
    assert disconnectable(connections[connections["status"] == "disconnected"]) == []


def test_sessions_name_their_source_from_the_catalog() -> None:
    sessions = pd.DataFrame({"id": ["ps_1", "ps_2", "ps_3"], "source_id": ["src_a", None, "src_x"]})
    named = with_source_names(sessions, {"src_a": {"name": "Alpha Hospital"}})
    assert named["source"].isna().tolist() == [False, True, False]  # no source tried: none
    assert list(named["source"].dropna()) == ["Alpha Hospital", "src_x"]  # unknown: the id
    assert "source" not in sessions  # a copy
