"""The real dashboard through Streamlit's AppTest, against the embedded sandbox it starts itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from medblocks.client import Medblocks, NotFoundError
from medblocks.dashboard.frames import STUCK_AFTER_TEXT
from medblocks.dashboard.tables import LABELS
from medblocks.dashboard.target import embedded_sandbox
from medblocks.sandbox import RunningSandbox
from medblocks.spec.failure_codes import failure_wording

APP = Path(__file__).resolve().parents[2] / "dashboard.py"


@pytest.fixture(autouse=True)
def reports_in_tmp(app_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing configured (the conftest's `app_environment`); contract reports in `tmp_path`."""
    monkeypatch.setenv("MEDBLOCKS_REPORTS_DIR", str(tmp_path / "reports"))


@pytest.fixture
def api(embedded_api: Medblocks) -> Medblocks:
    return embedded_api


def open_page(page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if page is None:
        at.query_params.update(query)
        return at.run()
    at.run()
    at.switch_page(page)
    at.query_params.update(query)
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not errors(at), errors(at) + texts(at)


def test_overview_shows_the_embedded_target_and_its_demo_data(api: Medblocks) -> None:
    at = open_page()
    assert_clean(at)
    assert at.title[0].value == "Overview"
    assert "Embedded sandbox (local emulator, demo data)" in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["/health"] == "ok"
    assert metrics["Version sent"] == "2026-04-25"
    patients = list(api.patients.list(limit=100))
    assert int(metrics["Patients"]) == len(patients)
    statuses = [c.status for p in patients for c in api.patients.retrieve(p.id).connections]
    for status in ("active", "failed", "refresh_failed", "expired", "disconnected"):
        words = LABELS[status].lower()  # "Connections refresh failed": words, not enum names
        assert int(metrics[f"Connections {words}"]) == statuses.count(status)
    # only the open tab is drawn: by default the chart of connections by status
    assert at.tabs[0].label == "Connections by status"
    assert len(at.get("vega_lite_chart")) == 1


def test_patients_are_masked_until_revealed(api: Medblocks) -> None:
    names = [p.name for p in api.patients.list(limit=100) if p.name]
    at = open_page("ui_pages/patients.py")
    assert_clean(at)
    table = at.dataframe[0].value
    assert not set(names) & set(table["name"])
    # The toggle is the frame's (dashboard.py). After `switch_page` AppTest's tree holds only the
    # page's own elements (the browser test sees the frame on every page), so set its state.
    at.session_state["reveal_phi"] = True
    at.run()
    assert set(names) <= set(at.dataframe[0].value["name"])


def test_patient_filters_live_in_the_url_and_open_a_patient(api: Medblocks) -> None:
    patient = next(
        p for p in api.patients.list(limit=100) if api.patients.retrieve(p.id).connections
    )
    at = open_page("ui_pages/patients.py", patient_id=patient.id, open=patient.id)
    assert_clean(at)
    assert list(at.dataframe[0].value["patient_id"]) == [patient.id]
    assert at.query_params["patient_id"] == patient.id
    connections = at.dataframe[1].value
    assert sorted(connections["id"]) == sorted(
        c.id for c in api.patients.retrieve(patient.id).connections
    )


def test_disconnect_needs_confirmation(api: Medblocks) -> None:
    api.patient_sessions.create(patient_id="dash_disconnect", return_url="http://127.0.0.1/x")
    patient = next(
        p.id
        for p in api.patients.list(limit=100)
        if any(c.status == "active" for c in api.patients.retrieve(p.id).connections)
    )
    conn = next(c.id for c in api.patients.retrieve(patient).connections if c.status == "active")
    at = open_page("ui_pages/patients.py", open=patient)
    at.selectbox[0].set_value(conn).run()
    at.button(key="disconnect_ask").click().run()
    assert {c.id: c.status for c in api.patients.retrieve(patient).connections}[conn] == "active"
    at.button(key="disconnect_confirm").click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == ["Disconnected."]
    statuses = {c.id: c.status for c in api.patients.retrieve(patient).connections}
    assert statuses[conn] == "disconnected"
    # the page was drawn again: its table says so, without a reload
    shown = at.dataframe[1].value
    assert list(shown[shown["id"] == conn]["status"]) == ["disconnected"]
    # its timeline, newest first: the disconnect, seen as the dashboard's action, by whom
    timeline = at.dataframe[2].value
    newest = timeline[timeline["connection"] == conn].iloc[0]
    assert (newest["to"], newest["how"], newest["who"]) == (
        "disconnected",
        "dashboard action",
        "local user",
    )


def test_connection_health_filters_come_from_the_url() -> None:
    at = open_page("ui_pages/connection_health.py", status="failed")
    assert_clean(at)
    table = at.dataframe[0].value
    assert len(table) and set(table["status"]) == {"failed"}
    assert at.get("download_button")
    assert len(at.dataframe) == 1  # only the open tab's table is drawn
    at = open_page("ui_pages/connection_health.py", status="failed", list="Needs attention")
    assert_clean(at)
    (attention,) = (frame.value for frame in at.dataframe)
    assert len(attention) and set(attention["status"]) == {"failed"}
    assert attention["tell_patient"].str.len().min() > 20
    at = open_page("ui_pages/connection_health.py", list="Stuck pulls")
    assert_clean(at)
    assert any(f"source {STUCK_AFTER_TEXT} after" in c.value for c in at.caption)


def test_sessions_page_lists_every_session(api: Medblocks) -> None:
    total = sum(len(list(api.patients.sessions(p.id))) for p in api.patients.list(limit=100))
    at = open_page("ui_pages/sessions.py")
    at.button(key="mirror_sync_now").click().run()  # sessions made through the API: no event
    assert_clean(at)
    assert len(at.dataframe[0].value) == total


def test_sources_page_uses_the_api_filters(api: Medblocks) -> None:
    at = open_page("ui_pages/sources.py", q="epic")
    assert_clean(at)
    everything = open_page("ui_pages/sources.py")
    assert len(everything.dataframe[0].value) == len(list(api.sources.list()))
    at = open_page("ui_pages/sources.py", vendor="epic")
    table = at.dataframe[0].value
    assert len(table) and set(table["type"]) == {"epic"}


def test_launch_creates_one_session_and_shows_its_link(api: Medblocks) -> None:
    at = open_page("ui_pages/launch.py", patient_id="dash_launch_1")
    assert_clean(at)
    at.text_input(key="launch_label").input("the workbench")
    at.button(key="launch_button").click().run()
    assert_clean(at)
    sessions = list(api.patients.sessions("dash_launch_1"))
    assert len(sessions) == 1
    assert sessions[0].id in texts(at)
    assert [b.url for b in at.get("link_button")] == [sessions[0].url]
    at.run()  # a rerun never creates a second session
    assert len(list(api.patients.sessions("dash_launch_1"))) == 1


def test_launch_refuses_a_bad_form() -> None:
    at = open_page("ui_pages/launch.py", patient_id="conn_reserved")
    assert not at.warning  # checked when Create is pressed, not before
    at.button(key="launch_button").click().run()
    assert any("reserved prefix" in w.value for w in at.warning)
    at.text_input(key="launch_patient").input("fine_id")
    at.text_area(key="launch_metadata").input("{not json")
    at.button(key="launch_button").click().run()
    assert any("not valid JSON" in w.value for w in at.warning)
    assert at.button(key="launch_button")  # still the form: nothing was launched


def demo_session(api: Medblocks, predicate: Any) -> Any:
    for patient in api.patients.list(limit=100):
        for session in api.patients.sessions(patient.id):
            if predicate(session):
                return session
    raise AssertionError("the demo data has no such session")


def test_return_page_connected(api: Medblocks) -> None:
    session = demo_session(
        api, lambda s: s.connections and all(c.status == "active" for c in s.connections)
    )
    at = open_page(
        "ui_pages/connected.py", patient_id=session.patient_id, patient_session_id=session.id
    )
    assert not at.exception
    assert [s.value for s in at.success] == ["Connected — pulling records"]
    links = {link.proto.label: link.proto for link in at.get("page_link")}
    back = links["Open the patient"]  # not a dead end: on to the patient
    assert back.page.endswith("ui_pages/patients.py") or "patients" in back.page
    assert f"open={session.patient_id}" in back.query_string


def test_return_page_failed_shows_codes_in_words_and_request_id(api: Medblocks) -> None:
    session = demo_session(
        api,
        lambda s: s.connections and all(c.status == "failed" for c in s.connections),
    )
    at = open_page(
        "ui_pages/connected.py", patient_id=session.patient_id, patient_session_id=session.id
    )
    assert errors(at) == ["Connection failed"]
    code = session.connections[0].failure_code
    assert any(code in t and "—" in t for t in texts(at))
    assert any(t.startswith("Request id: ") and "none" not in t for t in texts(at))
    # The shared failure-code table's words, and its next step for the first failed attempt.
    assert any(failure_wording(code).what_happened in t for t in texts(at))
    assert [i.value for i in at.info] == [f"Next step: {failure_wording(code).next_step}"]


def test_return_page_unknown_session_and_tampered_link(api: Medblocks) -> None:
    at = open_page(
        "ui_pages/connected.py",
        patient_id="user_1",
        patient_session_id="ps_01ZZZZZZZZZZZZZZZZZZZZZZZZ",
    )
    assert errors(at) == ["This return link cannot be checked"]
    assert "No session with this id exists in this organisation." in texts(at)
    assert any(t.startswith("Request id: ") and "none" not in t for t in texts(at))
    session = demo_session(api, lambda s: True)
    at = open_page("ui_pages/connected.py", patient_id="intruder", patient_session_id=session.id)
    assert errors(at) == ["This return link cannot be checked"]
    assert any("altered" in t for t in texts(at))
    at = open_page("ui_pages/connected.py", patient_id="x", patient_session_id="<b>hi</b>")
    assert errors(at) == ["This return link cannot be checked"]


def test_webhooks_page_lists_endpoints_and_events(api: Medblocks) -> None:
    at = open_page("ui_pages/webhooks.py")
    assert_clean(at)
    assert list(at.dataframe[0].value["id"]) == [e.id for e in api.webhooks.list(limit=100)]
    events = at.dataframe[1].value
    assert set(events["delivery"]) <= {"delivered", "retrying", "failed"}


def test_contract_page_shows_the_command_line_run(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    summary = {
        "target": "embedded",
        "base_url": "http://127.0.0.1:1",
        "started_at": "2026-11-25T10:00:00Z",
        "finished_at": "2026-11-25T10:01:00Z",
        "passed": 41,
        "failed": 1,
        "drift_headline": "in-sync",
        "coverage": {"api.health": [200]},
        "failures": [
            {"operation": "api.health", "check": "status", "message": "m", "request_id": "r"}
        ],
    }
    (reports / "contract-summary.json").write_text(json.dumps(summary))
    (reports / "drift.json").write_text(json.dumps({"headline": "in-sync"}))
    at = open_page("ui_pages/contract.py")
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Passed"] == "41" and metrics["Drift"] == "in-sync"
    assert list(at.dataframe[0].value["request_id"]) == ["r"]
    assert at.button(key="run_contract")


# -- upstream trouble: a clear message with the request id, the rest of the page keeps going ----


def test_bad_key_is_a_clear_message_with_request_id(
    embedded: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_KEY", "mb_sk_sbx_" + "0" * 26)
    monkeypatch.setenv("MEDBLOCKS_API_URL", embedded.base_url)
    at = open_page()  # the mirror tries the key (one read) before anything is written to it
    assert not at.exception
    assert any("The API key was refused" in e for e in errors(at))
    assert any(t.startswith("Request id: ") and "none" not in t for t in texts(at))
    assert any(s.value.startswith("Local sandbox at 127.0.0.1:") for s in at.subheader)
    assert "mb_sk_sbx_" not in json.dumps([texts(at), errors(at)])


def test_sandbox_down_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_KEY", "mb_sk_sbx_" + "0" * 26)
    monkeypatch.setenv("MEDBLOCKS_API_URL", "http://127.0.0.1:9")
    at = open_page("ui_pages/sources.py")
    assert not at.exception
    assert any("cannot be reached" in e for e in errors(at))
    assert "Request id: none (no response was received)" in texts(at)


def test_live_key_is_read_only_under_a_banner(
    embedded: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_KEY", "mb_sk_live_" + "0" * 26)
    monkeypatch.setenv("MEDBLOCKS_API_URL", embedded.base_url)
    at = open_page()
    assert not at.exception
    # A live key on a loopback URL is not production: named for what it is, still read-only.
    assert not any("LIVE — production" in e for e in errors(at))
    assert any("is not Medblocks" in w.value for w in at.warning)
    # no write anywhere ("Sync now" would only read the API into the mirror; this key is
    # refused by the sandbox, so the mirror says so instead and offers nothing)
    assert {b.key for b in at.button} <= {"mirror_sync_now", "refresh_data"}
    assert any("The API key was refused" in e for e in errors(at))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("ui_pages/launch.py")  # Launch is left out of the navigation

    monkeypatch.setenv("MEDBLOCKS_ALLOW_LIVE_WRITES", "true")
    st.cache_resource.clear()  # configuration is read once per process
    at = open_page()
    at.switch_page("ui_pages/launch.py").run()
    assert at.title[0].value == "Launch a session"


def test_configuration_error_stops_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_KEY", "mb_sk_test_nope")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert errors(at) == ["The configuration cannot be used."]
    assert any("mb_sk_sbx_" in t for t in texts(at))


def sandbox_control(sandbox: RunningSandbox, method: str, path: str, body: Any = None) -> None:
    response = httpx.request(
        method,
        f"{sandbox.base_url}/_sandbox/{path}",
        json=body,
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    response.raise_for_status()


def test_rate_limiting_is_a_clear_message_with_request_id(embedded: RunningSandbox) -> None:
    # Three 429s: the first answer and the client's two retries (it honours Retry-After: 1).
    at = AppTest.from_file(APP, default_timeout=60).run()
    sandbox_control(embedded, "PUT", "faults", {"rate_limit_burst": 3, "retry_after": 1})
    try:
        at.switch_page("ui_pages/sources.py").run()
    finally:
        sandbox_control(embedded, "DELETE", "faults")
    assert not at.exception
    assert any("rate limiting requests; retry in 1" in e for e in errors(at)), errors(at)
    assert any(t.startswith("Request id: ") and "none" not in t for t in texts(at))
    assert at.title[0].value == "Sources" and at.text_input


def test_launch_shows_the_session_status_live(api: Medblocks) -> None:
    at = open_page("ui_pages/launch.py", patient_id="dash_live_status")
    at.button(key="launch_button").click().run()
    session = next(iter(api.patients.sessions("dash_live_status")))
    assert any(i.value.startswith("Waiting for the patient to open the link") for i in at.info)
    assert session.status == "open"


def test_sessions_close_to_expiry_are_highlighted(api: Medblocks) -> None:
    soon = api.patient_sessions.create(
        patient_id="dash_expiring", return_url="http://127.0.0.1:8501/connected", expires_in=60
    )
    at = open_page("ui_pages/sessions.py", status="open")
    at.button(key="mirror_sync_now").click().run()
    assert_clean(at)
    table = at.dataframe[0].value
    flagged = table.set_index("id")["expires_soon"]
    assert flagged[soon.id]
    assert set(table["status"]) == {"open"}


def test_redeliver_queues_an_event(api: Medblocks) -> None:
    endpoint, event = next(  # the demo's endpoint (the dashboard's mirror registers one too)
        (endpoint, event)
        for endpoint in api.webhooks.list()
        for event in api.webhooks.events(endpoint.id)
        if event.last_redelivered_at is None
    )
    at = open_page("ui_pages/webhooks.py", endpoint=endpoint.id)
    at.selectbox[1].set_value(event.id).run()
    at.button(key="redeliver").click().run()
    assert_clean(at)
    assert [s.value for s in at.success] == [
        "Queued for redelivery (one redelivery per event per minute)."
    ]
    redelivered = next(e for e in api.webhooks.events(endpoint.id) if e.id == event.id)
    assert redelivered.last_redelivered_at is not None


def test_login_is_required_when_auth_is_configured() -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "dashboard",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.metric
    at.user = {"is_logged_in": True, "email": "ops@example.test"}
    at.run()
    assert at.title[0].value == "Overview"


def test_server_errors_are_a_clear_message(embedded: RunningSandbox) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    sandbox_control(embedded, "PUT", "faults", {"error_rate": 1.0})
    try:
        at.switch_page("ui_pages/sources.py").run()
    finally:
        sandbox_control(embedded, "DELETE", "faults")
    assert not at.exception
    assert errors(at) == ["Reading the catalog: Medblocks had a server error"]
    assert any(t.startswith("Request id: ") and "none" not in t for t in texts(at))


def test_an_unknown_version_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_VERSION", "2020-01-01")
    at = open_page()
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    assert metrics["Version sent"].value == "2020-01-01"
    assert metrics["Version sent"].delta == "differs from pinned spec"
    assert any("The Version header is not supported" in e for e in errors(at))


def test_a_failed_launch_is_not_retried_by_clicking_again(
    api: Medblocks, embedded: RunningSandbox
) -> None:
    at = open_page("ui_pages/launch.py", patient_id="dash_failed_launch")
    sandbox_control(embedded, "PUT", "faults", {"error_rate": 1.0})
    try:
        at.button(key="launch_button").click().run()
        assert any(e.startswith("Creating the session: ") for e in errors(at))
        at.run()
    finally:
        sandbox_control(embedded, "DELETE", "faults")
    assert "Creating the session failed; it is never retried automatically." in errors(at)
    at.run()  # faults gone, same intent (in the URL): still no retry, and no Create button
    assert "launch_button" not in [b.key for b in at.button]
    with pytest.raises(NotFoundError):  # the patient was never even created
        api.patients.retrieve("dash_failed_launch")
    at.button(key="launch_again").click().run()
    at.button(key="launch_button").click().run()
    assert_clean(at)
    assert len(list(api.patients.sessions("dash_failed_launch"))) == 1


def test_launch_from_a_patient_carries_the_patient_id(
    embedded: RunningSandbox, api: Medblocks
) -> None:
    assert embedded_sandbox() is embedded  # one embedded sandbox per process
    patient_id = next(iter(api.patients.list())).id
    at = open_page("ui_pages/patients.py", open=patient_id)
    next(b for b in at.button if b.label == "Launch a session for this patient").click().run()
    assert not at.exception
    assert at.title[0].value == "Launch a session"
    assert at.text_input(key="launch_patient").value == patient_id


def test_streamlit_binds_loopback_without_usage_statistics() -> None:
    import tomllib

    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False
