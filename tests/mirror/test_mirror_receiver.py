"""The webhook receiver: signatures, stale timestamps and bodies that are not events are
refused with nothing stored; each event is stored once; events applied in any order leave
the mirror as the API is; deliveries by the sandbox itself reach the mirror."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.receiver import WEBHOOK_PATH, create_receiver
from medblocks.mirror.server import RunningReceiver, serve_in_thread
from medblocks.sandbox import RunningSandbox
from tests.local_servers import free_port, wait_until
from tests.mirror.conftest import WEBHOOK_SECRET, command_env, delivered, rows, signed, synced


def post(receiver: RunningReceiver, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(receiver.webhook_url, content=body, headers=headers, timeout=10)


def event_body(event_id: str = "evt_01TESTEVENT", **override: Any) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "type": "patient_session.completed",
        "api_version": "2026-04-25",
        "created_at": "2026-04-25T10:00:00.000Z",
        "data": {"object": {"id": "ps_missing", "patient_id": "nobody"}},
    }
    event.update(override)
    return json.dumps(event).encode()


def test_refusals_store_nothing(mirror: Mirror, receiver: RunningReceiver) -> None:
    body = event_body()
    assert post(receiver, body, signed(body, secret="whsec_other")).status_code == 401
    stale = signed(body, at=int(time.time()) - 3600)
    assert post(receiver, body, stale).status_code == 401
    assert post(receiver, body, {"Content-Type": "application/json"}).status_code == 401
    assert post(receiver, body + b" ", signed(body)).status_code == 401  # body changed
    for not_event in (b"not json", b"[]", json.dumps({"id": "evt_1"}).encode()):
        answer = post(receiver, not_event, signed(not_event))
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"].startswith("not an event")
    no_object = event_body(data={})
    assert post(receiver, no_object, signed(no_object)).status_code == 400
    assert httpx.get(receiver.base_url + WEBHOOK_PATH).status_code == 405
    assert rows(mirror, schema.events) == []


async def test_sandbox_deliveries_reach_the_mirror_once(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any, receiver: RunningReceiver
) -> None:
    await synced(mirror, sandbox)
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        endpoint = client.webhooks.create(receiver.webhook_url, ["*"])
    secret_app = create_receiver(
        mirror, endpoint.secret, lambda: AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url)
    )
    own = serve_in_thread(secret_app)
    try:
        with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
            client.webhooks.update(endpoint.id, url=own.webhook_url)
        active = next(r for r in rows(mirror, schema.connections) if r["status"] == "active")
        controls.set_status(active["id"], "refresh_failed")
        started = time.monotonic()

        def mirrored() -> bool:
            conn = next(r for r in rows(mirror, schema.connections) if r["id"] == active["id"])
            return bool(conn["status"] == "refresh_failed")

        wait_until(mirrored, what="the delivered event in the mirror")
        assert time.monotonic() - started < 7  # the sandbox's worker wakes at once on a change
        stored = rows(mirror, schema.events)
        assert [(e["type"], e["received_via"]) for e in stored] == [
            ("connection.token_refresh_failed", "webhook")
        ]
        assert stored[0]["outcome"].startswith("applied")
        change = [h for h in rows(mirror, schema.status_changes) if h["observed_by"] == "event"]
        assert [(h["from_status"], h["to_status"]) for h in change] == [
            ("active", "refresh_failed")
        ]

        # the same event delivered again (at least once) is acknowledged and not applied again
        body = json.dumps(json.loads(stored[0]["payload"])).encode()
        again = post(own, body, signed(body, secret=endpoint.secret))
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert len(rows(mirror, schema.events)) == 1
        assert (
            len([h for h in rows(mirror, schema.status_changes) if h["observed_by"] == "event"])
            == 1
        )
    finally:
        own.stop()


async def test_events_out_of_order_leave_the_mirror_as_the_api_is(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any, receiver: RunningReceiver
) -> None:
    await synced(mirror, sandbox)
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        # an endpoint nobody listens on: the events wait in its list, delivered by the test
        endpoint = client.webhooks.create("http://127.0.0.1:9/unreachable", ["*"])
        active = next(r for r in rows(mirror, schema.connections) if r["status"] == "active")
        controls.set_status(active["id"], "refresh_failed")
        controls.set_status(active["id"], "active")
        events = list(client.webhooks.events(endpoint.id))
    kinds = [e.type for e in events]
    assert kinds == ["records.sync.completed", "connection.token_refresh_failed"]  # newest first

    for event in events:  # the newer event first, then the older one
        body = delivered(event)
        answer = post(receiver, body, signed(body))
        assert answer.status_code == 200 and answer.json()["duplicate"] is False

    wait_until(
        lambda: all(e["applied_at"] for e in rows(mirror, schema.events)),
        what="every event applied",
    )
    conn = next(r for r in rows(mirror, schema.connections) if r["id"] == active["id"])
    assert conn["status"] == "active" and conn["records_arrived"] is True
    assert conn["failing_since"] is None
    late = [h for h in rows(mirror, schema.status_changes) if h["observed_by"] == "event"]
    assert late == []  # the older event's re-read found the current state: nothing regressed


async def test_a_session_event_brings_in_a_patient_the_mirror_did_not_have(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any, receiver: RunningReceiver
) -> None:
    await synced(mirror, sandbox)
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        session = client.patient_sessions.create(
            patient_id="mirror_new_patient", return_url="https://app.example.test/back"
        )
        source = next(iter(client.sources.list(limit=1)))
    controls.post(
        f"/_sandbox/patient-sessions/{session.id}/complete",
        {"outcome": "active", "connection_id": source.id},
    )
    body = event_body(
        "evt_01NEWPATIENT",
        data={"object": {"id": session.id, "patient_id": "mirror_new_patient"}},
    )
    assert post(receiver, body, signed(body)).status_code == 200
    wait_until(
        lambda: all(e["applied_at"] for e in rows(mirror, schema.events)),
        what="every event applied",
    )
    assert "mirror_new_patient" in {r["id"] for r in rows(mirror, schema.patients)}
    mirrored_session = next(r for r in rows(mirror, schema.sessions) if r["id"] == session.id)
    assert mirrored_session["status"] == "complete"
    conns = [r for r in rows(mirror, schema.connections) if r["patient_id"] == "mirror_new_patient"]
    assert [c["status"] for c in conns] == ["active"]


@contextlib.contextmanager
def listening(
    database_url: str, sandbox: RunningSandbox
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`python -m medblocks mirror listen` in a process of its own; yields its base URL."""
    port = free_port()
    env = command_env(sandbox, database_url, MEDBLOCKS_WEBHOOK_SECRET=WEBHOOK_SECRET)
    process = subprocess.Popen(
        [sys.executable, "-m", "medblocks", "mirror", "listen", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def serving() -> bool:
            assert process.poll() is None, process.communicate()
            try:
                return httpx.get(f"{base}/health").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(serving, timeout=30, what="`mirror listen` to answer")
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_listen_command_line(mirror: Mirror, database_url: str, sandbox: RunningSandbox) -> None:
    with listening(database_url, sandbox) as (base, process):
        body = event_body("evt_01CLIEVENT", type="some.future_event")
        bad = httpx.post(base + WEBHOOK_PATH, content=body, headers=signed(body, "whsec_x"))
        assert bad.status_code == 401
        good = httpx.post(base + WEBHOOK_PATH, content=body, headers=signed(body))
        assert good.status_code == 200 and good.json() == {"received": True, "duplicate": False}
        wait_until(
            lambda: all(e["applied_at"] for e in rows(mirror, schema.events)),
            what="every event applied",
        )
        stored = rows(mirror, schema.events)
        assert [(e["id"], e["outcome"]) for e in stored] == [
            ("evt_01CLIEVENT", "stored: some.future_event changes nothing the mirror holds")
        ]
    out, err = process.communicate(timeout=10)
    assert out.startswith(f"mirror receiver: {base}/webhooks/medblocks")
    assert sandbox.api_key not in out + err and WEBHOOK_SECRET not in out + err


# -- limits before work: hostile deliveries are refused before anything is stored -----------------

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (DEEP, "nests too deep"),
        (
            b'{"id": "evt_1", "object": "event", "type": "x", "data": {"object": {"id": '
            + DEEP
            + b"}}}",
            "nests too deep",
        ),
        (event_body(type=["patient_session.completed"]), "no event type"),
        (event_body(id={"evt_": 1}), "no evt_ id"),
        (event_body(created_at=12), "created_at is not text"),
        (event_body(created_at={"a": 1}), "created_at is not text"),
        (event_body(webhook_endpoint_id=["wh_1"]), "webhook_endpoint_id is not text"),
        (event_body(data={"object": {"id": 7}}), "data.object.id is not text"),
        (
            event_body(data={"object": {"id": "ps_1", "patient_session_id": 3}}),
            "patient_session_id",
        ),
        (event_body("evt_\x00"), "holds a NUL character"),
        (
            b'{"id": "evt_1", "object": "event", "type": "x", "data": {"object": {"id": "\xff"}}}',
            "not JSON",
        ),
    ],
)
def test_a_signed_body_that_is_not_a_valid_event_is_400(
    mirror: Mirror, receiver: RunningReceiver, body: bytes, why: str
) -> None:
    answer = post(receiver, body, signed(body))
    assert answer.status_code == 400, answer.text
    assert why in answer.json()["error"]
    assert rows(mirror, schema.events) == []


