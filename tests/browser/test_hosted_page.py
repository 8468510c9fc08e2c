"""A person's walk through the hosted patient page in headless Chromium.

The sandbox is served on loopback by `start_in_thread`; `return_url` points at a tiny local
server, so the browser really lands there and the final URL's query is checked exactly.
Also checks the page on a phone (390 px wide: no sideways scroll, every button on screen, no
CSP violation, logos drawn) and takes the README's hosted-page screenshots: into
docs/screenshots/ when `MEDBLOCKS_UPDATE_SCREENSHOTS=1`, else into the test's temporary
directory (so an ordinary run leaves the working tree clean).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from medblocks.spec.failure_codes import failure_wording

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


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
    assert "Acme Health" in (page.text_content("#outcome") or "")
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
        ("error_description", failure_wording("user_denied").what_happened),
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
    # The catalog's logos are drawn: the page's img-src allows exactly their origin (data:).
    assert "img-src data:;" in headers["content-security-policy"]
    drawn = page.eval_on_selector_all("#sources img", "els => els.map(e => e.naturalWidth)")
    assert drawn and min(drawn) > 0
    assert not [text for text in blocked if "Content Security Policy" in text]

    # Framed by another origin (the integrator's page here), the hosted page does not render.
    page.goto(return_url)
    page.set_content(f'<iframe id="framed" src="{session["url"]}"></iframe>')
    page.wait_for_timeout(500)
    frame = page.frame_locator("#framed")
    assert frame.locator("#sources").count() == 0
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "open"


# -- on a phone, test mode, screenshots -------------------------------------------------------

FITS = """() => {
  const doc = document.documentElement;
  const outside = [...document.querySelectorAll('button, a.button, a.chip, a.source, input')]
    .filter(e => {
      const r = e.getBoundingClientRect();
      return r.left < 0 || r.right > doc.clientWidth;
    })
    .map(e => e.id || e.textContent.trim());
  return {scroll: doc.scrollWidth - doc.clientWidth, outside};
}"""


def _fits_the_screen(page: Page) -> None:
    """No sideways scroll, and every control lies within the screen's width."""
    measured = page.evaluate(FITS)
    assert measured == {"scroll": 0, "outside": []}, (page.url, measured)


def _visible_buttons(page: Page, *names: str) -> None:
    for name in names:
        control = page.get_by_role("button", name=name).or_(page.get_by_role("link", name=name))
        assert control.first.is_visible(), name
        box = control.first.bounding_box()
        assert box is not None and box["height"] >= 44, (name, box)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = SCREENSHOTS if os.environ.get("MEDBLOCKS_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_hosted_page_works_on_a_phone_390_px_wide(
    browser: Browser, api: httpx.Client, return_url: str, shots: Path
):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        sources = _sources(api)
        wanted = sources[1]
        session = _create(
            api,
            "browser_phone",
            return_url,
            recommended_connection_ids=[wanted["id"]],
            return_button_label="Acme Health",
        )
        page.goto(session["url"])
        assert page.text_content("#app-name") == "Acme Health"
        assert page.text_content("#test-mode") == "Test mode"
        _fits_the_screen(page)
        _visible_buttons(page, "Search")
        page.screenshot(path=str(shots / "hosted-picker-phone.png"))
        page.locator("#finish").scroll_into_view_if_needed()
        _visible_buttons(page, "Finish without connecting")
        # "Finish without connecting" is secondary: not styled like Connect or Search's primary.
        styles = page.eval_on_selector(
            "#finish", "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
        )
        assert styles == ["rgb(255, 255, 255)", "rgb(27, 36, 48)"]

        page.locator(f'li[data-source-id="{wanted["id"]}"] a').click()
        assert page.text_content("h1") == f"Sign in to {wanted['name']}"
        # A persona chip fills the username (a plain link: no script runs under the CSP).
        page.locator('#personas a[data-username="user_denied"]').click()
        assert page.input_value("#username") == "user_denied"
        assert page.get_attribute('a[data-username="user_denied"]', "aria-current") == "true"
        _fits_the_screen(page)
        _visible_buttons(page, "Sign in", "Choose another hospital")
        page.screenshot(path=str(shots / "hosted-sign-in-phone.png"), full_page=True)

        page.fill("#password", "pass_good")
        page.click("#sign-in")
        scopes = page.text_content("#scopes") or ""
        assert "Read your health record" in scopes and "Confirm who you are" in scopes
        assert not any(raw in scopes for raw in ("launch/patient", "openid", "fhirUser"))
        _fits_the_screen(page)
        _visible_buttons(page, "Approve", "Deny")
        page.screenshot(path=str(shots / "hosted-consent-phone.png"), full_page=True)

        page.get_by_role("button", name="Approve").click()  # user_denied declines
        wording = failure_wording("user_denied")
        assert page.text_content("#what-happened") == wording.what_happened
        assert "declined" in wording.what_happened
        assert wording.next_step in (page.text_content("#next-step") or "")
        _fits_the_screen(page)
        _visible_buttons(page, "Try again", "Choose another hospital", "Finish")

        page.click("#finish")
        _fits_the_screen(page)
        _visible_buttons(page, "Done — return to Acme Health")
        page.get_by_role("button", name="Done — return to Acme Health").click()
        assert dict(_landed(page, return_url))["patient_session_id"] == session["id"]
        assert not [text for text in console if "Content Security Policy" in text], console
    finally:
        context.close()


