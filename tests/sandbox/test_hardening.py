"""Issue 11's hardening, one test (or a few) per behaviour: strict JSON in and out, the
controls' errors, state validated at start, the worker's back-off, the public URL, the hosted
pages' headers and the rate-limit emulation."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from medblocks.in_process import IN_PROCESS_BASE_URL, in_process_client
from medblocks.sandbox import SandboxConfig, create_app
from medblocks.sandbox.__main__ import main, parse_args
from medblocks.sandbox.api.webhooks import WebhookWorker
from medblocks.sandbox.clock import CLOCK_OFFSET_KEY, LATEST
from medblocks.sandbox.hosted import outcomes
from medblocks.sandbox.levers.faults import FAULTS_KEY
from medblocks.sandbox.runtime import SandboxRuntime

ErrorCheck = Callable[..., dict[str, Any]]
KEY = "mb_sk_sbx_01HARDENING0000000000000000"
VERSION = "2026-04-25"
HEADERS = {"Authorization": f"Bearer {KEY}", "Version": VERSION}


def _client(app: Starlette) -> httpx.Client:
    return in_process_client(app, headers=HEADERS)


@pytest.fixture
def disk_app(tmp_path: Path) -> Iterator[Callable[[], Starlette]]:
    """Start (and restart) a sandbox on the same database file; all are closed at the end."""
    started: list[Starlette] = []

    def start() -> Starlette:
        app = create_app(SandboxConfig(db_path=tmp_path / "sandbox.sqlite3", api_key=KEY))
        started.append(app)
        return app

    yield start
    for app in started:
        app.state.sandbox.store.close()


def _post_raw(client: httpx.Client, path: str, text: str) -> httpx.Response:
    return client.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


# -- strict JSON -----------------------------------------------------------------------------


def test_nan_clock_replayed_on_disk_leaves_a_sandbox_that_restarts_healthy_with_its_data(
    disk_app: Callable[[], Starlette], assert_error: ErrorCheck
):
    with _client(disk_app()) as api:
        created = api.post("/patients", json={"patient_id": "kept_1", "name": "Kept Person"})
        assert created.status_code == 200
        for text in ('{"seconds": NaN}', '{"seconds": Infinity}', '{"seconds": 1e400}'):
            assert_error(
                _post_raw(api, "/_sandbox/clock/advance", text),
                400,
                "invalid_request_error",
                "bad_request",
            )
        assert api.get("/health").status_code == 200
        assert api.get("/_sandbox/clock").json()["offset_seconds"] == 0
    with _client(disk_app()) as restarted:
        assert restarted.get("/health").status_code == 200
        assert restarted.get("/patients/kept_1").json()["name"] == "Kept Person"
        assert restarted.post("/patients", json={"patient_id": "kept_2"}).status_code == 200


@pytest.mark.parametrize(
    ("key", "stored"),
    [
        (CLOCK_OFFSET_KEY, "nan"),
        (CLOCK_OFFSET_KEY, "inf"),
        (CLOCK_OFFSET_KEY, "1e300"),
        (CLOCK_OFFSET_KEY, "-5"),
        (CLOCK_OFFSET_KEY, "soon"),
        (FAULTS_KEY, '{"error_rate": NaN}'),
        (FAULTS_KEY, '{"latency_ms": -1}'),
        (FAULTS_KEY, '{"unknown": 1}'),
        (FAULTS_KEY, "not json"),
    ],
)
def test_a_bad_state_row_from_an_older_sandbox_is_reported_and_ignored(
    disk_app: Callable[[], Starlette], caplog: pytest.LogCaptureFixture, key: str, stored: str
):
    first = disk_app()
    first.state.sandbox.store.set_state(key, stored)  # as a sandbox before the fix left it
    first.state.sandbox.store.close()
    with (
        caplog.at_level(logging.WARNING, logger="medblocks.sandbox"),
        _client(disk_app()) as api,
    ):
        assert api.get("/health").status_code == 200
        assert api.post("/patients", json={"patient_id": "after"}).status_code == 200
        assert api.get("/_sandbox/clock").json()["offset_seconds"] == 0
        faults = api.get("/_sandbox/faults").json()
        assert faults["latency_ms"] == 0 and faults["error_rate"] == 0
    reports = [r for r in caplog.records if "ignoring the stored sandbox" in r.getMessage()]
    assert len(reports) == 1 and key in reports[0].getMessage()


@pytest.mark.parametrize(
    ("path", "method", "text"),
    [
        ("/patients", "POST", '{"patient_id": "p", "metadata": {"a": NaN}}'),
        ("/patients", "POST", '{"patient_id": "p", "metadata": {"a": Infinity}}'),
        ("/patients", "POST", '{"patient_id": "p", "metadata": {"a": -Infinity}}'),
        ("/patients", "POST", '{"patient_id": "p", "metadata": {"a": 1e999}}'),
        ("/patients/user_1000", "PUT", '{"patient_id": "user_1000", "metadata": {"a": NaN}}'),
        ("/webhooks", "POST", '{"url": "https://h.example.test", "events": ["*"], "m": NaN}'),
        ("/_sandbox/faults", "PUT", '{"error_rate": NaN}'),
        ("/_sandbox/faults", "PUT", '{"latency_ms": Infinity}'),
        ("/_sandbox/seed", "POST", '{"patients": NaN}'),
    ],
)
def test_nan_and_infinity_are_refused_wherever_a_body_is_read(
    api: httpx.Client, assert_error: ErrorCheck, path: str, method: str, text: str
):
    response = api.request(
        method, path, content=text.encode(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_request_error", "bad_request")
    assert "NaN" not in response.text.replace("NaN, Infinity", "")
    assert api.get("/_sandbox/faults").json()["error_rate"] == 0
    assert api.get("/patients/p").status_code == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"seconds": 1e300}, "seconds"),  # over the schema's one-year maximum
        ({"seconds": -1}, "seconds"),
    ],
)
def test_clock_advances_out_of_range_are_refused(
    api: httpx.Client, assert_error: ErrorCheck, body: dict[str, Any], param: str
):
    assert_error(
        api.post("/_sandbox/clock/advance", json=body),
        400,
        "invalid_request_error",
        "invalid_data",
        param,
    )
    assert api.get("/_sandbox/clock").json()["offset_seconds"] == 0


def test_the_clock_stops_short_of_year_9000(
    api: httpx.Client, runtime: SandboxRuntime, assert_error: ErrorCheck
):
    # As after a long run of one-year advances: 100 days before the clock's limit.
    runtime.clock.advance((LATEST - runtime.clock.now()).total_seconds() - 100 * 86400)
    refused = api.post("/_sandbox/clock/advance", json={"seconds": 365 * 86400})
    error = assert_error(refused, 400, "invalid_request_error", "invalid_data", "seconds")
    assert "9000" in str(error["message"])
    assert api.get("/health").status_code == 200
    assert api.post("/patients", json={"patient_id": "late"}).status_code == 200


def test_a_refresh_failure_past_the_clocks_range_is_refused(
    api: httpx.Client, assert_error: ErrorCheck
):
    source = api.get("/connections").json()["data"][0]["id"]
    session = api.post(
        "/patient-sessions",
        json={"patient_id": "refresh_far", "return_url": "https://app.example.test/back"},
    ).json()
    refused = api.post(
        f"/_sandbox/patient-sessions/{session['id']}/complete",
        json={"outcome": "active", "connection_id": source, "refresh_fails_after_seconds": 10**30},
    )
    assert_error(
        refused, 400, "invalid_request_error", "invalid_data", "refresh_fails_after_seconds"
    )
    assert api.get(f"/patient-sessions/{session['id']}").json()["connections"] == []


def test_integer_fields_sent_as_floats_are_answered_as_integers(api: httpx.Client):
    set_faults = api.put("/_sandbox/faults", json={"rate_limit_burst": 1, "retry_after": 3.0})
    assert set_faults.json()["retry_after"] == 3
    assert api.get("/patients").headers["retry-after"] == "3"


def test_the_encoder_never_writes_a_non_json_number(runtime: SandboxRuntime, api: httpx.Client):
    # A row written by an older sandbox that accepted NaN: reading it is a 500 in the
    # envelope, never a body with a bare NaN in it.
    with runtime.store.transaction() as db:
        db.execute("UPDATE patients SET metadata = ? WHERE id = 'user_1000'", ('{"a": NaN}',))
    response = api.get("/patients/user_1000")
    assert response.status_code == 500
    json.loads(response.text, parse_constant=lambda name: pytest.fail(f"{name} in the body"))
    assert response.headers["x-request-id"] == response.json()["error"]["request_id"]


# -- controls answer like the API -------------------------------------------------------------


def test_an_unexpected_control_failure_is_the_envelope_with_the_request_id(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch, assert_error: ErrorCheck
):
    def broken(*args: Any) -> None:
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(outcomes, "force_connection_status", broken)
    conn = api.get("/patients/user_1000").json()["connections"][0]["id"]
    failed = api.post(f"/_sandbox/connections/{conn}/status", json={"status": "expired"})
    assert_error(failed, 500, "api_error", "internal_error")
    assert api.get("/health").status_code == 200


def test_control_errors_carry_the_request_id_of_their_header(
    raw: httpx.Client, api: httpx.Client, assert_error: ErrorCheck
):
    assert_error(raw.get("/_sandbox/clock"), 401, "authentication_error", "missing_api_key")
    assert_error(api.patch("/_sandbox/clock"), 405, "invalid_request_error", "bad_request")
    assert_error(
        api.post("/_sandbox/seed", content=b"x" * (65 * 1024)),
        413,
        "invalid_request_error",
        "payload_too_large",
    )


# -- the background worker -------------------------------------------------------------------


def test_the_worker_backs_off_and_logs_each_distinct_failure_once(
    runtime: SandboxRuntime, caplog: pytest.LogCaptureFixture
):
    calls: list[int] = []
    ran = threading.Semaphore(0)
    failures = iter([ValueError("a"), ValueError("a"), ValueError("a"), KeyError("b")])

    def due_work(_: SandboxRuntime) -> None:
        calls.append(1)
        ran.release()
        error = next(failures, None)
        if error is not None:
            raise error

    worker = WebhookWorker(runtime, due_work)
    with caplog.at_level(logging.INFO, logger="medblocks.sandbox.webhooks"):
        for _ in range(5):
            worker.notify()  # wakes it at once, whatever its back-off
            assert ran.acquire(timeout=5)
        time.sleep(0.1)
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("sandbox background work failed; backing off") == 2  # a, then b
    assert sum("runs again after 4 failures" in m for m in messages) == 1
    assert len(calls) == 5
    runtime.store.close()  # the worker's next run sees the closed database and exits


# -- URLs handed out ---------------------------------------------------------------------------


def _session_url(client: httpx.Client, **headers: str) -> str:
    response = client.post(
        "/patient-sessions",
        json={"patient_id": "url_check", "return_url": "https://app.example.test/back"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


def test_the_host_header_never_changes_a_session_url(api: httpx.Client):
    honest = _session_url(api)
    forged = _session_url(api, Host="evil.example")
    assert honest.startswith(f"{IN_PROCESS_BASE_URL}/c/")
    assert forged.startswith(f"{IN_PROCESS_BASE_URL}/c/")


def test_a_public_url_is_the_base_of_every_url_handed_out(api_key: str):
    app = create_app(SandboxConfig(api_key=KEY, public_url="https://sbx.example.test/mb/"))
    with _client(app) as client:
        url = _session_url(client, Host="evil.example")
        assert url.startswith("https://sbx.example.test/mb/c/")
        session_id = client.get("/patients/url_check/patient-sessions").json()["data"][0]["id"]
        assert client.get(f"/patient-sessions/{session_id}").json()["url"] == url
    app.state.sandbox.store.close()


@pytest.mark.parametrize("bad", ["ftp://x.example", "https://", "http://h.example/?q=1", "x"])
def test_a_public_url_must_be_an_http_base(bad: str):
    with pytest.raises(ValueError, match="public URL"):
        SandboxConfig(public_url=bad)


def test_the_command_line_takes_public_url_and_rate_limit():
    args = parse_args(["--public-url", "https://sbx.example.test", "--rate-limit", "25"])
    assert (args.public_url, args.rate_limit) == ("https://sbx.example.test", 25)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--rate-limit", "-1"], "--rate-limit must be 0 (off) or more"),
        (["--public-url", "ftp://sbx.example.test"], "--public-url: the public URL must be"),
    ],
)
def test_the_command_line_refuses_bad_values_before_serving(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
):
    assert main(["--memory", *argv]) == 2
    assert said in capsys.readouterr().err


# -- hosted pages ------------------------------------------------------------------------------


def test_every_hosted_answer_sends_the_security_headers(api: httpx.Client, raw: httpx.Client):
    token = _session_url(api).rsplit("/", 1)[1]
    answers = [
        raw.get(f"/c/{token}"),  # the picker
        raw.get(f"/c/{'0' * 32}"),  # 404 page
        raw.delete(f"/c/{token}"),  # 405 page
        raw.post(f"/c/{token}/sources/nope/sign-in", data={"username": "x"}),  # 404 page
        raw.post(f"/c/{token}/done", follow_redirects=False),  # 303
    ]
    for response in answers:
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "style-src 'sha256-" in csp and "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
    assert "<script" not in answers[0].text


# -- rate limit -------------------------------------------------------------------------------


def test_the_rate_limit_is_off_by_default(api: httpx.Client):
    assert api.get("/_sandbox/faults").json()["rate_limit_per_second"] == 0
    assert all(api.get("/health").status_code == 200 for _ in range(50))


def test_the_rate_limit_answers_429_and_waiting_out_retry_after_succeeds(
    api: httpx.Client, assert_error: ErrorCheck
):
    set_faults = api.put("/_sandbox/faults", json={"rate_limit_per_second": 2})
    assert set_faults.json()["rate_limit_per_second"] == 2
    assert api.get("/patients").status_code == 200  # the bucket holds one request
    throttled = api.get("/patients")
    assert_error(throttled, 429, "rate_limit_error", "throttled")
    wait = int(throttled.headers["retry-after"])
    assert wait == 1  # 0.5 s to the next token, rounded up to whole seconds
    assert api.get("/_sandbox/clock").status_code == 200  # controls are never limited
    time.sleep(wait)
    assert api.get("/patients").status_code == 200
    api.delete("/_sandbox/faults")
    assert all(api.get("/health").status_code == 200 for _ in range(10))


def test_the_rate_limit_is_per_key(api: httpx.Client, raw: httpx.Client):
    api.put("/_sandbox/faults", json={"rate_limit_per_second": 1})
    assert api.get("/patients").status_code == 200
    assert api.get("/patients").status_code == 429
    # Another key has its own bucket (and is then refused for being wrong, not throttled).
    other = raw.get("/patients", headers={"Authorization": "Bearer mb_sk_sbx_other"})
    assert other.status_code == 401


def test_rate_limit_from_the_config_applies_from_the_first_request(assert_error: ErrorCheck):
    app = create_app(SandboxConfig(api_key=KEY, rate_limit_per_second=1))
    with _client(app) as client:
        assert client.get("/health").status_code == 200
        assert_error(client.get("/health"), 429, "rate_limit_error", "throttled")
        assert client.get("/_sandbox/faults").json()["rate_limit_per_second"] == 1
    app.state.sandbox.store.close()