def test_a_non_ascii_signature_is_401(mirror: Mirror, receiver: RunningReceiver) -> None:
    body = event_body()
    good = signed(body)["Medblocks-Signature"]
    for bad in (good[:-64] + "é" + good[-63:], good[:-64] + "\u202e" * 64):
        headers = {"Medblocks-Signature": bad.encode(), "Content-Type": "application/json"}
        answer = httpx.post(receiver.webhook_url, content=body, headers=headers, timeout=10)
        assert answer.status_code == 401, answer.text
    assert rows(mirror, schema.events) == []


def raw_post(base: str, headers: dict[str, str], chunks: Iterator[bytes]) -> int:
    """POST to the webhook path over a bare socket, sending `chunks` only while the server has
    not answered (it may answer before the body is through); returns the answer's status."""
    host, port = base.removeprefix("http://").split(":")
    head = f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode())
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # answered already
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while b"\r\n" not in answer:
            got = sock.recv(4096)
            assert got, "the receiver closed without answering"
            answer += got
    return int(answer.split(b" ", 2)[1])


def megabytes(total: int, *, chunked: bool) -> Iterator[bytes]:
    """`total` MB of body in 64 KiB pieces (chunked transfer coding when `chunked`)."""
    piece = b"x" * 65536
    for _ in range(total * 16):
        yield b"10000\r\n" + piece + b"\r\n" if chunked else piece
    if chunked:
        yield b"0\r\n\r\n"


def peak_mb(process: subprocess.Popen[str]) -> float:
    with open(f"/proc/{process.pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def test_oversized_bodies_are_413_unread_and_the_receiver_stays_small(
    mirror: Mirror, database_url: str, sandbox: RunningSandbox
) -> None:
    with listening(database_url, sandbox) as (base, process):
        before = peak_mb(process)
        declared = {"Content-Type": "application/json", "Content-Length": str(100 * 1024**2)}
        streamed = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(
                    lambda job: raw_post(base, job[0], megabytes(100, chunked=job[1])),
                    [(declared, False), (streamed, True)] * 2,
                )
            )
        assert answers == [413] * 4
        deep = DEEP
        assert (
            httpx.post(base + WEBHOOK_PATH, content=deep, headers=signed(deep)).status_code == 400
        )
        alive = event_body("evt_01AFTERLIMITS", type="some.future_event")
        ok = httpx.post(base + WEBHOOK_PATH, content=alive, headers=signed(alive))
        assert ok.status_code == 200
        peak = peak_mb(process)
    assert peak < 150, f"the receiver peaked at {peak:.0f} MB (started at {before:.0f} MB)"
    assert [e["id"] for e in rows(mirror, schema.events)] == ["evt_01AFTERLIMITS"]
