"""Webhook endpoints, secret rotation, events and the redelivery limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from medblocks.sandbox.runtime import SandboxRuntime

ErrorCheck = Callable[..., dict[str, Any]]
HOOK = {"url": "https://hooks.example.test/in", "events": ["patient_session.completed"]}


def _demo_endpoint(api: httpx.Client) -> dict[str, Any]:
    endpoint: dict[str, Any] = api.get("/webhooks").json()["data"][-1]
    return endpoint


def test_create_returns_the_secret_once(api: httpx.Client):
    created = api.post("/webhooks", json={**HOOK, "description": "d", "metadata": {"k": "v"}})
    assert created.status_code == 200
    body = created.json()
    assert body["id"].startswith("wh_") and body["secret"].startswith("whsec_")
    assert (body["status"], body["description"], body["metadata"]) == ("active", "d", {"k": "v"})
    fetched = api.get(f"/webhooks/{body['id']}").json()
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in body.items() if k != "secret"}


@pytest.mark.parametrize(
    "url", ["http://localhost:9000/hook", "http://127.0.0.1/hook", "https://x.example.test/"]
)
def test_https_or_local_http_urls_are_accepted(api: httpx.Client, url: str):
    assert api.post("/webhooks", json={**HOOK, "url": url}).status_code == 200


def test_plain_http_url_is_rejected(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/webhooks", json={**HOOK, "url": "http://hooks.example.test/in"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="url")


def test_star_mixed_with_types_is_rejected(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/webhooks", json={**HOOK, "events": ["*", "records.sync.failed"]})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="events")


def test_unknown_event_type_is_rejected(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/webhooks", json={**HOOK, "events": ["patient.created"]})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="events")


def test_more_than_50_metadata_keys_is_rejected(api: httpx.Client, assert_error: ErrorCheck):
    metadata = {f"k{i}": i for i in range(51)}
    response = api.post("/webhooks", json={**HOOK, "metadata": metadata})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="metadata")


def test_patch_is_partial_and_can_disable(api: httpx.Client):
    created = api.post("/webhooks", json={**HOOK, "description": "keep"}).json()
    patched = api.patch(f"/webhooks/{created['id']}", json={"status": "disabled"}).json()
    assert (patched["status"], patched["description"], patched["url"]) == (
        "disabled",
        "keep",
        HOOK["url"],
    )
    listed = api.get("/webhooks", params={"status": "disabled"}).json()["data"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert api.patch(f"/webhooks/{created['id']}").json()["status"] == "disabled"


def test_rotate_secret_returns_a_new_secret(api: httpx.Client):
    created = api.post("/webhooks", json=HOOK).json()
    rotated = api.post(f"/webhooks/{created['id']}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]


def test_delete_is_a_tombstone_and_drops_the_history(api: httpx.Client, assert_error: ErrorCheck):
    endpoint = _demo_endpoint(api)
    assert api.get(f"/webhooks/{endpoint['id']}/events").json()["data"]
    response = api.delete(f"/webhooks/{endpoint['id']}")
    assert response.json() == {
        "id": endpoint["id"],
        "resource_type": "webhook_endpoint",
        "deleted": True,
    }
    assert_error(
        api.get(f"/webhooks/{endpoint['id']}/events"),
        404,
        "not_found_error",
        "resource_not_found",
        param="id",
    )


def test_events_filter_by_delivered(api: httpx.Client):
    endpoint = _demo_endpoint(api)
    url = f"/webhooks/{endpoint['id']}/events"
    delivered = api.get(url, params={"delivered": "true", "limit": 100}).json()["data"]
    pending = api.get(url, params={"delivered": "false", "limit": 100}).json()["data"]
    assert delivered and pending
    assert all(e["delivered_at"] for e in delivered)
    assert all(e["delivered_at"] is None for e in pending)
    assert all(
        e["resource_type"] == "event" and e["id"].startswith("evt_") for e in delivered + pending
    )


def test_redelivery_is_limited_to_once_a_minute(
    api: httpx.Client, runtime: SandboxRuntime, assert_error: ErrorCheck
):
    endpoint = _demo_endpoint(api)
    event = api.get(f"/webhooks/{endpoint['id']}/events").json()["data"][0]
    first = api.post(f"/events/{event['id']}/redeliver")
    assert first.status_code == 200
    assert first.json()["last_redelivered_at"] is not None
    runtime.clock.advance(20)
    second = api.post(f"/events/{event['id']}/redeliver")
    assert_error(second, 429, "rate_limit_error", "throttled")
    assert second.headers["retry-after"] == "40"
    runtime.clock.advance(40)
    assert api.post(f"/events/{event['id']}/redeliver").status_code == 200


def test_redeliver_unknown_event_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/events/evt_nope/redeliver")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")


def test_webhook_and_event_lists_page_with_cursors(api: httpx.Client):
    for index in range(3):
        api.post("/webhooks", json={**HOOK, "description": f"w{index}"})
    first = api.get("/webhooks", params={"limit": 2}).json()
    rest = api.get("/webhooks", params={"limit": 100, "starting_after": first["next_cursor"]})
    ids = [w["id"] for w in first["data"] + rest.json()["data"]]
    assert len(ids) == len(set(ids)) == 4
    endpoint = _demo_endpoint(api)
    url = f"/webhooks/{endpoint['id']}/events"
    page = api.get(url, params={"limit": 3}).json()
    more = api.get(url, params={"limit": 100, "starting_after": page["next_cursor"]}).json()
    events = [e["id"] for e in page["data"] + more["data"]]
    assert len(events) == len(set(events)) == 8
    assert more["has_more"] is False and more["next_cursor"] is None
