"""The dashboard follows the mirror's identity rule: a mirror database holding another
organisation is refused on the page, naming both and the start-over command, and nothing in it
changes ("Sync now" included: it is not offered)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from medblocks.mirror import open_mirror, schema
from medblocks.mirror.identity import Organisation
from medblocks.sandbox import RunningSandbox
from tests.dashboard.apptest import open_app_page

pytestmark = pytest.mark.usefixtures("app_environment")


def test_a_mirror_of_another_organisation_is_refused_on_the_page(
    embedded: RunningSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'team.sqlite3'}"
    other = Organisation("https://api.medblocks.com", "0123456789ab")
    mirror = open_mirror(url)
    with mirror.write() as db:
        other.bind(mirror, db)
        db.execute(
            sa.insert(schema.status_changes).values(
                connection_id="pc_1",
                patient_id="user_1",
                source_id="fhirsrc_1",
                to_status="active",
                changed_at="2026-11-01T00:00:00.000Z",
                observed_at="2026-11-01T00:00:00.000Z",
                observed_by="sync",
            )
        )
    with mirror.read() as db:
        before = [
            tuple(r)
            for t in (schema.checkpoints, schema.status_changes)
            for r in db.execute(sa.select(t))
        ]
    monkeypatch.setenv("MEDBLOCKS_API_KEY", embedded.api_key)
    monkeypatch.setenv("MEDBLOCKS_API_URL", embedded.base_url)
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", url)

    at = open_app_page("ui_pages/connection_health.py")
    assert not at.exception, [e.value for e in at.exception]
    assert any("holds another organisation" in e.value for e in at.error)
    shown = " ".join(t.value for t in at.text)
    assert str(other) in shown
    assert str(Organisation.of(embedded.base_url, embedded.api_key)) in shown
    assert "mirror start-over" in shown and embedded.api_key not in shown
    assert "mirror_sync_now" not in {b.key for b in at.button}
    with mirror.read() as db:
        after = [
            tuple(r)
            for t in (schema.checkpoints, schema.status_changes)
            for r in db.execute(sa.select(t))
        ]
    assert after == before
