"""A person's walk through the hosted patient page in headless Chromium.

The sandbox is served on loopback by `start_in_thread`; `return_url` points at a tiny local
server, so the browser really lands there and the final URL's query is checked exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from playwright.sync_api import Page

from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(seed_demo=False)) as running:
        yield running


@pytest.fixture(scope="module")
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sandbox.api_key}", "Version": "2026-04-25"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def return_url() -> Iterator[str]:
    """The integrator's return page: answers every GET with a small HTML page."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>Back in the app</title><h1>Back in the app</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/medblocks/return"
    server.shutdown()
    server.server_close()


def _sources(api: httpx.Client) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = api.get("/connections", params={"limit": 100}).json()["data"]
    return data


def _create(api: httpx.Client, patient_id: str, return_url: str, **extra: Any) -> dict[str, Any]:
    body = {"patient_id": patient_id, "return_url": return_url, **extra}
    response = api.post("/patient-sessions", json=body)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def _sign_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", "pass_good")
    page.click("#sign-in")


def _landed(page: Page, return_url: str) -> list[tuple[str, str]]:
    page.wait_for_url(f"{return_url}?**")
    assert page.text_content("h1") == "Back in the app"
    parts = urlsplit(page.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == return_url
    return parse_qsl(parts.query, keep_blank_values=True)


def test_picker_mode_end_to_end(page: Page, api: httpx.Client, return_url: str):
    sources = _sources(api)
    recommended, wanted = sources[5], sources[10]
    session = _create(
        api,
        "browser_picker",
        return_url,
        recommended_connection_ids=[recommended["id"]],
        return_button_label="Acme Health",
    )
    page.goto(session["url"])
    first_listed = page.locator("#sources li").first
    assert first_listed.get_attribute("data-source-id") == recommended["id"]
    page.fill("#q", wanted["name"].split()[0].lower())
    page.click("button[type=submit]")
    row = page.locator(f'li[data-source-id="{wanted["id"]}"]')
    assert page.locator("#sources li").count() < len(sources)
    row.get_by_role("link", name="Connect").click()
    assert "user_good" in (page.text_content("#personas") or "")
    _sign_in(page, "user_good")
    page.get_by_role("button", name="Approve").click()
    assert page.text_content("#result") == f"Connected to {wanted['name']}"
    page.click("#finish")
    page.get_by_role("button", name="Done — return to Acme Health").click()
    assert _landed(page, return_url) == [
        ("patient_id", "browser_picker"),
        ("patient_session_id", session["id"]),
    ]
    after = api.get(f"/patient-sessions/{session['id']}").json()
    assert after["status"] == "complete"
    assert [(c["connection_id"], c["status"]) for c in after["connections"]] == [
        (wanted["id"], "active")
    ]


def test_direct_mode_success(page: Page, api: httpx.Client, return_url: str):
    source = _sources(api)[2]
    session = _create(api, "browser_direct_ok", return_url, connection_id=source["id"])
    page.goto(session["url"])
    assert page.text_content("h1") == f"Sign in to {source['name']}"
    _sign_in(page, "user_good")
    page.get_by_role("button", name="Approve").click()
    assert _landed(page, return_url) == [
        ("patient_id", "browser_direct_ok"),
        ("patient_session_id", session["id"]),
        ("success", "true"),
        ("connection_id", source["id"]),
    ]
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "complete"


def test_direct_mode_error(page: Page, api: httpx.Client, return_url: str):
    source = _sources(api)[3]
    session = _create(api, "browser_direct_denied", return_url, connection_id=source["id"])
    page.goto(session["url"])
    _sign_in(page, "user_good")
    page.get_by_role("button", name="Deny").click()
    query = _landed(page, return_url)
    assert query[:5] == [
        ("patient_id", "browser_direct_denied"),
        ("patient_session_id", session["id"]),
        ("success", "false"),
        ("error", "user_denied"),
        ("error_description", "You chose not to share your records."),
    ]
    assert len(query) == 5
    after = api.get(f"/patient-sessions/{session['id']}").json()
    assert after["status"] == "open"
    assert (after["connections"][0]["id"], after["connections"][0]["failure_code"]) == (
        None,
        "user_denied",
    )


def test_expired_link_shows_the_expired_page(page: Page, api: httpx.Client, return_url: str):
    session = _create(api, "browser_expired", return_url, expires_in=60)
    api.post("/_sandbox/clock/advance", json={"seconds": 61})
    response = page.goto(session["url"])
    assert response is not None and response.status == 410
    assert page.text_content("#expired") == "This link has expired"


def test_the_page_is_styled_under_its_csp_and_refuses_to_be_framed(
    page: Page, api: httpx.Client, return_url: str
):
    session = _create(api, "browser_csp", return_url)
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    response = page.goto(session["url"])
    assert response is not None
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert (headers["x-frame-options"], headers["referrer-policy"]) == ("DENY", "no-referrer")
    # The inline stylesheet runs under the CSP (allowed by its hash): the header is styled.
    background = page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(18, 53, 91)"
    assert not [text for text in blocked if "Content Security Policy" in text]

    # Framed by another origin (the integrator's page here), the hosted page does not render.
    page.goto(return_url)
    page.set_content(f'<iframe id="framed" src="{session["url"]}"></iframe>')
    page.wait_for_timeout(500)
    frame = page.frame_locator("#framed")
    assert frame.locator("#sources").count() == 0
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "open"
