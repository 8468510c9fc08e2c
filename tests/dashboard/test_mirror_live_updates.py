"""End to end: a patient approves in the hosted page, the sandbox delivers the signed event to
the receiver the dashboard runs, the receiver updates the mirror, and the Connection health
page (AppTest) shows the connection `active` without a sync."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from medblocks.client import Medblocks
from medblocks.dashboard.mirror_reads import embedded_database_url
from medblocks.dashboard.tables import PATIENT_LINK_TEXT
from medblocks.dashboard.target import embedded_sandbox
from medblocks.mirror import open_mirror, schema
from medblocks.mirror.sync import LAST_SYNC

APP = Path(__file__).resolve().parents[2] / "dashboard.py"
PATIENT = "dash_mirror_e2e"


@pytest.fixture(autouse=True)
def own_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MEDBLOCKS_API_KEY", "MEDBLOCKS_API_URL", "MEDBLOCKS_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", f"sqlite:///{tmp_path / 'mirror.sqlite3'}")
    st.cache_data.clear()


def health_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui_pages/connection_health.py")
    return at.run()


def patients_of(table: pd.DataFrame) -> pd.Series:
    """The patient id of each row of the Connection health table (shown as a link to it)."""
    return table["patient_link"].str.extract(PATIENT_LINK_TEXT, expand=False)


def test_an_approval_reaches_the_connection_health_page_without_a_sync(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = health_page()  # first view: the mirror fills itself and the receiver is registered
    assert not at.exception, [e.value for e in at.exception]
    configured = f"sqlite:///{tmp_path / 'mirror.sqlite3'}"
    mirror = open_mirror(embedded_database_url(configured))  # the embedded sandbox's own
    synced = mirror.checkpoint(LAST_SYNC)
    assert synced is not None and synced["patients"] >= 28
    assert PATIENT not in set(patients_of(at.dataframe[0].value))

    sandbox = embedded_sandbox()
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as api:
        source = next(iter(api.sources.list(limit=1)))
        session = api.patient_sessions.create(
            patient_id=PATIENT,
            return_url="http://127.0.0.1:8501/connected",
            recommended_connection_ids=[source.id],
        )
    # the patient, in the hosted page: sign in at the source, approve, Done
    path = urlsplit(session.url).path
    with httpx.Client(base_url=sandbox.base_url, follow_redirects=True) as browser:
        assert browser.get(path).status_code == 200
        signed_in = browser.post(
            f"{path}/sources/{source.id}/sign-in",
            data={"username": "user_good", "password": "pass_good"},
        )
        assert signed_in.status_code == 200 and "Approve" in signed_in.text
        approved = browser.post(
            f"{path}/sources/{source.id}/consent",
            data={"persona": "user_good", "decision": "approve"},
        )
        assert approved.status_code == 200 and "Connected to" in approved.text
        assert browser.post(f"{path}/done", follow_redirects=False).status_code == 303

    c, e = schema.connections, schema.events
    wanted = {"records.sync.completed", "patient_session.completed"}
    deadline = time.monotonic() + 20
    while True:  # the sandbox delivers in the background; the receiver applies after answering
        with mirror.read() as db:
            statuses = db.execute(sa.select(c.c.status).where(c.c.patient_id == PATIENT)).all()
            applied = db.execute(sa.select(e.c.type).where(e.c.applied_at.is_not(None))).all()
        if [row.status for row in statuses] == ["active"] and wanted <= {r.type for r in applied}:
            break
        assert time.monotonic() < deadline, "the events did not reach the mirror"
        time.sleep(0.05)

    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    mine = table[patients_of(table) == PATIENT]
    assert list(mine["status"]) == ["active"]
    assert mirror.checkpoint(LAST_SYNC) == synced  # no sync ran: the event did it
    with mirror.read() as db:
        received = db.execute(sa.select(schema.events.c.type, schema.events.c.outcome)).all()
    assert {row.type for row in received} >= wanted
    assert all(row.outcome.startswith("applied") for row in received)
    mirror.close()
