"""The Sandbox page through AppTest against the embedded sandbox, and its data layer."""

from __future__ import annotations

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from medblocks.client import Medblocks, NotFoundError
from medblocks.dashboard import sandbox_levers
from medblocks.dashboard.error_messages import explain
from medblocks.dashboard.target import Target
from medblocks.sandbox import PERSONAS, Faults, RunningSandbox
from medblocks.spec import pinned_version
from tests.dashboard.apptest import APP, open_app_page

PAGE = "ui_pages/sandbox.py"
pytestmark = pytest.mark.usefixtures("app_environment")


def open_sandbox_page(**query: str) -> AppTest:
    return open_app_page(PAGE, **query)


def button(at: AppTest, key: str) -> AppTest:
    return at.button(key=key).click().run()


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def test_the_page_lists_the_personas_and_what_approve_does() -> None:
    at = open_sandbox_page()
    assert not at.exception
    personas = at.dataframe[0].value
    assert list(personas["username"])[:2] == ["user_good", "user_refresh_fail"]
    assert list(personas["username"]) == list(PERSONAS)  # the sandbox's one table
    assert any("the password pass_good" in t.value for t in at.text)
    after = dict(zip(personas["username"], personas["after Approve"], strict=True))
    assert after["user_denied"].startswith("failed: user_denied (You declined")
    assert after["user_refresh_fail"].startswith("active, then refresh_failed 24 sandbox-clock")
    assert after["user_sync_fail"].endswith("(records.sync.failed)")


def test_forcing_an_outcome_says_what_it_will_do_then_does_it(embedded_api: Medblocks) -> None:
    source = next(iter(embedded_api.sources.list())).id
    session = embedded_api.patient_sessions.create(
        patient_id="sandbox_page_force",
        return_url="http://127.0.0.1:8501/connected",
        recommended_connection_ids=[source],
    )
    at = open_sandbox_page(session=session.id)
    at.radio[0].set_value("failed").run()
    codes = next(s for s in at.selectbox if s.label == "Failure code")
    codes.set_value("consent_timeout").run()
    said = " ".join(infos(at))
    assert f"session {session.id}" in said and "picker mode" in said
    assert "consent_timeout" in said and "becomes complete" in said
    assert embedded_api.patient_sessions.retrieve(session.id).status == "open"  # nothing done yet

    at = button(at, "force_outcome")
    assert not at.exception
    assert any("the session is complete" in s.value for s in at.success)
    after = embedded_api.patient_sessions.retrieve(session.id)
    assert after.status == "complete"
    assert [c.failure_code for c in after.connections] == ["consent_timeout"]


def test_a_session_that_is_not_open_is_not_offered_and_an_unknown_one_is_named(
    embedded_api: Medblocks,
) -> None:
    at = open_sandbox_page(session="ps_" + "0" * 26)
    assert not at.exception
    assert any("Reading the session" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "force_outcome"]


def test_advancing_the_clock(sandbox_target: Target) -> None:
    before = sandbox_levers.SandboxLevers(sandbox_target).clock()
    at = open_sandbox_page()
    assert any("Moves the sandbox clock 3,600 s forward" in i for i in infos(at))
    at = button(at, "advance_clock")
    assert not at.exception
    after = sandbox_levers.SandboxLevers(sandbox_target).clock()
    assert after.offset_seconds - before.offset_seconds == pytest.approx(3600, abs=1)
    assert any(s.value.startswith("The sandbox clock now reads 20") for s in at.success)


def test_a_fault_is_on_when_any_field_but_retry_after_is_set() -> None:
    """The page offers "Clear all faults" only when `any`; the sandbox applies faults only then."""
    assert not Faults().any
    assert not Faults(retry_after=30).any  # the wait a burst would announce: no fault by itself
    for on in (
        Faults(latency_ms=1),
        Faults(error_rate=0.1),
        Faults(rate_limit_burst=1),
        Faults(rate_limit_per_second=1),
    ):
        assert on.any, on


def test_faults_are_described_then_applied_and_cleared(sandbox_target: Target) -> None:
    sandbox = sandbox_levers.SandboxLevers(sandbox_target)
    at = open_sandbox_page()
    try:
        limit = next(n for n in at.number_input if n.label.startswith("Rate limit"))
        limit.set_value(500).run()
        latency = next(n for n in at.number_input if n.label == "Latency (ms)")
        latency.set_value(5).run()
        said = " ".join(infos(at))
        assert "each key may make 500 API requests per second" in said
        assert "waits 5 ms" in said
        assert sandbox.faults() == Faults()  # described, not yet applied
        at = button(at, "apply_faults")
        assert not at.exception
        assert sandbox.faults() == Faults(latency_ms=5, rate_limit_per_second=500)
        at = button(at, "clear_faults")
        assert sandbox.faults() == Faults()
    finally:
        sandbox.clear_faults()


