"""The Launch page through AppTest against the embedded sandbox: guidance, no error before input,
the launched view (link, hosted page, live status with source names), recent launches, and one
session per intent carried by the URL and the shared ledger."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from medblocks.client import Medblocks
from medblocks.dashboard.launch import MODE_GUIDANCE, new_intent_id
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.mirror_reads import embedded_database_url
from medblocks.mirror import database_url, open_mirror
from medblocks.mirror.schema import launches
from medblocks.mirror.watch import open_session_ids
from medblocks.sandbox import PERSONAS, RunningSandbox

APP = Path(__file__).resolve().parents[2] / "dashboard.py"


@pytest.fixture(autouse=True)
def ledger_in_tmp(app_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing configured (the conftest's `app_environment`); the launch ledger in `tmp_path`."""
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", f"sqlite:///{tmp_path / 'dashboard.sqlite3'}")


@pytest.fixture
def api(embedded_api: Medblocks) -> Medblocks:
    return embedded_api


def launch_page(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("ui_pages/launch.py")
    at.query_params.update(query)
    return at.run()


def shown(at: AppTest) -> str:
    """Every text, caption, markdown, alert and code block on the page, one per line."""
    kinds = ("text", "caption", "markdown", "info", "warning", "error", "success", "code")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def intent_in_url(at: AppTest) -> str:
    value = at.query_params["intent"]
    return value if isinstance(value, str) else value[0]


def assert_no_problem(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_a_fresh_form_explains_and_shows_no_error_before_input() -> None:
    at = launch_page()
    assert_no_problem(at)
    assert not at.warning  # nothing typed, nothing pressed: nothing to complain about
    radio = at.radio(key="launch_mode")
    assert radio.options == ["picker", "direct"]
    page = str(radio.proto.captions) + shown(at)
    assert all(sentence in page for sentence in MODE_GUIDANCE.values())
    personas = next(df.value for df in at.dataframe if "after Approve" in df.value.columns)
    assert list(personas["username"]) == list(PERSONAS)  # the sandbox's one table
    assert "user_denied" in set(personas["username"]) and "pass_good" in shown(at)
    assert len(intent_in_url(at)) == 32  # the intent is in the URL from the start
    assert "No launches yet." in shown(at)


def test_errors_show_on_create_only_and_nothing_is_created(api: Medblocks) -> None:
    at = launch_page()
    at.button(key="launch_button").click().run()
    assert [w.value for w in at.warning] == ["Patient id is required."]
    at.text_input(key="launch_patient").input("conn_reserved_one").run()
    assert any("reserved prefix" in w.value for w in at.warning)  # follows the edits once tried
    at.text_input(key="launch_patient").input("dash_page_bad_json")
    at.text_area(key="launch_metadata").input("{not json").run()
    at.button(key="launch_button").click().run()
    [warning] = at.warning  # the id is fine now; only the metadata is wrong
    assert warning.value.startswith("Metadata is not valid JSON")
    assert list(api.patients.list(patient_id="dash_page_bad_json")) == []
    assert at.button(key="launch_button")  # still the form: nothing was launched


def test_after_create_the_link_hosted_page_live_status_and_recent_launch(
    api: Medblocks, embedded: RunningSandbox
) -> None:
    source = next(iter(api.sources.list()))
    at = launch_page(patient_id="dash_page_direct")
    at.radio(key="launch_mode").set_value("direct").run()
    at.selectbox(key="launch_source").set_value(source.id)
    at.button(key="launch_button").click().run()
    assert_no_problem(at)
    [session] = api.patients.sessions("dash_page_direct")
    heading = f"Patient dash_page_direct, direct mode: {source.name}"
    assert heading in [h.value for h in at.subheader]
    assert [c.value for c in at.code] == [session.url]  # the link to copy
    assert [b.url for b in at.get("link_button")] == [session.url]
    assert "Waiting for the patient to open the link" in shown(at)
    assert not at.success  # an open session is not a success
    # the dashboard's (the embedded sandbox's own): the launch is in it before the page showed it
    mirror = open_mirror(embedded_database_url(database_url()))
    try:
        assert session.id in open_session_ids(mirror)
    finally:
        mirror.close()

    # The patient approves (the sandbox's lever acts as the patient); the next read shows it.
    httpx.post(
        f"{embedded.base_url}/_sandbox/patient-sessions/{session.id}/complete",
        json={"outcome": "active"},
        headers={"Authorization": f"Bearer {embedded.api_key}"},
    ).raise_for_status()
    at.run()  # no "Refresh data": the live status and the recent launches read the server
    assert [s.value for s in at.success] == [f"Connected: {source.name}."]
    attempts = next(df.value for df in at.dataframe if "source" in df.value.columns)
    assert list(attempts["source"]) == [source.name] and list(attempts["status"]) == ["active"]
    assert source.id not in set(attempts["source"])  # names, not ids

    recent = next(df.value for df in at.dataframe if "outcome" in df.value.columns)
    row = recent.iloc[0]
    assert row["patient"] == "dash_page_direct" and row["mode"] == "direct"
    assert row["outcome"] == "connected" and row["hosted page"] == session.url
    assert row["launch"].endswith(f"/launch?intent={intent_in_url(at)}")


def test_a_failed_session_says_so_in_words(api: Medblocks, embedded: RunningSandbox) -> None:
    source = next(iter(api.sources.list()))
    at = launch_page(patient_id="dash_page_denied")
    at.button(key="launch_button").click().run()
    [session] = api.patients.sessions("dash_page_denied")
    httpx.post(  # picker mode: the patient tries one source and declines, then Done
        f"{embedded.base_url}/_sandbox/patient-sessions/{session.id}/complete",
        json={"outcome": "failed", "failure_code": "user_denied", "connection_id": source.id},
        headers={"Authorization": f"Bearer {embedded.api_key}"},
    ).raise_for_status()
    st.cache_data.clear()
    at.run()
    assert not at.success
    assert "The patient finished without an active connection." in shown(at)
    attempts = next(df.value for df in at.dataframe if "what happened" in df.value.columns)
    assert "declined" in attempts.iloc[0]["what happened"]
    recent = next(df.value for df in at.dataframe if "outcome" in df.value.columns)
    assert recent.iloc[0]["outcome"] == "finished, nothing connected"


def test_the_same_url_shows_the_one_launch_in_a_second_browser_session(api: Medblocks) -> None:
    first = launch_page(patient_id="dash_page_two_tabs")
    intent = intent_in_url(first)
    first.button(key="launch_button").click().run()
    # A second browser session (another tab, or a reload) opening the same URL.
    second = launch_page(intent=intent, patient_id="dash_page_two_tabs")
    assert_no_problem(second)
    assert "launch_button" not in [b.key for b in second.button]
    [session] = api.patients.sessions("dash_page_two_tabs")
    assert session.id in [t.value for t in second.text]
    assert [c.value for c in second.code] == [session.url]
    second.run()
    assert len(list(api.patients.sessions("dash_page_two_tabs"))) == 1


def test_two_tabs_on_one_url_before_create_make_one_session(api: Medblocks) -> None:
    first = launch_page(patient_id="dash_page_race")
    intent = intent_in_url(first)
    second = launch_page(intent=intent, patient_id="dash_page_race")  # the form in both tabs
    second.text_input(key="launch_label").input("other details")
    first.button(key="launch_button").click().run()
    second.button(key="launch_button").click().run()  # the intent is claimed: no second create
    assert_no_problem(second)
    assert "nothing new was created" in shown(second)
    [session] = api.patients.sessions("dash_page_race")
    assert [c.value for c in second.code] == [session.url]
    assert session.return_button_label is None  # the first tab's launch, not the second's


def test_a_launch_being_created_elsewhere_is_waited_for_not_repeated(
    api: Medblocks, tmp_path: Path
) -> None:
    intent = new_intent_id()
    ledger = Ledger(f"sqlite:///{tmp_path / 'dashboard.sqlite3'}")
    ledger.begin(  # another run claimed the intent and is still inside the create call
        intent_id=intent,
        target="embedded",
        launched_by="another tab",
        patient_id="dash_page_in_flight",
        mode="picker",
        request={"patient_id": "dash_page_in_flight"},
    )
    at = launch_page(intent=intent)
    assert_no_problem(at)
    assert "The session is being created" in shown(at)
    assert "launch_button" not in [b.key for b in at.button]  # no form, so no second create
    made = api.patient_sessions.create(
        patient_id="dash_page_in_flight", return_url="http://127.0.0.1:8501/connected"
    )
    ledger.succeed(intent, session_id=made.id, session_url=made.url)
    at.run()
    assert [c.value for c in at.code] == [made.url]
    assert len(list(api.patients.sessions("dash_page_in_flight"))) == 1


def test_a_failed_create_is_recorded_and_retried_only_on_request(
    api: Medblocks, embedded: RunningSandbox
) -> None:
    faults = f"{embedded.base_url}/_sandbox/faults"
    auth = {"Authorization": f"Bearer {embedded.api_key}"}
    at = launch_page(patient_id="dash_page_failed")
    at.text_input(key="launch_label").input("back to the workbench")
    httpx.put(faults, json={"error_rate": 1.0}, headers=auth).raise_for_status()
    try:
        at.button(key="launch_button").click().run()
    finally:
        httpx.delete(faults, headers=auth).raise_for_status()
    assert any(e.value.startswith("Creating the session: ") for e in at.error)
    assert "Creating the session failed; it is never retried automatically." in shown(at)
    failed_intent = intent_in_url(at)
    at.run()  # a rerun (or reload) of the failed launch does not try again
    assert "launch_button" not in [b.key for b in at.button]
    assert list(api.patients.list(patient_id="dash_page_failed")) == []

    at.button(key="launch_again").click().run()  # deliberate: a new intent, the same details
    assert intent_in_url(at) != failed_intent
    assert at.text_input(key="launch_patient").value == "dash_page_failed"
    assert at.text_input(key="launch_label").value == "back to the workbench"
    at.button(key="launch_button").click().run()
    assert_no_problem(at)
    [session] = api.patients.sessions("dash_page_failed")
    assert session.return_button_label == "back to the workbench"
    recent = next(df.value for df in at.dataframe if "outcome" in df.value.columns)
    assert list(recent["outcome"]) == ["waiting for the patient", "create failed (not retried)"]

    at.button(key="launch_new").click().run()
    assert at.text_input(key="launch_patient").value == ""
    assert not at.warning


def test_a_claim_that_never_finished_says_so_and_offers_a_new_launch(tmp_path: Path) -> None:
    intent = new_intent_id()
    ledger = Ledger(f"sqlite:///{tmp_path / 'dashboard.sqlite3'}")
    ledger.begin(
        intent_id=intent,
        target="embedded",
        launched_by="a dashboard that stopped",
        patient_id="dash_page_interrupted",
        mode="picker",
        request={"patient_id": "dash_page_interrupted", "expires_in": 900},
    )
    with ledger.mirror.write() as db:  # the claim is older than any create can take
        db.execute(
            sa.update(launches)
            .where(launches.c.intent_id == intent)
            .values(requested_at="2026-01-01T00:00:00.000Z")
        )
    at = launch_page(intent=intent)
    assert_no_problem(at)
    assert any("may or may not exist" in w.value for w in at.warning)
    assert "launch_button" not in [b.key for b in at.button]
    at.button(key="launch_again").click().run()
    assert at.text_input(key="launch_patient").value == "dash_page_interrupted"
    assert at.number_input(key="launch_expiry").value == 900
    assert intent_in_url(at) != intent


def test_launch_again_refills_a_direct_launch_with_its_source(api: Medblocks) -> None:
    source = next(iter(api.sources.list()))
    at = launch_page(patient_id="dash_page_direct_again")
    at.radio(key="launch_mode").set_value("direct").run()
    at.selectbox(key="launch_source").set_value(source.id)
    at.text_input(key="launch_name").input("Jane Example")
    at.button(key="launch_button").click().run()
    first = intent_in_url(at)
    at.button(key="launch_again").click().run()
    assert_no_problem(at)
    assert intent_in_url(at) != first and "patient_id" not in at.query_params
    assert at.radio(key="launch_mode").value == "direct"
    assert at.selectbox(key="launch_source").value == source.id
    assert at.text_input(key="launch_patient").value == "dash_page_direct_again"
    assert at.text_input(key="launch_name").value == ""  # the name was never kept
    assert not at.warning
