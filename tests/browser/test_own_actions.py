"""Ops' own actions show at once, in a real Chromium against `streamlit run dashboard.py` (a
loopback sandbox with demo data as the target, the mirror in a fresh SQLite file, filled once by
"Sync now" and never again): a session link created from a Connection health row is listed on
Sessions; a direct-mode denial (no webhook event exists for it) reaches Connection health within
30 s; a disconnect on the Patients page shows in the Connection health table."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from medblocks.client import Medblocks
from medblocks.mirror import open_mirror, schema
from medblocks.sandbox import RunningSandbox
from tests.browser.conftest import disconnect
from tests.browser.streamlit_app import streamlit_server
from tests.local_servers import wait_until

pytestmark = pytest.mark.browser
CREATE = "Create a new session link for this patient and source"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('own-actions') / 'mirror.sqlite3'}"


@pytest.fixture(scope="module")
def dashboard(demo_sandbox: RunningSandbox, database: str) -> Iterator[str]:
    env = {
        "MEDBLOCKS_API_KEY": demo_sandbox.api_key,
        "MEDBLOCKS_API_URL": demo_sandbox.base_url,
        "MEDBLOCKS_DATABASE_URL": database,
    }
    with streamlit_server(env) as base:
        yield base


def status_in_mirror(database: str, connection_id: str) -> str | None:
    mirror = open_mirror(database)
    try:
        c = schema.connections
        with mirror.read() as db:
            found = db.execute(sa.select(c.c.status).where(c.c.id == connection_id)).scalar()
    finally:
        mirror.close()
    return None if found is None else str(found)


@pytest.fixture(scope="module")
def api(demo_sandbox: RunningSandbox) -> Iterator[Medblocks]:
    with Medblocks(demo_sandbox.api_key, base_url=demo_sandbox.base_url) as client:
        yield client


def failing_connection(api: Medblocks, status: str, skip: int = 0) -> tuple[str, str, str]:
    """(patient id, connection id, source id) of the `skip`-th connection in `status`."""
    found = [
        (p.id, c.id, c.connection_id)
        for p in api.patients.list(limit=100)
        for c in api.patients.retrieve(p.id).connections
        if c.status == status
    ]
    return found[skip]


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("button", name="Sync now")).to_be_visible(timeout=60_000)


def fill_mirror_once(page: Page, base: str) -> None:
    """The only "Sync now" of the module: a fresh mirror of a sandbox process is empty."""
    open_page(page, f"{base}/health")
    if page.get_by_text("The mirror is empty").count():
        page.get_by_role("button", name="Sync now").click()
        expect(page.get_by_text("full sync:")).to_be_visible(timeout=60_000)


def create_link_from_row(page: Page, base: str, connection_id: str) -> str:
    """Press the row action for `connection_id`; returns the new session's id."""
    open_page(page, f"{base}/health?connection={connection_id}")
    page.get_by_role("button", name=CREATE).click()
    created = page.get_by_text(re.compile(r"Session ps_\w+ created"))
    expect(created).to_be_visible(timeout=30_000)
    found = re.search(r"ps_\w+", created.inner_text())
    assert found is not None
    return found.group(0)


def test_a_link_created_from_a_row_is_listed_on_sessions(
    page: Page, dashboard: str, api: Medblocks
) -> None:
    fill_mirror_once(page, dashboard)
    patient, connection, _ = failing_connection(api, "refresh_failed")
    session_id = create_link_from_row(page, dashboard, connection)
    open_page(page, f"{dashboard}/sessions?session={session_id}")  # no Sync now
    expect(page.get_by_role("heading", name=f"Session {session_id}")).to_be_visible()
    expect(page.get_by_text(f"Patient {patient} · open ·")).to_be_visible()


def test_a_direct_mode_denial_reaches_connection_health_within_30_s(
    page: Page, dashboard: str, database: str, api: Medblocks, demo_sandbox: RunningSandbox
) -> None:
    fill_mirror_once(page, dashboard)
    patient, connection, source = failing_connection(api, "refresh_failed", skip=1)
    session_id = create_link_from_row(page, dashboard, connection)
    denied = httpx.post(
        f"{demo_sandbox.base_url}/_sandbox/patient-sessions/{session_id}/complete",
        headers={"Authorization": f"Bearer {demo_sandbox.api_key}"},
        json={"outcome": "failed", "failure_code": "user_denied", "connection_id": source},
    )
    assert denied.status_code == 200, denied.text
    assert denied.json()["patient_session"]["status"] == "open"  # no event: still open
    wait_until(  # the dashboard's re-read
        lambda: status_in_mirror(database, connection) == "failed",
        timeout=30,
        what="the denial to reach the mirror",
        every=0.2,
    )
    shown = page.get_by_text(re.compile(rf"^Patient {patient} · .* · failed"))
    deadline = time.monotonic() + 120
    while True:  # a person reloading the page; nobody presses Sync now
        open_page(page, f"{dashboard}/health?connection={connection}")
        if shown.count():
            break
        assert time.monotonic() < deadline, "the page never showed what the mirror holds"
        page.wait_for_timeout(500)
    expect(page.get_by_text("What happened: ")).to_contain_text("declined")


def test_a_disconnect_shows_in_the_connection_health_table(
    page: Page, dashboard: str, api: Medblocks
) -> None:
    fill_mirror_once(page, dashboard)
    patient, connection, _ = failing_connection(api, "active")
    disconnect(page, dashboard, patient, connection)
    expect(page.get_by_text("Disconnected.")).to_be_visible(timeout=30_000)
    open_page(page, f"{dashboard}/health?connection={connection}")  # no Sync now
    expect(page.get_by_text(re.compile(rf"^Patient {patient} · .* · disconnected"))).to_be_visible()
