"""Connection health's rows and lists (`medblocks.dashboard.health_view`), frames in and out:
the joins (source names, masked patient names, the server's clock), the filters combined, the
tabs' lists and the row a link opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from medblocks.dashboard import health_view as hv
from medblocks.dashboard.clock import ServerClock

NOW = datetime.now(UTC)  # the pages count to the clock's now
CLOCK = ServerClock(0.0)


def at(days_ago: float) -> pd.Timestamp:
    return pd.Timestamp(NOW - timedelta(days=days_ago))


def connection(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "conn_1",
        "patient_id": "pat_1",
        "source_id": "src_a",
        "status": "active",
        "failure_code": None,
        "failing_since": pd.NaT,
        "failing_since_exact": True,
        "created_at": at(30),
        "updated_at": at(1),
        "records_arrived": True,
        "stuck_pull": False,
        "who_acts": "nobody",
        "tell_patient": "",
    }
    return row | changes


HEALTH = pd.DataFrame(
    [
        connection(),
        connection(
            id="conn_2",
            patient_id="pat_2",
            source_id="src_b",
            status="failed",
            failure_code="user_denied",
            failing_since=at(3),
            who_acts="patient (send a new session link)",
            tell_patient="Please open the new link and try again.",
        ),
        connection(
            id="conn_3",
            patient_id="pat_3",
            source_id="src_gone",
            status="expired",
            failing_since=at(10),
            failing_since_exact=False,
        ),
        connection(id="conn_4", patient_id="pat_1", source_id="src_b", stuck_pull=True),
    ]
)
CATALOG = {"src_a": {"name": "Alpha Hospital"}, "src_b": {"name": "Beta Clinic"}}
PATIENTS = pd.DataFrame(
    {"patient_id": ["pat_1", "pat_2", "pat_3"], "name": ["Ada Lovelace", "Bob Stone", None]}
)


def rows(reveal: bool = False, clock: ServerClock = CLOCK) -> pd.DataFrame:
    return hv.health_rows(HEALTH, CATALOG, PATIENTS, clock, reveal=reveal)


def test_sources_are_named_from_the_catalog_and_names_masked_unless_revealed() -> None:
    masked = rows().set_index("id")
    assert list(masked["source"]) == ["Alpha Hospital", "Beta Clinic", "src_gone", "Beta Clinic"]
    assert "Ada Lovelace" not in set(masked["name"]) and masked.loc["conn_1", "name"]
    revealed = rows(reveal=True).set_index("id")
    assert revealed.loc["conn_1", "name"] == "Ada Lovelace"
    assert revealed.loc["conn_3", "name"] == ""  # a patient without a name: empty, never "None"
    assert list(masked.index) == list(HEALTH["id"])  # one row per connection, in order


def test_failing_since_is_on_the_servers_clock_and_at_least_where_the_api_gave_no_time() -> None:
    server_behind = ServerClock(skew_seconds=2 * 86400)  # this machine is two days ahead
    table = hv.health_rows(HEALTH, CATALOG, PATIENTS, server_behind, reveal=False)
    by_id = table.set_index("id")
    # the API's own time stays as it was; the mirror's first sighting moves two days back
    assert by_id.loc["conn_2", "failing_days"] == 1  # 3 days before our now: 1 before its
    assert by_id.loc["conn_3", "failing_for"].startswith("at least ")
    assert by_id.loc["conn_3", "failing_days"] == 10  # the mirror's sighting, moved back too
    assert rows().set_index("id").loc["conn_2", "failing_days"] == 3  # clocks in step


def test_filters_combine_and_empty_ones_keep_every_row() -> None:
    table = rows()
    assert hv.filtered(table, hv.HealthFilters()).equals(table)
    assert list(hv.filtered(table, hv.HealthFilters(sources=["Beta Clinic"]))["id"]) == [
        "conn_2",
        "conn_4",
    ]
    both = hv.HealthFilters(statuses=["active"], sources=["Beta Clinic"])
    assert list(hv.filtered(table, both)["id"]) == ["conn_4"]
    assert list(hv.filtered(table, hv.HealthFilters(codes=["user_denied"]))["id"]) == ["conn_2"]
    assert list(hv.filtered(table, hv.HealthFilters(failing_days=5))["id"]) == ["conn_3"]
    none = hv.HealthFilters(statuses=["failed"], failing_days=5)
    assert hv.filtered(table, none).empty


def test_the_filters_offer_what_the_table_holds() -> None:
    table = rows()
    assert hv.source_options(table) == ["Alpha Hospital", "Beta Clinic", "src_gone"]
    assert hv.code_options(table) == ["user_denied"]


def test_needs_attention_lists_the_longest_failing_first_and_stuck_pulls_their_own() -> None:
    table = rows()
    assert list(hv.needs_attention(table)["id"]) == ["conn_3", "conn_2"]
    assert list(hv.stuck_pulls(table)["id"]) == ["conn_4"]
    assert set(hv.ATTENTION_COLUMNS + hv.STUCK_COLUMNS + hv.CSV_COLUMNS) <= set(table.columns)


def test_the_row_a_link_names_and_how_it_is_told() -> None:
    table = rows()
    assert hv.connection_row(table, None) is None
    assert hv.connection_row(table, "conn_404") is None
    failed = hv.connection_row(table, "conn_2")
    assert failed is not None
    assert hv.row_heading(failed).startswith("Patient pat_2 · Beta Clinic · failed for 3 ")
    assert hv.row_notes(failed) == [
        f"What happened: {failed['what_happened']}",
        "Tell the patient: Please open the new link and try again.",
    ]
    active = hv.connection_row(table, "conn_1")
    assert active is not None
    assert hv.row_heading(active) == "Patient pat_1 · Alpha Hospital · active"
    assert [note.split(":")[0] for note in hv.row_notes(active)] == ["What happened"]
