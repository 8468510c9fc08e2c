"""A hostile-input battery: bodies, controls, headers, ids, query strings and hosted-page forms
that try to break the sandbox.

Every case must get a 4xx — in the error envelope whose `request_id` equals `X-Request-Id`
(the API and the controls), or, on the hosted pages, a page that shows the `X-Request-Id` —
and afterwards the sandbox must answer `/health` and a patient written before the battery must
read exactly as it did. One in-process sandbox serves the whole module (no socket), so the
cases also prove that no earlier case left damage behind for a later one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from medblocks.in_process import in_process_client
from medblocks.sandbox import SandboxConfig, create_app

KEY = "mb_sk_sbx_01HOSTILE000000000000000000"
HEADERS = {"Authorization": f"Bearer {KEY}", "Version": "2026-04-25"}
ANCHOR = "hostile_anchor"
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Case:
    """One hostile request; `{name}` placeholders in the path and body come from the setup."""

    method: str
    path: str
    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hosted: bool = False  # a hosted page: HTML with the request id instead of the envelope


def api(method: str, path: str, status: int, body: str | bytes | None = None, **headers: str):
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return Case(method, path, status, raw, {**JSON, **headers} if raw is not None else headers)


def page(method: str, path: str, status: int, form: str | bytes | None = None) -> Case:
    raw = form.encode() if isinstance(form, str) else form
    return Case(method, path, status, raw, FORM if raw is not None else {}, hosted=True)


LONG = "x" * 5000
CASES: dict[str, Case] = {
    # -- bodies ----------------------------------------------------------------------------
    "body truncated": api("POST", "/patients", 400, "{"),
    "body an array": api("POST", "/patients", 400, "[]"),
    "body a string": api("POST", "/patients", 400, '"patient"'),
    "body null": api("POST", "/patients", 400, "null"),
    "body NaN metadata": api("POST", "/patients", 400, '{"patient_id":"h1","metadata":{"a":NaN}}'),
    "body Infinity": api("POST", "/patients", 400, '{"patient_id":"h1","metadata":{"a":Infinity}}'),
    "body 1e999": api("POST", "/patients", 400, '{"patient_id":"h1","metadata":{"a":1e999}}'),
    "body 400-digit integer": api(
        "POST", "/patients", 400, '{"patient_id":"h1","metadata":{"a":' + "9" * 400 + "}}"
    ),
    "body -400-digit integer in a list": api(
        "POST", "/patients", 400, '{"patient_id":"h1","metadata":{"a":[1,-' + "9" * 400 + "]}}"
    ),
    "body invalid utf-8": api("POST", "/patients", 400, b'{"patient_id":"\xff\xfe"}'),
    "body lone surrogate": api("POST", "/patients", 400, '{"patient_id":"\\ud800"}'),
    "body nested 100k deep": api("POST", "/patients", 400, "[" * 100_000),
    "body over 1 MB": api("POST", "/patients", 413, '{"patient_id":"' + "a" * 1_100_000 + '"}'),
    "body lying length": api("POST", "/patients", 413, "{}", **{"Content-Length": "99999999"}),
    "patient_id too long": api("POST", "/patients", 400, '{"patient_id":"' + "a" * 201 + '"}'),
    "patient_id empty": api("POST", "/patients", 400, '{"patient_id":""}'),
    "patient_id reserved": api("POST", "/patients", 400, '{"patient_id":"pat_1"}'),
    "patient_id a number": api("POST", "/patients", 400, '{"patient_id":12}'),
    "email not an email": api("POST", "/patients", 400, '{"patient_id":"h2","email":"nobody"}'),
    "metadata a list": api("POST", "/patients", 400, '{"patient_id":"h2","metadata":[1]}'),
    "anchor created twice": api("POST", "/patients", 409, f'{{"patient_id":"{ANCHOR}"}}'),
    "anchor replaced with another id": api(
        "PUT", f"/patients/{ANCHOR}", 400, '{"patient_id":"someone_else","name":"Mallory"}'
    ),
    "anchor name too long": api(
        "PUT", f"/patients/{ANCHOR}", 400, f'{{"patient_id":"{ANCHOR}","name":"{"n" * 201}"}}'
    ),
    "anchor NaN metadata": api(
        "PUT", f"/patients/{ANCHOR}", 400, f'{{"patient_id":"{ANCHOR}","metadata":{{"a":NaN}}}}'
    ),
    "session both modes": api(
        "POST",
        "/patient-sessions",
        400,
        f'{{"patient_id":"{ANCHOR}","return_url":"https://a.example.test","connection_id":'
        '"{source}","recommended_connection_ids":["{source}"]}',
    ),
    "session javascript return_url": api(
        "POST",
        "/patient-sessions",
        400,
        f'{{"patient_id":"{ANCHOR}","return_url":"javascript:alert(1)"}}',
    ),
    "session extra field": api(
        "POST",
        "/patient-sessions",
        400,
        f'{{"patient_id":"{ANCHOR}","return_url":"https://a.example.test","admin":true}}',
    ),
    "session expires_in huge": api(
        "POST",
        "/patient-sessions",
        400,
        f'{{"patient_id":"{ANCHOR}","return_url":"https://a.example.test","expires_in":1e20}}',
    ),
    "webhook ftp url": api(
        "POST", "/webhooks", 400, '{"url":"ftp://h.example.test","events":["*"]}'
    ),
    "webhook star mixed": api(
        "POST",
        "/webhooks",
        400,
        '{"url":"https://h.example.test","events":["*","records.sync.failed"]}',
    ),
    "webhook 51 metadata keys": api(
        "POST",
        "/webhooks",
        400,
        '{"url":"https://h.example.test","events":["*"],"metadata":{'
        + ",".join(f'"k{i}":"v"' for i in range(51))
        + "}}",
    ),
    "webhook patch unknown": api("PATCH", "/webhooks/wh_missing", 404, '{"description":"x"}'),
    # -- controls --------------------------------------------------------------------------
    "clock NaN": api("POST", "/_sandbox/clock/advance", 400, '{"seconds":NaN}'),
    "clock -Infinity": api("POST", "/_sandbox/clock/advance", 400, '{"seconds":-Infinity}'),
    "clock 1e300": api("POST", "/_sandbox/clock/advance", 400, '{"seconds":1e300}'),
    "clock negative": api("POST", "/_sandbox/clock/advance", 400, '{"seconds":-1}'),
    "clock a string": api("POST", "/_sandbox/clock/advance", 400, '{"seconds":"1"}'),
    "clock no body": api("POST", "/_sandbox/clock/advance", 400),
    "faults error_rate NaN": api("PUT", "/_sandbox/faults", 400, '{"error_rate":NaN}'),
    "faults error_rate 2": api("PUT", "/_sandbox/faults", 400, '{"error_rate":2}'),
    "faults latency 1e9": api("PUT", "/_sandbox/faults", 400, '{"latency_ms":1e9}'),
    "faults unknown field": api("PUT", "/_sandbox/faults", 400, '{"chaos":true}'),
    "faults rate limit negative": api(
        "PUT", "/_sandbox/faults", 400, '{"rate_limit_per_second":-1}'
    ),
    "seed zero": api("POST", "/_sandbox/seed", 400, '{"patients":0}'),
    "seed a billion": api("POST", "/_sandbox/seed", 400, '{"patients":1000000000}'),
    "reset with a string": api("POST", "/_sandbox/reset", 400, '{"seed_demo":"yes"}'),
    "complete unknown session": api(
        "POST", "/_sandbox/patient-sessions/ps_missing/complete", 404, '{"outcome":"active"}'
    ),
    "connection status bogus": api(
        "POST", "/_sandbox/connections/conn_missing/status", 400, '{"status":"hacked"}'
    ),
    "control wrong method": api("DELETE", "/_sandbox/clock", 405),
    "control without key": api("GET", "/_sandbox/faults", 401, Authorization=""),
    # -- headers ---------------------------------------------------------------------------
    "version from the past": api("GET", "/patients", 400, Version="1999-01-01"),
    "version another spelling": api("GET", "/patients", 400, Version="2026/04/25"),
    "version very long": api("GET", "/patients", 400, Version=LONG),
    "wrong key": api("GET", "/patients", 401, Authorization="Bearer mb_sk_sbx_wrong"),
    "live key": api("GET", "/patients", 401, Authorization="Bearer mb_sk_live_abc"),
    "basic auth": api("GET", "/patients", 401, Authorization="Basic YTpi"),
    "huge bearer": api("GET", "/patients", 401, Authorization="Bearer " + LONG),
    "prefer an undocumented code": api("GET", "/patients", 400, Prefer="code=999"),
    "prefer a teapot": api("GET", "/patients", 400, Prefer="code=418"),
    "text/plain garbage": api(
        "POST", "/patients", 400, "patient_id=h3", **{"Content-Type": "text/plain"}
    ),
    # -- ids and paths ---------------------------------------------------------------------
    "id a NUL": api("GET", "/patients/%00", 404),
    "id path traversal": api("GET", "/patients/..%2F..%2Fetc%2Fpasswd", 404),
    "id sql injection": api("GET", "/patients/%27%20OR%201%3D1%20--", 404),
    "id 5000 chars": api("GET", f"/patient-sessions/ps_{LONG}", 404),
    "id bad escape": api("GET", "/connections/%ZZ%E2", 404),
    "disconnect unknown conn": api("DELETE", f"/patients/{ANCHOR}/connections/conn_nope", 404),
    "launch context not a uuid": api("GET", "/launch-contexts/not-a-uuid", 400),
    "redeliver by GET": api("GET", "/events/evt_x/redeliver", 405),
    "redeliver unknown": api("POST", "/events/evt_missing/redeliver", 404),
    "unknown route": api("GET", "/admin", 404),
    "unknown method": api("TRACE", "/patients", 405),
    # -- query strings ---------------------------------------------------------------------
    "limit zero": api("GET", "/patients?limit=0", 400),
    "limit 101": api("GET", "/patients?limit=101", 400),
    "limit a word": api("GET", "/patients?limit=ten", 400),
    "limit 20 digits": api("GET", "/patients?limit=99999999999999999999", 400),
    "limit a float": api("GET", "/patients?limit=1.5", 400),
    "cursor forged": api("GET", "/patients?starting_after=cur_forged", 404),
    "session status bogus": api("GET", f"/patients/{ANCHOR}/patient-sessions?status=hacked", 400),
    "records since garbage": api("GET", f"/patients/{ANCHOR}/records?since=yesterday", 400),
    "records count negative": api("GET", f"/patients/{ANCHOR}/records?count=-1", 400),
    "records forged cursors": api(
        "GET", f"/patients/{ANCHOR}/records?starting_after=aaaaaaaaaaaa&ending_before=b", 404
    ),
    "events delivered maybe": api("GET", "/webhooks/{webhook}/events?delivered=maybe", 400),
    "webhooks status bogus": api("GET", "/webhooks?status=%00", 400),
    # -- hosted-page forms -----------------------------------------------------------------
    "page token not hex": page("GET", "/c/not-a-token", 404),
    "page unknown token": page("GET", "/c/" + "0" * 32, 404),
    "sign-in wrong password": page(
        "POST", "/c/{token}/sources/{source}/sign-in", 400, "username=user_good&password=x"
    ),
    "sign-in unknown user": page(
        "POST", "/c/{token}/sources/{source}/sign-in", 400, "username=root&password=pass_good"
    ),
    "sign-in script username": page(
        "POST",
        "/c/{token}/sources/{source}/sign-in",
        400,
        "username=%3Cscript%3Ealert(1)%3C%2Fscript%3E&password=pass_good",
    ),
    "sign-in invalid utf-8": page(
        "POST", "/c/{token}/sources/{source}/sign-in", 400, b"username=\xff\xfe&password=\xc3"
    ),
    "sign-in oversize form": page(
        "POST", "/c/{token}/sources/{source}/sign-in", 413, "username=" + "u" * 20_000
    ),
    "sign-in unknown source": page(
        "POST", "/c/{token}/sources/fhirsrc_nope/sign-in", 404, "username=user_good"
    ),
    "page wrong method": page("DELETE", "/c/{token}", 405),
    "consent on an expired session": page(
        "POST", "/c/{expired}/sources/{source}/consent", 410, "persona=user_good&decision=approve"
    ),
    "done on a completed session": page("POST", "/c/{complete}/done", 409, ""),
}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(SandboxConfig(api_key=KEY))
    with in_process_client(app, headers=HEADERS) as client:
        yield client
    app.state.sandbox.store.close()


@pytest.fixture(scope="module")
def setup(client: httpx.Client) -> dict[str, Any]:
    """The anchor patient (written before any case) and the ids the cases point at."""
    created = client.post(
        "/patients",
        json={"patient_id": ANCHOR, "name": "Anchor Person", "metadata": {"tier": "gold"}},
    )
    assert created.status_code == 200
    source = client.get("/connections").json()["data"][0]["id"]

    def session(**extra: Any) -> dict[str, Any]:
        body = {"patient_id": ANCHOR, "return_url": "https://app.example.test/back", **extra}
        response = client.post("/patient-sessions", json=body)
        assert response.status_code == 200, response.text
        made: dict[str, Any] = response.json()
        return made

    expired = session(expires_in=60)
    client.post("/_sandbox/clock/advance", json={"seconds": 61})
    complete = session()
    done = client.post(
        f"/_sandbox/patient-sessions/{complete['id']}/complete",
        json={"outcome": "failed", "failure_code": "user_denied", "connection_id": source},
    )
    assert done.status_code == 200, done.text
    return {
        "source": source,
        "token": session()["url"].rsplit("/", 1)[1],
        "expired": expired["url"].rsplit("/", 1)[1],
        "complete": complete["url"].rsplit("/", 1)[1],
        "webhook": client.get("/webhooks").json()["data"][0]["id"],
        "anchor": client.get(f"/patients/{ANCHOR}").json(),
    }


def test_the_battery_is_big_enough():
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", CASES)
def test_hostile_input_is_refused_and_harms_nothing(
    client: httpx.Client, setup: dict[str, Any], name: str
):
    case = CASES[name]
    path = case.path.format(**setup)
    body = case.body.replace(b"{source}", setup["source"].encode()) if case.body else case.body
    response = client.request(case.method, path, content=body, headers=case.headers)

    assert 400 <= response.status_code < 500
    assert response.status_code == case.status, response.text[:300]
    request_id = response.headers["x-request-id"]
    if case.hosted:
        assert response.headers["content-type"].startswith("text/html")
        assert request_id in response.text
    else:
        error = response.json()["error"]
        assert set(error) == {"type", "code", "message", "param", "doc_url", "request_id"}
        assert error["request_id"] == request_id
    _still_healthy(client, setup["anchor"])


def _still_healthy(client: httpx.Client, anchor: dict[str, Any]) -> None:
    health = client.get("/health", headers={"Authorization": ""})
    assert health.status_code == 200 and health.json()["ok"] is True
    assert client.get(f"/patients/{ANCHOR}").json() == anchor
    assert client.get("/_sandbox/faults").json()["error_rate"] == 0


def test_an_integer_a_64_bit_float_holds_is_kept_exactly(client: httpx.Client) -> None:
    """The edge of the integer rule: the largest integers a float's range holds are accepted
    and read back digit for digit; one more digit than that is refused (in the battery)."""
    big = int(sys.float_info.max)  # 309 digits
    body = (
        f'{{"patient_id":"h_big_int","metadata":{{"a":{big},"b":-{big},"c":12345678901234567890}}}}'
    )
    created = client.post("/patients", content=body.encode(), headers=JSON)
    assert created.status_code == 200, created.text[:300]
    assert '"a":' + str(big) in client.get("/patients/h_big_int").text
    too_big = body.replace('"c":1', '"c":' + str(big) + "0")
    refused = client.post(
        "/patients", content=too_big.replace("h_big_int", "h_bigger").encode(), headers=JSON
    )
    assert refused.status_code == 400
    assert "beyond a 64-bit float" in refused.json()["error"]["message"]
