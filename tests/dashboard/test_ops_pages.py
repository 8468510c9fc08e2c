"""Ops pages formatted for people and acting: Overview, Connection health, Sessions, Patients
through AppTest against the dashboard's embedded sandbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from medblocks.client import Medblocks
from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.mirror_reads import freshness_text
from medblocks.dashboard.roles import Actor
from medblocks.dashboard.sandbox_levers import SandboxLevers
from medblocks.dashboard.session_link import WritesNotAllowed, create_session_link
from medblocks.dashboard.tables import (
    PATIENT_LINK_TEXT,
    age_text,
    count_text,
    csv_text,
    until_text,
)
from medblocks.dashboard.target import Target
from medblocks.mirror.history import FIRST_SEEN
from medblocks.mirror.settings import sqlite_url
from medblocks.mirror.views import Freshness
from medblocks.sandbox import Faults, RunningSandbox
from medblocks.spec import pinned_version
from tests.dashboard.apptest import open_app_page, press_new_link

pytestmark = pytest.mark.usefixtures("app_environment")

AGE = re.compile(r"^(\d+ (s|min|h|d))?$")
FAILING_FOR = re.compile(r"^((at least )?\d+ (s|min|h|d))?$")
FAILING_SINCE = re.compile(r"^((at least since )?\d{4}-\d\d-\d\d \d\d:\d\d UTC)?$")
MINUTE_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d UTC)?$")


@pytest.fixture
def api(embedded_api: Medblocks) -> Iterator[Medblocks]:
    yield embedded_api


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def no_missing_words(frame: pd.DataFrame) -> None:
    shown = frame.astype(str)
    for word in ("None", "NaN", "nan", "NaT"):
        assert not (shown == word).any().any(), word


def test_durations_and_skew_read_as_words() -> None:
    assert [age_text(s) for s in (5, 300, 18000, 3.1e6)] == ["5 s", "5 min", "5 h", "35 d"]
    assert age_text(None) == ""
    assert until_text(54 * 60 + 10) == "in 54 min" and until_text(-3.1e6) == "35 d ago"
    # the mirror's freshness line says its age by the same rule
    as_of = datetime(2026, 12, 4, 12, 4, 10, tzinfo=UTC)
    fresh = Freshness(as_of, {}, sync_in_progress=False, changed_at=None, patients=1)
    assert freshness_text(fresh, as_of + timedelta(seconds=40)) == "as of 12:04:10 UTC, 40 s ago"
    assert freshness_text(fresh, as_of + timedelta(seconds=3.1e6)).endswith(", 35 d ago")


def test_one_clock_the_servers_and_its_skew_in_words() -> None:
    local = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    in_step = ServerClock(-0.04)
    assert in_step.in_step and in_step.note(True) is None and in_step.short(True) == "in step"
    advanced = ServerClock(-3 * 3600.0)  # the sandbox clock moved 3 h ahead
    assert advanced.now(local) == local + timedelta(hours=3)
    assert advanced.short(True) == "sandbox +3 h"
    note = advanced.note(True)
    assert note is not None and "advanced 3 h" in note and "-10800" not in note
    assert "behind the server's" in str(advanced.note(False))
    seen = pd.Series(pd.to_datetime(["2026-12-04T11:00:00Z", "2026-12-01T00:00:00Z"], utc=True))
    moved = advanced.seen_or_said(seen, pd.Series([False, True]))
    assert list(moved) == [seen[0] + pd.Timedelta(hours=3), seen[1]]  # only the mirror's own


def test_connection_health_is_formatted_for_people() -> None:
    at = clean(open_app_page("ui_pages/connection_health.py"))
    table = at.dataframe[0].value
    no_missing_words(table)
    assert all(FAILING_FOR.match(v) for v in table["failing_for"]) and all(
        AGE.match(v) for v in table["connected_for"]
    )
    assert all(FAILING_SINCE.match(v) for v in table["failing_since"])
    # never the connection's creation: where the API gives no failure time, "at least since"
    # the mirror first saw it failing
    unsure = table[table["status"].isin(["refresh_failed", "expired"])]
    assert len(unsure) and unsure["failing_since"].str.startswith("at least since ").all()
    assert (unsure["failing_for"] != unsure["connected_for"]).all()
    dated = table[table["status"] == "failed"]
    assert len(dated) and not dated["failing_since"].str.startswith("at least").any()
    failing = table[table["status"].isin(["failed", "refresh_failed", "expired"])]
    assert len(failing) and (failing["failing_for"] != "").all()  # refresh_failed/expired too
    assert (table.loc[table["status"] == "active", "failing_for"] == "").all()
    assert set(failing["status"]) >= {"refresh_failed", "failed"}
    assert (table["patient_link"].str.startswith("patients?")).all()
    assert at.get("download_button")


def test_connection_health_csv_matches_the_table() -> None:
    at = clean(open_app_page("ui_pages/connection_health.py"))
    table = at.dataframe[0].value
    text = csv_text(table)
    assert "Failing for" in text.splitlines()[0] and "None" not in text
    assert not re.search(r"\d+\.\d{3,}", text)


def test_failing_days_filter_is_whole_days_in_the_url() -> None:
    at = clean(open_app_page("ui_pages/connection_health.py", failing_days="1"))
    assert at.number_input[0].value == 1
    table = at.dataframe[0].value
    assert len(table) and (table["failing_for"].str.endswith(" d")).all()


def test_row_action_creates_one_session_for_that_patient_and_source(api: Medblocks) -> None:
    at = clean(open_app_page("ui_pages/connection_health.py", status="refresh_failed"))
    row = at.dataframe[0].value.iloc[0]
    conn_id = row["id"]
    patient_id = re.search(PATIENT_LINK_TEXT, row["patient_link"]).group(1)  # type: ignore[union-attr]
    source_id = next(
        c.connection_id for c in api.patients.retrieve(patient_id).connections if c.id == conn_id
    )
    before = {s.id for s in api.patients.sessions(patient_id)}
    at.query_params["connection"] = conn_id
    clean(at.run())
    assert not {s.id for s in api.patients.sessions(patient_id)} - before
    press_new_link(at)
    clean(at)
    new = [s for s in api.patients.sessions(patient_id) if s.id not in before]
    assert len(new) == 1
    assert new[0].connection_id == source_id and new[0].status == "open"
    assert [c.value for c in at.code] == [new[0].url]
    at.run()  # a rerun shows the link again and creates nothing
    assert len([s for s in api.patients.sessions(patient_id) if s.id not in before]) == 1
    assert [c.value for c in at.code] == [new[0].url]
    sessions = clean(open_app_page("ui_pages/sessions.py"))  # no Sync now: it is there already
    assert new[0].id in set(sessions.dataframe[0].value["id"])


def test_sessions_read_as_words_and_flag_the_next_hour(api: Medblocks) -> None:
    soon = api.patient_sessions.create(
        patient_id="ops_expiring", return_url="http://127.0.0.1:8501/connected", expires_in=3000
    )
    later = api.patient_sessions.create(
        patient_id="ops_later", return_url="http://127.0.0.1:8501/connected", expires_in=7200
    )
    at = open_app_page("ui_pages/sessions.py")
    clean(at.button(key="mirror_sync_now").click().run())
    table = at.dataframe[0].value.set_index("id")
    no_missing_words(table)
    assert at.number_input[0].value == 60
    assert table.loc[soon.id, "expires_soon"] and not table.loc[later.id, "expires_soon"]
    assert re.match(r"^in (49|50) min$", table.loc[soon.id, "expires"])
    assert table.loc[later.id, "expires"] == "in 2 h" or table.loc[later.id, "expires"] == "in 1 h"
    assert all(MINUTE_TIME.match(v) for v in table["created"])
    assert all(re.match(r"^(in )?\d+ (s|min|h|d)( ago)?$", v) for v in table["expires"])
    assert table.loc[soon.id, "hosted_url"] == soon.url
    assert (table.loc[table["status"] != "open", "hosted_url"].fillna("") == "").all()
    assert (
        table.loc[soon.id, "patient_link"] == "patients?patient_id=ops_expiring&open=ops_expiring"
    )
    at.query_params["session"] = soon.id
    clean(at.run())
    assert [c.value for c in at.code] == [soon.url]


def chart_specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_data(at: AppTest, index: int) -> pd.DataFrame:
    """The (first) dataset a chart was drawn from, as Streamlit sent it (Arrow)."""
    chart = at.get("vega_lite_chart")[index]
    return convert_arrow_bytes_to_pandas_df(chart.proto.datasets[0].data.data)


def test_overview_tiles_open_the_view_they_count(api: Medblocks) -> None:
    at = clean(open_app_page("ui_pages/overview.py"))
    metrics = {m.label: m.value for m in at.metric}
    statuses = [
        (p.id, c.status)
        for p in api.patients.list(limit=100)
        for c in api.patients.retrieve(p.id).connections
    ]
    failing = [(p, s) for p, s in statuses if s in ("failed", "refresh_failed", "expired")]
    assert int(metrics["Needs attention"]) == len(failing)
    assert metrics["Clock"] == "in step"  # words, never a raw skew
    links = {link.proto.label: link.proto for link in at.get("page_link")}
    act = links[count_text(len({p for p, _ in failing}), "patient")]
    assert act.page == "health"
    assert act.query_string == "status=failed&status=refresh_failed&status=expired"
    assert links["Open sessions"].page == "sessions"
    assert links["Open sessions"].query_string == "status=open"
    assert links["Refresh failed connections"].query_string == "status=refresh_failed"


def test_overview_charts_coloured_by_meaning_with_counts_and_readable_labels() -> None:
    at = clean(open_app_page("ui_pages/overview.py"))
    (by_status,) = chart_specs(at)  # only the open tab (the first) is drawn
    bar, text = by_status["layer"]
    scale = bar["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours["failed"] == "#c62828" and colours["active"] == "#2e7d32"
    assert bar["encoding"]["x"]["axis"]["labelAngle"] == 0
    assert text["encoding"]["text"]["field"] == "connections"

    at = clean(open_app_page("ui_pages/overview.py", charts="Session funnel"))
    assert at.query_params["charts"] == "Session funnel"
    _by_mode, by_source = chart_specs(at)
    sources = set(chart_data(at, 1)["source"])
    assert "(none attempted)" not in sources and len(sources) > 1
    assert by_source["encoding"]["y"]["axis"]["labelLimit"] == 0
    assert by_source["encoding"]["x"]["axis"]["format"] == "d"  # whole sessions

    at = clean(open_app_page("ui_pages/overview.py", charts="Failure codes"))
    assert len(chart_specs(at)) == 1
    labels = list(chart_data(at, 0)["label"])
    assert labels and all(re.match(r"^\d+ \(\d+%\)$", label) for label in labels)


def test_patients_read_as_words_and_reveal_shows_names(api: Medblocks) -> None:
    patient = next(
        p
        for p in api.patients.list(limit=100)
        # an id the URL can carry: test_exports leaves patients whose ids hold a tab or a
        # carriage return in the same sandbox, and a URL value with control characters is refused
        if p.name
        and p.id.isprintable()
        and any(c.status == "failed" for c in api.patients.retrieve(p.id).connections)
    )
    at = clean(open_app_page("ui_pages/patients.py", open=patient.id))
    table = at.dataframe[0].value
    no_missing_words(table)
    assert str(table["failed"].dtype).startswith("int")
    assert all(AGE.match(v) for v in table["last_activity"])
    connections = at.dataframe[1].value
    no_missing_words(connections)
    assert all(AGE.match(v) for v in connections["connected_for"])
    assert all(MINUTE_TIME.match(v) for v in connections["failure_at"])
    assert (connections.loc[connections["status"] == "failed", "failure_at"] != "").all()
    timeline = at.dataframe[2].value  # each connection's history, from the mirror
    no_missing_words(timeline)
    # every connection has its history; after a sandbox reset earlier in the same sandbox the
    # mirror also keeps the history of the patient's connections from before it (never deleted)
    assert set(connections["id"]) <= set(timeline["connection"])
    failed = timeline[timeline["to"] == "failed"]
    assert len(failed) and all(MINUTE_TIME.match(v) for v in failed["happened"])  # failure_at
    assert all(MINUTE_TIME.match(v) for v in timeline["seen"])
    history = at.dataframe[3].value
    no_missing_words(history)
    assert all(MINUTE_TIME.match(v) for v in history["created"])
    assert patient.name not in " ".join(t.value for t in at.text)
    at.session_state["reveal_phi"] = True
    clean(at.run())
    assert patient.name in " ".join(t.value for t in at.text)
    assert patient.name in set(at.dataframe[0].value["name"])


def test_a_read_only_target_creates_no_session_link(
    embedded: RunningSandbox, api: Medblocks, tmp_path: Path
) -> None:
    read_only = Target(
        kind="live",
        base_url=embedded.base_url,
        api_version=pinned_version(),
        writes_allowed=False,
        api_key=embedded.api_key,
    )
    patient = next(iter(api.patients.list(limit=100)))
    source = next(iter(api.sources.list())).id
    before = len(list(api.patients.sessions(patient.id)))
    with read_only.client() as client, pytest.raises(WritesNotAllowed):
        create_session_link(
            client,
            Ledger(sqlite_url(tmp_path / "ledger.sqlite3")),
            read_only,
            patient_id=patient.id,
            source_id=source,
            return_url="http://127.0.0.1:8501/connected",
            intent_id="read-only",
            launched_by=Actor("test", "ops"),
        )
    assert len(list(api.patients.sessions(patient.id))) == before


def test_a_failed_row_action_shows_the_request_id_and_is_not_retried(
    embedded: RunningSandbox, api: Medblocks
) -> None:
    at = clean(open_app_page("ui_pages/connection_health.py", status="expired"))
    row = at.dataframe[0].value.iloc[0]
    patient_id = re.search(PATIENT_LINK_TEXT, row["patient_link"]).group(1)  # type: ignore[union-attr]
    before = len(list(api.patients.sessions(patient_id)))
    at.query_params["connection"] = row["id"]
    clean(at.run())
    levers = SandboxLevers(
        Target(
            kind="embedded",
            base_url=embedded.base_url,
            api_version=pinned_version(),
            writes_allowed=True,
            api_key=embedded.api_key,
        )
    )
    for anyway in [c for c in at.checkbox if c.key == "health_link_anyway"]:
        anyway.check().run()  # an earlier test's open link is offered: ask for a new one anyway
    levers.set_faults(Faults(error_rate=1.0))  # every API request answers 500
    try:
        at.button(key="health_new_link").click().run()
    finally:
        levers.clear_faults()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Creating the session link: Medblocks had a server error"
    ]
    assert any(re.match(r"^Request id: [0-9a-f-]{36}$", t.value) for t in at.text)
    assert not at.code  # no link shown
    assert len(list(api.patients.sessions(patient_id))) == before  # nothing made, nothing retried
    at.run()  # a rerun does not press the button again
    assert len(list(api.patients.sessions(patient_id))) == before


def test_connection_health_names_are_masked_until_revealed(api: Medblocks) -> None:
    names = {p.id: p.name for p in api.patients.list(limit=100) if p.name}
    at = clean(open_app_page("ui_pages/connection_health.py"))
    table = at.dataframe[0].value
    ids = table["patient_link"].str.extract(PATIENT_LINK_TEXT, expand=False)
    named = [(i, n) for i, n in zip(ids, table["name"], strict=True) if i in names]
    assert named and all(n != names[i] and n.startswith(names[i][0]) for i, n in named)
    at.session_state["reveal_phi"] = True
    clean(at.run())
    table = at.dataframe[0].value
    ids = table["patient_link"].str.extract(PATIENT_LINK_TEXT, expand=False)
    assert all(n == names[i] for i, n in zip(ids, table["name"], strict=True) if i in names)


def test_overview_draws_only_the_open_tab_and_names_it_in_the_url() -> None:
    at = clean(open_app_page("ui_pages/overview.py", charts="Trends, 30 days"))
    assert at.query_params["charts"] == "Trends, 30 days"
    captions = " ".join(c.value for c in at.caption)
    assert "Failures per day by failure code" in captions
    assert "Failures per day by source" in captions
    assert {"Reconnects", "Median", "90th percentile"} <= {m.label for m in at.metric}
    assert "Sessions created → complete → connected." not in captions  # the funnel tab is shut
    # failures first seen at the first sync are counted (and said to be), not "no failures"
    assert not [t.value for t in at.text if t.value.startswith("No failures")]
    by_reason = chart_data(at, 0)
    assert FIRST_SEEN in set(by_reason["seen"])
    assert "already failing when the mirror first saw them" in captions
    at = clean(open_app_page("ui_pages/overview.py", charts="no such tab"))
    assert "charts" not in at.query_params  # an unknown tab is dropped: the first tab opens
    assert len(chart_specs(at)) == 1