def test_reset_asks_first_and_cancel_keeps_everything(embedded_api: Medblocks) -> None:
    embedded_api.patients.create(patient_id="sandbox_page_reset")
    at = open_sandbox_page()
    assert any("This cannot be undone" in w.value for w in at.warning)
    at = button(at, "reset")
    assert any("Reset now?" in e.value for e in at.error)
    at = button(at, "reset_cancelled")
    assert embedded_api.patients.retrieve("sandbox_page_reset").id == "sandbox_page_reset"

    at = button(at, "reset")
    at = button(at, "reset_confirmed")
    assert not at.exception
    assert any("was reset" in s.value for s in at.success)
    with pytest.raises(NotFoundError):
        embedded_api.patients.retrieve("sandbox_page_reset")
    assert embedded_api.patients.retrieve("user_1000").id == "user_1000"  # the demo is back


def test_the_page_is_listed_only_for_a_local_sandbox(
    embedded: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDBLOCKS_API_KEY", embedded.api_key)
    monkeypatch.setenv("MEDBLOCKS_API_URL", embedded.base_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()  # a sandbox key on this machine: listed
    assert at.title[0].value == "Sandbox" and not at.exception

    monkeypatch.setenv("MEDBLOCKS_API_KEY", "mb_sk_live_" + "0" * 26)
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


@pytest.mark.parametrize(
    ("kind", "url", "local"),
    [
        ("embedded", "http://127.0.0.1:1", True),
        ("sandbox", "http://localhost:8787", True),
        ("sandbox", "http://[::1]:8787", True),
        ("sandbox", "https://app.medblocks.com", False),
        ("sandbox", "https://sbx.example.test", False),
        ("live", "http://127.0.0.1:8787", False),
    ],
)
def test_local_sandbox_is_the_embedded_one_or_a_sandbox_key_on_loopback(
    kind: str, url: str, local: bool
) -> None:
    target = Target(kind, url, pinned_version(), True, "k")  # type: ignore[arg-type]
    assert target.is_local_sandbox is local


def test_a_lever_refusal_carries_the_request_id(sandbox_target: Target) -> None:
    sandbox = sandbox_levers.SandboxLevers(sandbox_target)
    with pytest.raises(sandbox_levers.LeverError) as refused:
        sandbox.force_outcome("ps_" + "0" * 26, "active")
    assert refused.value.status == 404 and refused.value.request_id
    assert str(refused.value).startswith(f"request id {refused.value.request_id}")
    nothing = Target("sandbox", "http://127.0.0.1:9", pinned_version(), True, "mb_sk_sbx_x")
    with pytest.raises(sandbox_levers.LeverError, match="did not answer"):
        sandbox_levers.SandboxLevers(nothing).clock()


def test_a_lever_failure_is_explained_like_any_other_with_its_request_id() -> None:
    refused = explain(sandbox_levers.LeverError(404, "No patient session with this id.", "req_1"))
    assert refused.title == "The sandbox refused it"
    assert refused.detail == "No patient session with this id."
    assert refused.request_id_text == "Request id: req_1"
    silent = explain(sandbox_levers.LeverError(None, "http://127.0.0.1:9 did not answer", None))
    assert silent.title == "The sandbox did not answer"
    assert silent.request_id_text == "Request id: none (no response was received)"


def test_a_server_without_levers_is_named(sandbox_target: Target) -> None:
    def no_levers(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>not here</html>")

    sandbox = sandbox_levers.SandboxLevers(sandbox_target, transport=httpx.MockTransport(no_levers))
    with pytest.raises(sandbox_levers.LeverError, match="no /_sandbox/ controls"):
        sandbox.faults()


def test_the_force_body_holds_only_what_the_outcome_allows() -> None:
    assert sandbox_levers.force_body("failed", refresh_fails_after_seconds=5) == {
        "outcome": "failed",
        "failure_code": "user_denied",
    }
    assert sandbox_levers.force_body(
        "active", failure_code="oauth_error", connection_id="fhirsrc_1", records_sync_fails=True
    ) == {"outcome": "active", "connection_id": "fhirsrc_1", "records_sync_fails": True}
