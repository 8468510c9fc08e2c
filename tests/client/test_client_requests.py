"""What goes on the wire: headers on every request, bodies as the spec wants them, query and
path encoding, the target checks. Recorded with MockTransport (the sandbox does not echo
requests back)."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest

from medblocks import AsyncMedblocks, Medblocks
from medblocks.client import NOT_GIVEN
from tests.client.conftest import MOCK_KEY
from tests.client.mocks import EMPTY_LIST, PATIENT, Recorder

WEBHOOK = {
    "id": "wh_1",
    "resource_type": "webhook_endpoint",
    "url": "https://hooks.example.test/x",
    "events": ["*"],
    "status": "active",
    "description": None,
    "metadata": {},
    "api_version": "2026-04-25",
    "created_at": "2026-04-25T14:30:00.000Z",
    "updated_at": "2026-04-25T14:30:00.000Z",
}


def test_every_request_carries_auth_version_and_user_agent(mock_client) -> None:
    recorder = Recorder(httpx.Response(200, json=EMPTY_LIST), httpx.Response(200, json=PATIENT))
    client = mock_client(recorder)
    client.patients.list_page()
    client.patients.create("user_1")
    get, post = recorder.requests
    for request in (get, post):
        assert request.headers["Authorization"] == f"Bearer {MOCK_KEY}"
        assert request.headers["Version"] == "2026-04-25"
        assert request.headers["User-Agent"].startswith("medblocks-workbench/0.1.0")
    assert "Content-Type" not in get.headers
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.content) == {"patient_id": "user_1"}


def test_api_version_can_be_chosen(mock_client) -> None:
    recorder = Recorder(httpx.Response(200, json=EMPTY_LIST))
    mock_client(recorder, api_version="2026-05-01").patients.list_page()
    assert recorder.requests[0].headers["Version"] == "2026-05-01"


def test_replace_sends_every_field_and_null_clears(mock_client) -> None:
    recorder = Recorder(httpx.Response(200, json=PATIENT))
    client = mock_client(recorder)
    client.patients.replace("user_1", email=None, name="Ann", metadata=None)
    client.patients.replace("user_1", email="a@example.test", name=None, metadata={"k": 1})
    first, second = (json.loads(r.content) for r in recorder.requests)
    assert first == {"patient_id": "user_1", "email": None, "name": "Ann"}
    assert second == {
        "patient_id": "user_1",
        "email": "a@example.test",
        "name": None,
        "metadata": {"k": 1},
    }
    assert all(r.method == "PUT" for r in recorder.requests)


def test_replace_requires_every_field_by_keyword(mock_client) -> None:
    client = mock_client(Recorder(httpx.Response(200, json=PATIENT)))
    with pytest.raises(TypeError):
        client.patients.replace("user_1", name="Ann")  # type: ignore[call-arg]


def test_webhook_update_sends_only_what_is_given(mock_client) -> None:
    recorder = Recorder(httpx.Response(200, json=WEBHOOK))
    client = mock_client(recorder)
    client.webhooks.update("wh_1", status="disabled")
    client.webhooks.update("wh_1", description=None, url=NOT_GIVEN)
    first, second = (json.loads(r.content) for r in recorder.requests)
    assert first == {"status": "disabled"}
    assert second == {"description": None}


def test_query_parameters_and_path_segments(mock_client) -> None:
    records = {
        "resource_type": "list",
        "patient_id": "team/1",
        "data": [],
        "has_more": False,
        "next_cursor": None,
        "previous_cursor": None,
    }
    recorder = Recorder(
        httpx.Response(200, json=records),
        httpx.Response(200, json=EMPTY_LIST),
        httpx.Response(200, json=EMPTY_LIST),
    )
    client = mock_client(recorder)
    client.patients.records(
        "team/1", type=["Observation", "Condition"], since=date(2026, 1, 2), count=5
    )
    client.webhooks.events_page("wh_1", delivered=False)
    client.patients.list_page(email="x@example.test", limit=3)
    records_request, events_request, list_request = recorder.requests
    assert records_request.url.raw_path.startswith(b"/patients/team%2F1/records?")
    assert dict(records_request.url.params) == {
        "type": "Observation,Condition",
        "since": "2026-01-02",
        "count": "5",
    }
    assert dict(events_request.url.params) == {"delivered": "false"}
    assert dict(list_request.url.params) == {"email": "x@example.test", "limit": "3"}


def test_source_retrieved_by_fhir_base_url_is_one_encoded_segment(mock_client) -> None:
    source = {
        "id": "fhirsrc_1",
        "resource_type": "fhir_source",
        "name": "A",
        "type": None,
        "fhir_base_url": "https://fhir.example.test/R4",
        "logo_url": None,
        "portal_url": None,
    }
    recorder = Recorder(httpx.Response(200, json=source))
    mock_client(recorder).sources.retrieve("https://fhir.example.test/R4")
    assert recorder.requests[0].url.raw_path == b"/connections/https%3A%2F%2Ffhir.example.test%2FR4"


def test_both_session_modes_are_refused_before_any_request(mock_client) -> None:
    recorder = Recorder(httpx.Response(500))
    with pytest.raises(ValueError, match="not both"):
        mock_client(recorder).patient_sessions.create(
            patient_id="user_1",
            return_url="https://app.example.test/r",
            connection_id="fhirsrc_1",
            recommended_connection_ids=["fhirsrc_2"],
        )
    assert recorder.requests == []


def test_https_is_enforced_except_for_loopback() -> None:
    with pytest.raises(ValueError, match="base_url must use https"):
        Medblocks(MOCK_KEY, base_url="http://app.medblocks.com")
    for url in ("http://127.0.0.1:8000", "http://localhost", "http://[::1]:9", "https://x.test"):
        Medblocks(MOCK_KEY, base_url=url).close()
    assert Medblocks(MOCK_KEY).base_url == "https://app.medblocks.com"


def test_key_never_shows_in_repr_and_empty_key_is_refused() -> None:
    client = Medblocks(MOCK_KEY)
    assert MOCK_KEY not in repr(client)
    for bad in ("  ", "mb_sk_test_" + "k" * 20, "mb_sk_sbx_", "Bearer x"):
        with pytest.raises(ValueError, match="api_key must start with mb_sk_sbx_") as refused:
            Medblocks(bad)
        assert "k" * 20 not in str(refused.value)
    with pytest.raises(ValueError, match="api_key must start with"):
        AsyncMedblocks("mb_sk_test_" + "k" * 20)


def test_context_managers_close_their_own_http_client_only(mock_client) -> None:
    with mock_client(Recorder(httpx.Response(200, json=EMPTY_LIST))) as client:
        client.patients.list_page()
    assert client._http.is_closed
    shared = httpx.Client(
        transport=httpx.MockTransport(Recorder(httpx.Response(200, json=EMPTY_LIST)))
    )
    with Medblocks(MOCK_KEY, base_url="http://127.0.0.1", http_client=shared) as client:
        client.patients.list_page()
    assert not shared.is_closed
    shared.close()
