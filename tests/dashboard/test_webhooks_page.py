"""The Webhooks page through AppTest: the patient column, payload and response viewers, and the
documented once-a-minute redelivery limit shown as information with its countdown."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from medblocks.client import Medblocks
from medblocks.dashboard.webhooks import DELIVERY_STATES, delivery_state
from medblocks.sandbox import RunningSandbox
from tests.dashboard.apptest import open_app_page
from tests.dashboard.conftest import completed_session_event

pytestmark = pytest.mark.usefixtures("app_environment")


def open_webhooks(**query: str) -> AppTest:
    return open_app_page("ui_pages/webhooks.py", **query)


def test_events_name_their_patient_and_open_in_payload_and_response_viewers(
    embedded: RunningSandbox, embedded_api: Medblocks
) -> None:
    session, endpoint, event = completed_session_event(
        embedded, embedded_api, "webhooks_page_patient"
    )
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
    fresh = next(e for e in embedded_api.webhooks.events(endpoint.id) if e.id == event.id)
    assert response in {"(empty)", fresh.last_response_body}


def test_the_redelivery_limit_is_information_with_a_countdown(
    embedded: RunningSandbox, embedded_api: Medblocks
) -> None:
    _, endpoint, event = completed_session_event(embedded, embedded_api, "webhooks_page_limit")
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


def test_endpoints_and_events_read_as_words(
    embedded: RunningSandbox, embedded_api: Medblocks
) -> None:
    _, endpoint, event = completed_session_event(embedded, embedded_api, "webhooks_page_words")
    at = open_webhooks(endpoint=endpoint.id)
    assert not at.exception
    endpoints, events = at.dataframe[0].value, at.dataframe[1].value
    minute = r"^(\d{4}-\d\d-\d\d \d\d:\d\d UTC)?$"
    for frame, times in ((endpoints, ["created_at"]), (events, ["created_at", "delivered_at"])):
        shown = frame.astype(str)
        assert not (shown == "None").any().any() and not (shown == "nan").any().any()
        for column in times:
            assert shown[column].str.match(minute).all(), shown[column].tolist()
    assert "endpoint_id" not in at.dataframe[1].column_order  # the endpoint is the one picked
    assert event.id in set(events["id"])


def test_the_delivery_filter_offers_every_state_an_event_can_be_in() -> None:
    said = {
        delivery_state(delivered, next_attempt)
        for delivered in ("2026-12-04T10:00:00Z", None)
        for next_attempt in ("2026-12-04T10:05:00Z", None)
    }
    assert said == set(DELIVERY_STATES)
