"""Webhook delivery: signed POSTs to a real receiver on 127.0.0.1, the retry schedule on the
sandbox clock, endpoint disabling, redelivery, and the delivery state in the events API."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from medblocks.sandbox import SandboxConfig, start_in_thread
from medblocks.sandbox.api import webhooks
from medblocks.sandbox.runtime import SandboxRuntime


@dataclass
class Receiver:
    """A webhook receiver: records every POST and answers `status` with `body`."""

    url: str
    status: int = 200
    body: bytes = b"ok"
    hits: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.hits.append((dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _endpoint(api: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    created = api.post("/webhooks", json={"url": url, "events": events or ["*"]})
    assert created.status_code == 200, created.text
    endpoint: dict[str, Any] = created.json()
    return endpoint


def _complete_a_session(api: httpx.Client, patient_id: str = "hook_1") -> dict[str, Any]:
    source = api.get("/connections").json()["data"][0]["id"]
    session = api.post(
        "/patient-sessions",
        json={"patient_id": patient_id, "return_url": "https://app.example.test/back"},
    ).json()
    done = api.post(
        f"/_sandbox/patient-sessions/{session['id']}/complete",
        json={"outcome": "active", "connection_id": source},
    )
    assert done.status_code == 200, done.text
    completed: dict[str, Any] = done.json()["patient_session"]
    return completed


def _events(api: httpx.Client, endpoint_id: str, **params: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = api.get(
        f"/webhooks/{endpoint_id}/events", params={"limit": 100, **params}
    ).json()["data"]
    return data


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_deliveries_are_signed_and_recorded(
    api: httpx.Client, runtime: SandboxRuntime, receiver: Receiver
):
    endpoint = _endpoint(api, receiver.url)
    session = _complete_a_session(api)
    webhooks.deliver_due(runtime)
    received = {json.loads(body)["type"]: (headers, body) for headers, body in receiver.hits}
    assert set(received) == {"patient_session.completed", "records.sync.completed"}
    headers, body = received["patient_session.completed"]
    event = json.loads(body)
    assert set(event) == {"id", "object", "type", "api_version", "created_at", "data"}
    assert event["object"] == "event" and event["id"].startswith("evt_")
    assert event["api_version"] == endpoint["api_version"] == "2026-04-25"
    assert event["data"]["object"]["id"] == session["id"]
    assert event["data"]["object"]["status"] == "complete"
    assert headers["Content-Type"] == "application/json"
    timestamp, signature = headers["Medblocks-Signature"].split(",")
    assert timestamp.startswith("t=") and signature.startswith("v1=")
    t = timestamp[2:]
    expected = hmac.new(
        endpoint["secret"].encode(), f"{t}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature[3:], expected)
    assert abs(int(t) - time.time()) < 300
    [listed] = [e for e in _events(api, endpoint["id"]) if e["id"] == event["id"]]
    assert listed["attempts"] == 1 and listed["next_attempt_at"] is None
    assert listed["delivered_at"] is not None
    assert (listed["last_status_code"], listed["last_response_body"]) == (200, "ok")
    assert {e["id"] for e in _events(api, endpoint["id"], delivered="true")} == {
        json.loads(b)["id"] for _, b in receiver.hits
    }
    assert _events(api, endpoint["id"], delivered="false") == []


def test_only_subscribed_types_are_sent(
    api: httpx.Client, runtime: SandboxRuntime, receiver: Receiver
):
    endpoint = _endpoint(api, receiver.url, ["connection.token_refresh_failed"])
    _complete_a_session(api)
    webhooks.deliver_due(runtime)
    assert receiver.hits == [] and _events(api, endpoint["id"]) == []
    [connection] = api.get("/patients/hook_1").json()["connections"]
    api.post(f"/_sandbox/connections/{connection['id']}/status", json={"status": "refresh_failed"})
    webhooks.deliver_due(runtime)
    [(_, body)] = receiver.hits
    sent = json.loads(body)
    assert sent["type"] == "connection.token_refresh_failed"
    assert sent["data"]["object"]["id"] == connection["id"]
    assert sent["data"]["object"]["status"] == "refresh_failed"


def test_retry_schedule_on_the_sandbox_clock_then_the_endpoint_is_disabled(
    api: httpx.Client, runtime: SandboxRuntime, receiver: Receiver
):
    receiver.status, receiver.body = 500, b"nope"
    endpoint = _endpoint(api, receiver.url, ["patient_session.completed"])
    _complete_a_session(api)
    webhooks.deliver_due(runtime)
    [event] = _events(api, endpoint["id"])
    assert (event["attempts"], event["last_status_code"], event["last_response_body"]) == (
        1,
        500,
        "nope",
    )
    delays = [60, 300, 1800, 7200, 43200, 86400, 86400, 86400]
    for attempt, delay in enumerate(delays, start=2):
        due = _at(event["next_attempt_at"])
        assert due - _at(api.get("/_sandbox/clock").json()["now"]) <= timedelta(seconds=delay)
        assert due - _at(api.get("/_sandbox/clock").json()["now"]) > timedelta(seconds=delay - 5)
        api.post("/_sandbox/clock/advance", json={"seconds": delay - 5})
        assert len(receiver.hits) == attempt - 1, "not due yet"
        api.post("/_sandbox/clock/advance", json={"seconds": 5})
        assert len(receiver.hits) == attempt
        [event] = _events(api, endpoint["id"])
        assert event["attempts"] == attempt and event["delivered_at"] is None
    assert event["next_attempt_at"] is None
    assert api.get(f"/webhooks/{endpoint['id']}").json()["status"] == "disabled"
    assert _events(api, endpoint["id"], delivered="false") == [event]
    # A disabled endpoint gets no new events and no deliveries.
    _complete_a_session(api, "hook_2")
    api.post("/_sandbox/clock/advance", json={"seconds": 86400 * 3})
    assert len(receiver.hits) == 9 and len(_events(api, endpoint["id"])) == 1


def test_a_recovered_receiver_gets_the_retry(
    api: httpx.Client, runtime: SandboxRuntime, receiver: Receiver
):
    receiver.status = 503
    endpoint = _endpoint(api, receiver.url, ["patient_session.completed"])
    _complete_a_session(api)
    webhooks.deliver_due(runtime)
    receiver.status = 204
    api.post("/_sandbox/clock/advance", json={"seconds": 60})
    [event] = _events(api, endpoint["id"])
    assert (event["attempts"], event["last_status_code"]) == (2, 204)
    assert event["delivered_at"] is not None and event["next_attempt_at"] is None
    first, second = (json.loads(body)["id"] for _, body in receiver.hits)
    assert first == second == event["id"], "the same event id on every attempt"


def test_long_response_bodies_are_cut_to_4_kb(
    api: httpx.Client, runtime: SandboxRuntime, receiver: Receiver
):
    receiver.body = b"x" * 10_000
    endpoint = _endpoint(api, receiver.url, ["patient_session.completed"])
    _complete_a_session(api)
    webhooks.deliver_due(runtime)
    [event] = _events(api, endpoint["id"])
    assert len(event["last_response_body"]) == 4096


def test_unreachable_receiver_is_a_failed_attempt_without_the_url(
    api: httpx.Client, runtime: SandboxRuntime, receiver: Receiver
):
    url = receiver.url.replace("/hooks", "/hooks?token=secret-in-url")
    endpoint = _endpoint(api, url.replace(url.split(":")[2].split("/")[0], "1"))
    _complete_a_session(api)
    webhooks.deliver_due(runtime)
    events = _events(api, endpoint["id"])
    assert events and all(e["last_status_code"] is None for e in events)
    assert all("could not connect" in e["last_response_body"] for e in events)
    assert all("secret-in-url" not in e["last_response_body"] for e in events)
    assert all(e["next_attempt_at"] is not None for e in events)


def test_redelivery_is_delivered_by_the_worker(
    api: httpx.Client, runtime: SandboxRuntime, receiver: Receiver
):
    endpoint = _endpoint(api, receiver.url, ["patient_session.completed"])
    _complete_a_session(api)
    webhooks.deliver_due(runtime)
    [event] = _events(api, endpoint["id"])
    rotated = api.post(f"/webhooks/{endpoint['id']}/rotate-secret").json()
    assert api.post(f"/events/{event['id']}/redeliver").status_code == 200
    webhooks.deliver_due(runtime)
    assert len(receiver.hits) == 2
    [event] = _events(api, endpoint["id"])
    assert event["attempts"] == 2 and event["last_redelivered_at"] is not None
    headers, body = receiver.hits[1]
    t, signature = (part.split("=", 1)[1] for part in headers["Medblocks-Signature"].split(","))
    expected = hmac.new(
        rotated["secret"].encode(), f"{t}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert signature == expected, "signed with the new secret"


def _wait_for(receiver: Receiver, hits: int) -> None:
    deadline = time.monotonic() + 15
    while len(receiver.hits) < hits and time.monotonic() < deadline:
        time.sleep(0.05)


def test_delivery_and_redelivery_happen_in_the_background_of_a_served_sandbox(
    receiver: Receiver,
):
    with start_in_thread(SandboxConfig(seed_demo=False)) as running:
        headers = {"Authorization": f"Bearer {running.api_key}"}
        with httpx.Client(base_url=running.base_url, headers=headers, timeout=10) as api:
            endpoint = _endpoint(api, receiver.url, ["patient_session.completed"])
            _complete_a_session(api)
            _wait_for(receiver, 1)
            [event] = _events(api, endpoint["id"])
            assert api.post(f"/events/{event['id']}/redeliver").status_code == 200
            _wait_for(receiver, 2)
    assert [json.loads(body)["id"] for _, body in receiver.hits] == [event["id"], event["id"]]
