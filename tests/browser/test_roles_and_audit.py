"""Roles and the audit log in a real Chromium, signed in through a real OpenID Connect provider
(`oidc-provider-mock` on loopback) by Streamlit's `[auth]` (a temporary secrets file): a viewer
cannot reveal or write — the reveal toggle forced on in the page and a disconnect pressed both
reach the server, which refuses them and records the refusal — while an ops user's reveal,
export and disconnect, and every sign-in, appear on the Audit page with who and when."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from oidc_provider_mock import run_server_in_thread
from playwright.sync_api import Page, WebSocketRoute, expect
from streamlit.proto.BackMsg_pb2 import BackMsg

from medblocks.client import Medblocks
from medblocks.mirror.audit import AuditFilter, entries
from medblocks.mirror.db import open_mirror
from medblocks.mirror.settings import sqlite_url
from medblocks.sandbox import RunningSandbox
from tests.browser.conftest import disconnect
from tests.browser.streamlit_app import streamlit_server
from tests.local_servers import free_port, wait_until

pytestmark = pytest.mark.browser

VIEWER = "viewer@example.org"
OPS = "ops@example.org"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def signed_in_dashboard(
    provider: str, demo_sandbox: RunningSandbox, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """The dashboard (target: the demo sandbox) with `[auth]` pointing at the provider; its
    base URL and the audit database's URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{base}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(16)}"\n'
        'client_id = "medblocks-workbench"\n'
        'client_secret = "not-a-real-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    database = sqlite_url(tmp_path / "mirror.sqlite3")
    env = {
        "MEDBLOCKS_API_KEY": demo_sandbox.api_key,
        "MEDBLOCKS_API_URL": demo_sandbox.base_url,
        "MEDBLOCKS_DATABASE_URL": database,
        "MEDBLOCKS_ROLES": f"{OPS}=ops",  # the viewer is named nowhere: viewer
    }
    with streamlit_server(env, ("--secrets.files", str(secrets_file)), port=port) as served:
        yield served, database


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/overview")
    page.get_by_role("button", name="Log in").click()
    page.locator("input[name=sub]").fill(email)  # the provider's own form
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text(re.compile(rf"^{re.escape(email)} · "))).to_be_visible(timeout=60_000)


def active_connection(sandbox: RunningSandbox, skip: int = 0) -> tuple[str, str, str]:
    """A named patient with an active connection: (patient id, connection id, name)."""
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as api:
        found = [
            (p.id, c.id, p.name)
            for p in api.patients.list(limit=100)
            if p.name
            for c in api.patients.retrieve(p.id).connections
            if c.status == "active"
        ]
    return found[skip]


def logged(database: str, person: str) -> list[tuple[str, str]]:
    mirror = open_mirror(database)
    try:
        return [(r["action"], r["outcome"]) for r in entries(mirror, AuditFilter(person=person))]
    finally:
        mirror.close()


def wait_logged(database: str, person: str, wanted: tuple[str, str]) -> None:
    wait_until(
        lambda: wanted in logged(database, person), timeout=60, what=f"{wanted} in the audit log"
    )


def force_reveal_over_the_websocket(page: Page) -> list[bool]:
    """Relay the page's websocket to Streamlit; once the returned list holds anything, every
    rerun message the browser sends has the Reveal toggle's state (key `reveal_phi`) set on."""
    forcing: list[bool] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if forcing and isinstance(message, bytes):
                sent = BackMsg.FromString(message)
                if sent.WhichOneof("type") == "rerun_script":
                    for state in sent.rerun_script.widget_states.widgets:
                        if state.id.endswith("-reveal_phi"):
                            state.bool_value = True
                    message = sent.SerializeToString()
            server.send(message)

        ws.on_message(to_server)
        server.on_message(ws.send)

    page.route_web_socket(re.compile(r"/_stcore/stream"), route)
    return forcing


def test_a_viewer_cannot_reveal_or_write(
    page: Page, signed_in_dashboard: tuple[str, str], demo_sandbox: RunningSandbox
) -> None:
    base, database = signed_in_dashboard
    patient, connection, name = active_connection(demo_sandbox)
    sign_in(page, base, VIEWER)
    wait_logged(database, VIEWER, ("sign-in", "done"))
    forcing = force_reveal_over_the_websocket(page)
    page.goto(f"{base}/patients?open={patient}")
    expect(page.get_by_role("heading", name="Records")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("switch", name="Reveal names and emails")).to_be_disabled()
    # The disabled toggle set on in the rerun message the browser sends over the websocket
    # (as a hand-made client would): the names stay masked and nothing was revealed. (Streamlit
    # itself drops a disabled widget's value; `reveal()` would refuse it next: the unit tests.)
    forcing.append(True)
    page.get_by_role("button", name="Refresh data").click()
    expect(page.get_by_text("names and emails masked")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Records")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(name)).to_have_count(0)
    forcing.clear()
    disconnect(page, base, patient, connection)
    expect(page.get_by_text("Not allowed for your role")).to_be_visible(timeout=30_000)
    wait_logged(database, VIEWER, ("disconnect", "refused"))
    with Medblocks(demo_sandbox.api_key, base_url=demo_sandbox.base_url) as api:
        still = {c.id: c.status for c in api.patients.retrieve(patient).connections}
    assert still[connection] == "active"
    assert ("reveal", "done") not in logged(database, VIEWER)


def test_an_ops_users_reveal_export_and_disconnect_are_on_the_audit_page(
    page: Page, signed_in_dashboard: tuple[str, str], demo_sandbox: RunningSandbox
) -> None:
    base, database = signed_in_dashboard
    patient, connection, name = active_connection(demo_sandbox, skip=1)
    sign_in(page, base, OPS)
    page.goto(f"{base}/patients?open={patient}")
    expect(page.get_by_role("heading", name="Records")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(name)).to_have_count(0)  # masked until revealed
    page.get_by_text("Reveal names and emails").click()
    expect(page.get_by_text(name).first).to_be_visible(timeout=60_000)
    wait_logged(database, OPS, ("reveal", "done"))
    page.get_by_role("link", name="Sessions").click()  # the same session: still revealed
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "sessions.csv"
    wait_logged(database, OPS, ("export", "done"))
    disconnect(page, base, patient, connection)
    expect(page.get_by_text("Disconnected.")).to_be_visible(timeout=30_000)
    page.goto(f"{base}/audit?person={OPS}")
    expect(page.get_by_role("heading", name="Audit")).to_be_visible(timeout=60_000)
    table = page.get_by_test_id("stDataFrame")
    for action in ("sign-in", "reveal", "export", "disconnect"):
        expect(table).to_contain_text(action, timeout=30_000)
    expect(table).to_contain_text(OPS)
    expect(table).to_contain_text(connection)
    year = time.strftime("%Y", time.gmtime())
    expect(table).to_contain_text(re.compile(rf"{year}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
    assert name not in table.inner_text()  # ids and views, never the name revealed