def test_the_hosted_page_on_a_desktop(
    browser: Browser, api: httpx.Client, return_url: str, shots: Path
):
    context = browser.new_context(viewport=DESKTOP, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        sources = _sources(api)
        session = _create(
            api,
            "browser_desktop",
            return_url,
            recommended_connection_ids=[sources[7]["id"], sources[0]["id"]],
        )
        page.goto(session["url"])
        # No return_button_label: the app is named after the sandbox's organisation.
        assert page.text_content("#app-name") == "Demo Health"
        _fits_the_screen(page)
        page.screenshot(path=str(shots / "hosted-picker-desktop.png"))
        page.locator(f'li[data-source-id="{sources[7]["id"]}"] a').click()
        page.locator('#personas a[data-username="user_good"]').click()
        page.fill("#password", "pass_good")
        page.click("#sign-in")
        page.get_by_role("button", name="Approve").click()
        page.click("#finish")
        done = page.get_by_role("button", name="Done — return to Demo Health")
        assert done.is_visible()
        assert not [text for text in console if "Content Security Policy" in text], console
    finally:
        context.close()


@pytest.fixture(scope="module")
def patient_view() -> Iterator[RunningSandbox]:
    config = SandboxConfig(seed_demo=False, hosted_test_mode=False, organisation_name="Acme Care")
    with start_in_thread(config) as running:
        yield running


def test_without_test_mode_patients_see_no_sandbox_words(
    page: Page, patient_view: RunningSandbox, return_url: str
):
    headers = {"Authorization": f"Bearer {patient_view.api_key}", "Version": "2026-04-25"}
    with httpx.Client(base_url=patient_view.base_url, headers=headers, timeout=10) as client:
        session = _create(client, "browser_patient_view", return_url)
    page.goto(session["url"])
    shown = (page.text_content("body") or "").lower()
    for word in ("test mode", "eclinicalworks", "epic", "test server", "sandbox", "persona"):
        assert word not in shown, word
    assert page.text_content("#app-name") == "Acme Care"
    page.locator("#sources li a").first.click()
    shown = (page.text_content("body") or "").lower()
    assert "pass_good" not in shown and page.locator("#personas").count() == 0
    _sign_in(page, "user_good")
    page.get_by_role("button", name="Approve").click()
    page.click("#finish")
    assert page.get_by_role("button", name="Done — return to Acme Care").is_visible()
