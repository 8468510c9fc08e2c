"""The Webhooks page through AppTest: the patient column, payload and response viewers, and the
documented once-a-minute redelivery limit shown as information with its countdown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from medblocks.client import Medblocks
from medblocks.dashboard.target import embedded_sandbox
from medblocks.sandbox import RunningSandbox

APP = Path(__file__).resolve().parents[2] / "dashboard.py"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MEDBLOCKS_API_KEY", "MEDBLOCKS_API_URL", "MEDBLOCKS_ALLOW_LIVE_WRITES"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def embedded() -> RunningSandbox:
    return embedded_sandbox()


@pytest.fixture
def api(embedded: RunningSandbox) -> Iterator[Medblocks]:
    with Medblocks(embedded.api_key, base_url=embedded.base_url) as client:
        yield client


def completed_session_event(embedded: RunningSandbox, api: Medblocks, patient_id: str) -> tuple:
    """A session completed through the sandbox control: its patient_session.completed event."""
    source = next(iter(api.sources.list())).id
    session = api.patient_sessions.create(
        patient_id=patient_id,
        return_url="http://127.0.0.1:8501/connected",
        recommended_connection_ids=[source],
    )
    httpx.post(
        f"{embedded.base_url}/_sandbox/patient-sessions/{session.id}/complete",
        json={"outcome": "active", "connection_id": source},
        headers={"Authorization": f"Bearer {embedded.api_key}"},
    ).raise_for_status()
    endpoint = next(iter(api.webhooks.list()))
    event = next(
        e
        for e in api.webhooks.events(endpoint.id)
        if e.type == "patient_session.completed" and e.data.object["id"] == session.id
    )
    return session, endpoint, event


def open_webhooks(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("ui_pages/webhooks.py")
    at.query_params.update(query)
    return at.run()


def test_events_name_their_patient_and_open_in_payload_and_response_viewers(
    embedded: RunningSandbox, api: Medblocks
) -> None:
    session, endpoint, event = completed_session_event(embedded, api, "webhooks_page_patient")
    at = open_webhooks(endpoint=endpoint.id, event=event.id)
    assert not at.exception
    events = at.dataframe[1].value
    row = events[events["id"] == event.id].iloc[0]
    assert row["patient_id"] == "webhooks_page_patient"
    payload, response = (c.value for c in at.code)
    assert f'"id": "{session.id}"' in payload and '"patient_id": "webhooks_page_patient"' in payload
    captions = [c.value for c in at.caption]
    assert "Payload (patient_session.completed, data.object)" in captions
    assert any(c.startswith("Last response: ") for c in captions)
    # The background delivery may have tried the (unreachable) demo receiver meanwhile.
    fresh = next(e for e in api.webhooks.events(endpoint.id) if e.id == event.id)
    assert response in {"(empty)", fresh.last_response_body}


def test_the_redelivery_limit_is_information_with_a_countdown(
    embedded: RunningSandbox, api: Medblocks
) -> None:
    _, endpoint, event = completed_session_event(embedded, api, "webhooks_page_limit")
    at = open_webhooks(endpoint=endpoint.id, event=event.id)
    at.button(key="redeliver").click().run()
    assert [s.value for s in at.success] == [
        "Queued for redelivery (one redelivery per event per minute)."
    ]
    at.button(key="redeliver").click().run()  # again within the minute: the documented 429
    assert not at.error and not at.exception
    [info] = [i.value for i in at.info]
    assert info.startswith("Medblocks allows one redelivery per event per minute.")
    seconds = int(info.rsplit("in ", 1)[1].removesuffix(" s."))
    assert 1 <= seconds <= 60
