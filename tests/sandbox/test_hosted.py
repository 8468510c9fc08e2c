"""The hosted patient page (`/c/<token>`) driven over HTTP form posts, step by step.

The Playwright test in tests/browser walks the same flows in a real browser; these tests
cover every outcome and refusal quickly, in-process.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from medblocks.sandbox.hosted import outcomes
from medblocks.sandbox.ids import new_id
from medblocks.sandbox.runtime import SandboxRuntime

RETURN_URL = "https://app.example.test/connected?from=checkout"


def _sources(api: httpx.Client) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = api.get("/connections", params={"limit": 100}).json()["data"]
    return data


def _create(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {"patient_id": "hosted_1", "return_url": RETURN_URL, **extra}
    response = api.post("/patient-sessions", json=body)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def _path(session: dict[str, Any]) -> str:
    path = urlsplit(session["url"]).path
    assert re.fullmatch(r"/c/[0-9a-f]{32}", path)
    return path


def _sign_in_and_decide(
    raw: httpx.Client, path: str, source_id: str, username: str, decision: str
) -> httpx.Response:
    signed_in = raw.post(
        f"{path}/sources/{source_id}/sign-in",
        data={"username": username, "password": "pass_good"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    consent_page = raw.get(signed_in.headers["location"])
    assert consent_page.status_code == 200 and "Approve" in consent_page.text
    return raw.post(
        f"{path}/sources/{source_id}/consent",
        data={"persona": username, "decision": decision},
        follow_redirects=False,
    )


def _query(location: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(location).query, keep_blank_values=True)


def test_picker_lists_recommended_sources_first_and_searches(api: httpx.Client, raw: httpx.Client):
    sources = _sources(api)
    recommended = [sources[-1]["id"], sources[-2]["id"]]
    path = _path(_create(api, recommended_connection_ids=recommended))
    page = raw.get(path)
    assert page.status_code == 200
    listed = re.findall(r'data-source-id="([^"]+)"', page.text)
    assert listed[:2] == recommended
    assert set(listed) == {s["id"] for s in sources}
    searched = raw.get(path, params={"q": sources[0]["name"][:6].upper()})
    found = re.findall(r'data-source-id="([^"]+)"', searched.text)
    assert sources[0]["id"] in found and len(found) < len(sources)
    nothing = raw.get(path, params={"q": "no such hospital"})
    assert 'id="no-results"' in nothing.text and "Finish without connecting" in nothing.text


def test_picker_flow_completes_and_returns_with_exactly_the_documented_parameters(
    api: httpx.Client, raw: httpx.Client, runtime: SandboxRuntime
):
    source = _sources(api)[0]
    session = _create(api, return_button_label="Acme Health")
    path = _path(session)
    sign_in_page = raw.get(f"{path}/sources/{source['id']}")
    assert all(p in sign_in_page.text for p in ("user_good", "user_denied", "user_token_fail"))
    decided = _sign_in_and_decide(raw, path, source["id"], "user_good", "approve")
    assert decided.headers["location"] == f"{path}/sources/{source['id']}/result"
    assert "Connected to" in raw.get(decided.headers["location"]).text
    # Not complete until Done is clicked.
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "open"
    completion = raw.get(f"{path}/done")
    assert "Done — return to Acme Health" in completion.text
    done = raw.post(f"{path}/done", follow_redirects=False)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith("https://app.example.test/connected?")
    assert _query(location) == [
        ("from", "checkout"),
        ("patient_id", "hosted_1"),
        ("patient_session_id", session["id"]),
    ]
    after = api.get(f"/patient-sessions/{session['id']}").json()
    assert after["status"] == "complete"
    [attempt] = after["connections"]
    assert attempt["id"].startswith("conn_") and attempt["status"] == "active"
    assert (attempt["failure_code"], attempt["failure_at"]) == (None, None)
    patient = api.get("/patients/hosted_1").json()
    assert patient["connections"][0]["id"] == attempt["id"]
    assert patient["connections"][0]["patient_session_id"] == session["id"]
    records = api.get("/patients/hosted_1/records").json()["data"]
    assert records and {r["source"] for r in records} == {source["id"]}
    types = {row["type"] for row in runtime.store.query("SELECT type FROM webhook_events")}
    assert {"patient_session.completed", "records.sync.completed"} <= types
    # The link keeps working after Done only to say the session is complete.
    assert raw.get(path).status_code == 409


@pytest.mark.parametrize(
    ("username", "decision", "failure_code"),
    [
        ("user_good", "deny", "user_denied"),
        ("user_denied", "approve", "user_denied"),
        ("user_oauth_error", "approve", "oauth_error"),
        ("user_token_fail", "approve", "token_exchange_failed"),
    ],
)
def test_failed_attempts_have_null_id_and_a_failed_patient_connection(
    api: httpx.Client, raw: httpx.Client, username: str, decision: str, failure_code: str
):
    source = _sources(api)[1]
    session = _create(api)
    path = _path(session)
    decided = _sign_in_and_decide(raw, path, source["id"], username, decision)
    result = raw.get(decided.headers["location"])
    assert failure_code in result.text and "Could not connect" in result.text
    [attempt] = api.get(f"/patient-sessions/{session['id']}").json()["connections"]
    assert attempt["id"] is None and attempt["status"] == "failed"
    assert attempt["failure_code"] == failure_code and attempt["failure_at"]
    [connection] = api.get("/patients/hosted_1").json()["connections"]
    assert (connection["status"], connection["failure_code"]) == ("failed", failure_code)
    assert connection["failure_at"] == attempt["failure_at"] and connection["scopes"] == []
    # A session can be complete while its only attempt failed.
    raw.post(f"{path}/done", follow_redirects=False)
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "complete"


def test_connect_more_sources_in_one_session(api: httpx.Client, raw: httpx.Client):
    first, second = _sources(api)[:2]
    session = _create(api)
    path = _path(session)
    _sign_in_and_decide(raw, path, first["id"], "user_good", "approve")
    _sign_in_and_decide(raw, path, second["id"], "user_good", "deny")
    connections = api.get(f"/patient-sessions/{session['id']}").json()["connections"]
    assert [(c["connection_id"], c["status"]) for c in connections] == [
        (first["id"], "active"),
        (second["id"], "failed"),
    ]
    assert first["name"] in raw.get(f"{path}/done").text


def test_a_failed_retry_does_not_break_an_active_connection(api: httpx.Client, raw: httpx.Client):
    source = _sources(api)[0]
    path = _path(_create(api))
    _sign_in_and_decide(raw, path, source["id"], "user_good", "approve")
    second = _create(api)
    _sign_in_and_decide(raw, _path(second), source["id"], "user_good", "deny")
    [connection] = api.get("/patients/hosted_1").json()["connections"]
    assert (connection["status"], connection["failure_code"]) == ("active", None)
    [attempt] = api.get(f"/patient-sessions/{second['id']}").json()["connections"]
    assert (attempt["id"], attempt["status"]) == (None, "failed")


def test_direct_mode_success_redirects_straight_back_and_completes(
    api: httpx.Client, raw: httpx.Client
):
    source = _sources(api)[2]
    session = _create(api, connection_id=source["id"])
    path = _path(session)
    start = raw.get(path, follow_redirects=False)
    assert start.status_code == 303
    assert start.headers["location"] == f"{path}/sources/{source['id']}"
    decided = _sign_in_and_decide(raw, path, source["id"], "user_good", "approve")
    assert decided.status_code == 303
    assert _query(decided.headers["location"]) == [
        ("from", "checkout"),
        ("patient_id", "hosted_1"),
        ("patient_session_id", session["id"]),
        ("success", "true"),
        ("connection_id", source["id"]),
    ]
    after = api.get(f"/patient-sessions/{session['id']}").json()
    assert after["status"] == "complete" and after["connections"][0]["status"] == "active"


def test_direct_mode_error_redirects_with_error_and_leaves_the_session_open(
    api: httpx.Client, raw: httpx.Client
):
    source = _sources(api)[2]
    session = _create(api, connection_id=source["id"])
    path = _path(session)
    decided = _sign_in_and_decide(raw, path, source["id"], "user_token_fail", "approve")
    query = _query(decided.headers["location"])
    assert [name for name, _ in query] == [
        "from",
        "patient_id",
        "patient_session_id",
        "success",
        "error",
        "error_description",
    ]
    values = dict(query)
    assert (values["success"], values["error"]) == ("false", "token_exchange_failed")
    assert values["error_description"]
    after = api.get(f"/patient-sessions/{session['id']}").json()
    assert after["status"] == "open" and after["connections"][0]["id"] is None
    # Direct mode only offers its own source.
    other = _sources(api)[0]["id"]
    assert raw.get(f"{path}/sources/{other}").status_code == 404


def test_wrong_credentials_are_refused_without_an_attempt(api: httpx.Client, raw: httpx.Client):
    source = _sources(api)[0]
    session = _create(api)
    path = _path(session)
    for form in (
        {"username": "nobody", "password": "pass_good"},
        {"username": "user_good", "password": "wrong"},
    ):
        refused = raw.post(f"{path}/sources/{source['id']}/sign-in", data=form)
        assert refused.status_code == 400 and 'id="sign-in-error"' in refused.text
    assert api.get(f"/patient-sessions/{session['id']}").json()["connections"] == []


def test_unknown_and_expired_links(api: httpx.Client, raw: httpx.Client):
    unknown = raw.get("/c/" + "0" * 32)
    assert unknown.status_code == 404
    # A failure shown to a person carries the request id.
    assert f'<code id="request-id">{unknown.headers["x-request-id"]}</code>' in unknown.text
    session = _create(api, expires_in=60)
    advanced = api.post("/_sandbox/clock/advance", json={"seconds": 61})
    assert advanced.status_code == 200
    expired = raw.get(_path(session))
    assert expired.status_code == 410 and 'id="expired"' in expired.text
    source = _sources(api)[0]["id"]
    posted = raw.post(
        f"{_path(session)}/sources/{source}/sign-in",
        data={"username": "user_good", "password": "pass_good"},
    )
    assert posted.status_code == 410
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "expired"


def test_every_page_escapes_text(api: httpx.Client, raw: httpx.Client):
    label = '<script>alert("x")</script>'
    path = _path(_create(api, return_button_label=label))
    completion = raw.get(f"{path}/done")
    assert "<script>" not in completion.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in completion.text
    searched = raw.get(path, params={"q": "<b>bold</b>"})
    assert "<b>bold</b>" not in searched.text and "&lt;b&gt;bold&lt;/b&gt;" in searched.text
    for page in (completion, searched):
        assert "http://" not in page.text.replace('xmlns="http://', "")
        assert "<link" not in page.text and "src=" not in page.text


def test_refresh_fail_persona_fails_later_on_the_sandbox_clock(
    api: httpx.Client, raw: httpx.Client, runtime: SandboxRuntime
):
    source = _sources(api)[0]
    session = _create(api)
    _sign_in_and_decide(raw, _path(session), source["id"], "user_refresh_fail", "approve")
    [connection] = api.get("/patients/hosted_1").json()["connections"]
    assert connection["status"] == "active"
    api.post("/_sandbox/clock/advance", json={"seconds": 23 * 3600})
    assert api.get("/patients/hosted_1").json()["connections"][0]["status"] == "active"
    api.post("/_sandbox/clock/advance", json={"seconds": 3600})
    [failed] = api.get("/patients/hosted_1").json()["connections"]
    assert failed["status"] == "refresh_failed"
    assert (failed["failure_code"], failed["failure_at"]) == (None, None)
    [attempt] = api.get(f"/patient-sessions/{session['id']}").json()["connections"]
    assert attempt["status"] == "refresh_failed"
    rows = runtime.store.query(
        "SELECT data FROM webhook_events WHERE type = 'connection.token_refresh_failed'"
    )
    # One event for the demo endpoint (subscribed to "*").
    assert len([row for row in rows if connection["id"] in row["data"]]) == 1


def test_sync_fail_persona_is_active_without_records(
    api: httpx.Client, raw: httpx.Client, runtime: SandboxRuntime
):
    source = _sources(api)[0]
    _sign_in_and_decide(raw, _path(_create(api)), source["id"], "user_sync_fail", "approve")
    [connection] = api.get("/patients/hosted_1").json()["connections"]
    assert connection["status"] == "active"
    assert api.get("/patients/hosted_1/records").json()["data"] == []
    rows = runtime.store.query("SELECT type, data FROM webhook_events")
    types = {r["type"] for r in rows if connection["id"] in r["data"]}
    assert types == {"records.sync.failed"}


def test_disconnect_after_connecting(api: httpx.Client, raw: httpx.Client):
    source = _sources(api)[0]
    _sign_in_and_decide(raw, _path(_create(api)), source["id"], "user_good", "approve")
    [connection] = api.get("/patients/hosted_1").json()["connections"]
    api.delete(f"/patients/hosted_1/connections/{connection['id']}")
    [after] = api.get("/patients/hosted_1").json()["connections"]
    assert (after["status"], after["failure_code"]) == ("disconnected", None)


def test_finish_without_connecting_completes_an_empty_session(api: httpx.Client, raw: httpx.Client):
    session = _create(api)
    done = raw.post(f"{_path(session)}/done", follow_redirects=False)
    assert _query(done.headers["location"])[1:] == [
        ("patient_id", "hosted_1"),
        ("patient_session_id", session["id"]),
    ]
    after = api.get(f"/patient-sessions/{session['id']}").json()
    assert (after["status"], after["connections"]) == ("complete", [])


def test_a_wrong_method_gets_the_hosted_error_page(api: httpx.Client, raw: httpx.Client):
    session = _create(api)
    path = _path(session)
    source = _sources(api)[0]["id"]
    for method, url, allow in (
        ("POST", path, "GET, HEAD"),
        ("GET", f"{path}/sources/{source}/sign-in", "POST"),
        ("DELETE", f"{path}/sources/{source}/consent", "GET, HEAD, POST"),
        ("PUT", f"{path}/done", "GET, HEAD, POST"),
    ):
        refused = raw.request(method, url)
        assert refused.status_code == 405, (method, url)
        assert refused.headers["allow"] == allow
        assert refused.headers["content-type"].startswith("text/html")
        assert 'id="method-not-allowed"' in refused.text
        # Like every other hosted-page failure, it carries the request id.
        assert f'<code id="request-id">{refused.headers["x-request-id"]}</code>' in refused.text
    # The refused requests changed nothing: the session is still open with no attempt.
    after = api.get(f"/patient-sessions/{session['id']}").json()
    assert after["status"] == "open" and after["connections"] == []


# -- what the patient sees: logos, app name, test mode ------------------------------------------


def _csp_images(response: httpx.Response) -> str:
    found = re.search(r"img-src ([^;]+);", response.headers["content-security-policy"])
    assert found, response.headers["content-security-policy"]
    return found.group(1)


def test_the_picker_allows_exactly_the_image_origins_of_the_logos_it_shows(
    api: httpx.Client, raw: httpx.Client, runtime: SandboxRuntime
):
    runtime.store.insert_sources(
        [
            (
                new_id("fhirsrc_"),
                "Zeta Heart Institute",
                "epic",
                "https://fhir.zeta1.example.test",
                "https://logos.example.test/zeta.png",
                None,
            ),
            (
                new_id("fhirsrc_"),
                "Zeta Bone Clinic",
                None,
                "https://fhir.zeta2.example.test",
                "javascript:alert(1)",
                None,
            ),
            (
                new_id("fhirsrc_"),
                "Zeta Eye Care",
                None,
                "https://fhir.zeta3.example.test",
                None,
                None,
            ),
        ]
    )
    path = _path(_create(api))
    zeta = raw.get(path, params={"q": "zeta"})
    assert _csp_images(zeta) == "https://logos.example.test"
    assert 'src="https://logos.example.test/zeta.png"' in zeta.text
    assert "javascript:" not in zeta.text
    # No usable logo: the initials instead, drawn by the stylesheet.
    assert re.findall(r'<span class="logo fallback"[^>]*>(\w+)</span>', zeta.text) == ["ZB", "ZE"]
    everything = raw.get(path)
    assert _csp_images(everything) == "data: https://logos.example.test"
    # A page with no logo allows no image at all.
    assert _csp_images(raw.get(path, params={"q": "no such hospital"})) == "'none'"
    assert _csp_images(raw.get(f"{path}/done")) == "'none'"


def test_the_app_is_named_by_the_label_else_by_the_organisation(
    api: httpx.Client, raw: httpx.Client
):
    labelled = raw.get(f"{_path(_create(api, return_button_label='Acme Health'))}/done")
    assert '<span class="app" id="app-name">Acme Health</span>' in labelled.text
    unlabelled = raw.get(f"{_path(_create(api))}/done")
    assert '<span class="app" id="app-name">Demo Health</span>' in unlabelled.text
    assert "Done — return to Demo Health" in unlabelled.text
    assert "app.example.test" not in unlabelled.text


def test_scopes_are_in_plain_words_on_the_consent_step(api: httpx.Client, raw: httpx.Client):
    source = _sources(api)[0]
    path = _path(_create(api))
    page = raw.get(f"{path}/sources/{source['id']}/consent", params={"persona": "user_good"})
    scopes = re.search(r'<ul class="scopes" id="scopes">(.*?)</ul>', page.text, re.S)
    assert scopes is not None
    titles = re.findall(r"<strong>(.*?)</strong>", scopes.group(1))
    assert titles == [
        "Read your health record",
        "Confirm who you are",
        "Keep your records up to date",
    ]
    for raw_scope in ("launch/patient", "openid", "fhirUser", "offline_access", "patient/*.read"):
        assert raw_scope not in page.text


def test_test_mode_shows_persona_chips_that_fill_the_username(api: httpx.Client, raw: httpx.Client):
    source = _sources(api)[0]
    path = _path(_create(api))
    sign_in = raw.get(f"{path}/sources/{source['id']}")
    assert 'id="test-mode"' in sign_in.text
    chips = re.findall(r'<a class="chip" href="([^"]+)" data-username="(\w+)"', sign_in.text)
    assert [name for _, name in chips] == list(outcomes.PERSONAS)
    href, name = chips[3]
    chosen = raw.get(href.replace("&amp;", "&"))
    assert f'id="username" name="username" value="{name}"' in chosen.text
    assert f'data-username="{name}" aria-current="true"' in chosen.text
    # Only a persona fills the field; anything else is ignored, never echoed.
    other = raw.get(f"{path}/sources/{source['id']}", params={"username": '"><b>x'})
    assert 'id="username" name="username" value=""' in other.text and "<b>x" not in other.text
    # Vendors and the test server are named in test mode.
    picker = raw.get(path)
    assert "eClinicalWorks portal" in picker.text and "Test server" in picker.text
