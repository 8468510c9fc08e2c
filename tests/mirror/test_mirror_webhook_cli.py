"""`python -m medblocks mirror webhook register URL | list` against the real sandbox: the endpoint
is created for every event type, the secret printed once is the one that signs its deliveries,
`list` never prints a secret, and a refused key or an unreachable API is one line on stderr."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from medblocks.client import Medblocks
from medblocks.client.webhooks_signature import verify_signature
from medblocks.mirror.receiver import WEBHOOK_PATH
from medblocks.mirror.server import serve_in_thread
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread

DELIVERY_DEADLINE = 60.0  # the sandbox's delivery worker wakes at least every 5 s


def webhook_command(*args: str, key: str, url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MEDBLOCKS_API_KEY=key, MEDBLOCKS_API_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "medblocks", "mirror", "webhook", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def empty_sandbox() -> Iterator[RunningSandbox]:
    """No demo organisation: the only endpoint is the one the test registers."""
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=False)) as running:
        yield running


@pytest.fixture
def deliveries() -> Iterator[tuple[str, queue.Queue[tuple[bytes, str]]]]:
    """A loopback receiver recording each delivery's raw body and `Medblocks-Signature`."""
    received: queue.Queue[tuple[bytes, str]] = queue.Queue()

    async def record(request: Request) -> Response:
        received.put((await request.body(), request.headers.get("Medblocks-Signature", "")))
        return Response(status_code=200)

    running = serve_in_thread(Starlette(routes=[Route(WEBHOOK_PATH, record, methods=["POST"])]))
    try:
        yield running.webhook_url, received
    finally:
        running.stop()


def test_register_prints_the_secret_that_signs_and_list_never_does(
    empty_sandbox: RunningSandbox, deliveries: tuple[str, queue.Queue[tuple[bytes, str]]]
) -> None:
    receiver_url, received = deliveries
    key, base_url = empty_sandbox.api_key, empty_sandbox.base_url

    done = webhook_command("register", receiver_url, key=key, url=base_url)
    assert done.returncode == 0, done.stderr
    secrets = re.findall(r"whsec_\S+", done.stdout)
    assert len(secrets) == 1 and done.stdout.count(secrets[0]) == 1
    assert f"MEDBLOCKS_WEBHOOK_SECRET={secrets[0]}" in done.stdout
    endpoint_id = re.search(r"\bwh_\w+", done.stdout)
    assert endpoint_id is not None
    assert key not in done.stdout + done.stderr

    with Medblocks(key, base_url=base_url) as client:
        endpoint = client.webhooks.retrieve(endpoint_id.group())
        assert (endpoint.url, endpoint.events, endpoint.status) == (receiver_url, ["*"], "active")
        # a patient connects: the sandbox delivers the event, signed with that endpoint's secret
        session = client.patient_sessions.create(
            patient_id="webhook_cli_patient", return_url="https://app.example.test/back"
        )
        source = next(iter(client.sources.list(limit=1)))
    completed = httpx.post(
        f"{base_url}/_sandbox/patient-sessions/{session.id}/complete",
        json={"outcome": "active", "connection_id": source.id},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert completed.status_code == 200, completed.text
    body, signature = received.get(timeout=DELIVERY_DEADLINE)
    verify_signature(body, signature, secrets[0])  # raises if another secret signed it

    listed = webhook_command("list", key=key, url=base_url)
    assert listed.returncode == 0, listed.stderr
    assert endpoint.id in listed.stdout and receiver_url in listed.stdout
    assert "whsec_" not in listed.stdout + listed.stderr


def test_a_refused_key_and_an_unreachable_api_are_one_line_each(
    empty_sandbox: RunningSandbox,
) -> None:
    wrong_key = "mb_sk_sbx_" + "0" * 26
    refused = webhook_command("list", key=wrong_key, url=empty_sandbox.base_url)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("error: the API key was refused (")
    assert "MEDBLOCKS_API_KEY" in refused.stderr and "Traceback" not in refused.stderr
    assert wrong_key not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    with Medblocks(empty_sandbox.api_key, base_url=empty_sandbox.base_url) as client:
        assert list(client.webhooks.list()) == []  # nothing was created with the wrong key

    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    unreachable = webhook_command(
        "register", "https://hooks.example.test/x", key=empty_sandbox.api_key, url=closed
    )
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith(f"error: could not reach {closed} ")
    assert "MEDBLOCKS_API_URL" in unreachable.stderr and "Traceback" not in unreachable.stderr
    assert empty_sandbox.api_key not in unreachable.stderr
    assert len(unreachable.stderr.strip().splitlines()) == 1
