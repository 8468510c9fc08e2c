"""QA's runs stay out of ops' data, in a real Chromium against `streamlit run dashboard.py` (a
loopback sandbox as the configured target, the mirror in a fresh SQLite file: the embedded
sandbox would mirror into a file of its own, out of the test's reach): a contract run started
from the Contract & drift page goes to a sandbox of its own, and afterwards a full sync of the
target finds no `ct…` patient (the harness's prefix) for any ops view to show."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from medblocks.mirror import open_mirror, schema
from medblocks.sandbox import RunningSandbox
from tests.browser.streamlit_app import streamlit_server

pytestmark = pytest.mark.browser
RUN = "Run contract suite and drift check"


def test_a_contract_run_from_the_dashboard_leaves_nothing_in_ops_views(
    page: Page, demo_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'mirror.sqlite3'}"
    env = {
        "MEDBLOCKS_DATABASE_URL": url,
        "MEDBLOCKS_API_KEY": demo_sandbox.api_key,
        "MEDBLOCKS_API_URL": demo_sandbox.base_url,
    }
    with streamlit_server(env) as base:
        page.goto(f"{base}/contract")
        expect(page.get_by_text("goes to a fresh sandbox started for it")).to_be_visible(
            timeout=60_000
        )
        page.get_by_role("button", name=RUN).click()
        expect(page.get_by_text("Running ")).to_be_visible(timeout=60_000)
        # the run ends (a few minutes on a loaded machine) and its report replaces the progress
        expect(page.get_by_role("heading", name="Newest run")).to_be_visible(timeout=900_000)
        expect(page.get_by_text("Running ")).to_have_count(0, timeout=60_000)
        expect(page.get_by_text("local sandbox server")).to_be_visible()

        page.goto(f"{base}/patients")
        sync = page.get_by_role("button", name="Sync now")
        expect(sync).to_be_visible(timeout=60_000)
        sync.click()  # what the target holds now, read afresh
        expect(page.get_by_text("full sync:")).to_be_visible(timeout=120_000)
        page.goto(f"{base}/patients?q=ct")  # the Patients page's own filter: ids starting ct
        expect(page.get_by_text(" patients · names and emails masked")).to_be_visible(
            timeout=60_000
        )

    mirror = open_mirror(url)
    try:
        with mirror.read() as db:
            for table in (schema.patients, schema.connections, schema.sessions):
                column = table.c.id if table is schema.patients else table.c.patient_id
                found = db.execute(sa.select(column).where(column.like("ct%"))).all()
                assert not found, (table.name, found)
            assert db.execute(sa.select(sa.func.count()).select_from(schema.patients)).scalar()
    finally:
        mirror.close()
