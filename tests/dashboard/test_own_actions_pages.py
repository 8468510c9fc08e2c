"""The dashboard's own writes are in the mirror before the page shows them, on SQLite and on
PostgreSQL (AppTest): a link from a Connection health row is on Sessions, and a disconnect is in
the patient's timeline as an action by the local user.

The dashboard is pointed at the embedded sandbox as a configured target (key and URL), so its
mirror is the configured database (the embedded target mirrors into a file of its own); the
mirror is synced once first, as `mirror sync` would."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from medblocks.client import Medblocks
from medblocks.dashboard import mirror_reads
from medblocks.dashboard.tables import PATIENT_LINK_TEXT
from medblocks.dashboard.target import Target
from medblocks.mirror import open_mirror, schema
from medblocks.sandbox import RunningSandbox
from medblocks.spec import pinned_version
from tests.dashboard.apptest import open_app_page, press_new_link
from tests.dashboard.conftest import an_active_connection
from tests.mirror.conftest import database_url, postgres_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("app_environment")


@pytest.fixture
def own_mirror(
    app_environment: None,
    database_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    embedded: RunningSandbox,
) -> str:
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", database_url)
    monkeypatch.setenv("MEDBLOCKS_API_KEY", embedded.api_key)
    monkeypatch.setenv("MEDBLOCKS_API_URL", embedded.base_url)
    target = Target("sandbox", embedded.base_url, pinned_version(), True, embedded.api_key)
    mirror = mirror_reads.mirror_for(target, database_url)
    try:
        mirror_reads.sync_now(mirror, target)
    finally:
        mirror.close()
    return database_url


def test_own_actions_are_in_the_mirror_at_once(own_mirror: str, embedded_api: Medblocks) -> None:
    at = open_app_page("ui_pages/connection_health.py", status="refresh_failed")
    assert not at.exception, [e.value for e in at.exception]
    row = at.dataframe[0].value.iloc[0]
    at.query_params["connection"] = row["id"]
    at.run()
    press_new_link(at)
    assert not at.exception and not at.error, [e.value for e in at.error]
    [code] = [c.value for c in at.code]
    session_id = next(
        s.id
        for s in embedded_api.patients.sessions(
            re.search(PATIENT_LINK_TEXT, row["patient_link"]).group(1)  # type: ignore[union-attr]
        )
        if s.url == code
    )
    sessions = open_app_page("ui_pages/sessions.py")
    assert session_id in set(sessions.dataframe[0].value["id"])  # no Sync now

    patient, conn = an_active_connection(embedded_api)
    at = open_app_page("ui_pages/patients.py", open=patient)
    at.selectbox[0].set_value(conn).run()
    at.button(key="disconnect_ask").click().run()
    at.button(key="disconnect_confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mirror = open_mirror(own_mirror)
    try:
        h = schema.status_changes
        with mirror.read() as db:
            rows = db.execute(
                sa.select(h.c.to_status, h.c.observed_by, h.c.actor).where(
                    h.c.connection_id == conn
                )
            ).all()
    finally:
        mirror.close()
    assert ("disconnected", "action", "local user") in [tuple(r) for r in rows]
