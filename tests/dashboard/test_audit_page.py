"""The Audit page through AppTest, and the local user's own actions in the log: a reveal on
the Patients page is recorded once (not on every rerun) as `local user`, admin, and the page
filters by person, action and patient; a disconnect from Connection health is recorded like
one from the Patients page, and so is clearing the sandbox's faults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medblocks.client import Medblocks
from medblocks.dashboard import sandbox_levers
from medblocks.dashboard.target import Target
from medblocks.mirror.audit import AuditEntry, AuditFilter, entries, record
from medblocks.mirror.db import open_mirror
from medblocks.mirror.settings import sqlite_url
from medblocks.sandbox import Faults
from tests.dashboard.apptest import open_app_page
from tests.dashboard.conftest import an_active_connection


@pytest.fixture
def audit_url(app_environment: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_url(tmp_path / "mirror.sqlite3")
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", url)
    mirror = open_mirror(url)
    record(
        mirror,
        AuditEntry(
            actor="ops@x.org", role="ops", action="disconnect", patient_id="pat_9", target="conn_9"
        ),
    )
    record(
        mirror,
        AuditEntry(actor="admin@x.org", role="admin", action="sandbox-lever", detail="Resetting"),
    )
    mirror.close()
    return url


def test_the_audit_page_filters_by_person_action_and_patient(audit_url: str) -> None:
    at = open_app_page("ui_pages/audit.py")
    assert not at.exception
    shown = at.dataframe[0].value
    assert list(shown["actor"]) == ["admin@x.org", "ops@x.org"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", t) for t in shown["at"])
    assert list(shown["target"]) == ["", "conn_9"]  # missing values empty, never "None"
    assert list(shown["rows"]) == ["", ""]
    assert "2 rows shown" in " ".join(c.value for c in at.caption)
    at = open_app_page("ui_pages/audit.py", person="ops@x.org")
    assert list(at.dataframe[0].value["action"]) == ["disconnect"]
    at = open_app_page("ui_pages/audit.py", action="sandbox-lever")
    assert list(at.dataframe[0].value["actor"]) == ["admin@x.org"]
    at = open_app_page("ui_pages/audit.py", patient="pat_9")
    assert list(at.dataframe[0].value["target"]) == ["conn_9"]


def test_a_reveal_is_recorded_once_as_the_local_user(audit_url: str) -> None:
    at = open_app_page("ui_pages/patients.py")
    at.sidebar.toggle(key="reveal_phi").set_value(True).run()
    at.run()  # another run of the same view and filters adds nothing
    assert not at.exception
    mirror = open_mirror(audit_url)
    rows = list(entries(mirror, AuditFilter(action="reveal")))
    mirror.close()
    assert [(r["actor"], r["role"], r["view"], r["outcome"]) for r in rows] == [
        ("local user", "admin", "patients", "done")
    ]


def test_a_disconnect_from_connection_health_is_confirmed_said_once_and_audited(
    audit_url: str, embedded_api: Medblocks
) -> None:
    patient, conn = an_active_connection(embedded_api)
    at = open_app_page("ui_pages/connection_health.py", connection=conn)
    at.button(key="health_disconnect_ask").click().run()
    assert [w.value for w in at.warning][-1].startswith("The patient's hospital access ends")
    statuses = {c.id: c.status for c in embedded_api.patients.retrieve(patient).connections}
    assert statuses[conn] == "active"  # nothing is sent before the confirmation
    at.button(key="health_disconnect_confirm").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Disconnected."]
    statuses = {c.id: c.status for c in embedded_api.patients.retrieve(patient).connections}
    assert statuses[conn] == "disconnected"
    assert f"Patient {patient} · " in at.text[0].value and "disconnected" in at.text[0].value
    at.run()
    assert not at.success  # said once
    mirror = open_mirror(audit_url)
    rows = list(entries(mirror, AuditFilter(action="disconnect", patient_id=patient)))
    mirror.close()
    assert [(r["actor"], r["target"], r["view"], r["outcome"]) for r in rows] == [
        ("local user", conn, "health", "done")
    ]


def test_the_audit_filters_from_the_url_are_checked_like_every_pages(audit_url: str) -> None:
    at = open_app_page("ui_pages/audit.py", action="launch-everything", person="nobody@x.org")
    assert not at.exception
    notices = [t.value for t in at.text]
    assert any(n.startswith("Ignored action='launch-everything': not one of") for n in notices)
    assert any(n.startswith("Ignored person='nobody@x.org': not one of") for n in notices)
    assert list(at.dataframe[0].value["actor"]) == ["admin@x.org", "ops@x.org"]  # unfiltered
    at = open_app_page("ui_pages/audit.py", patient="pat_9\x07")  # a control character
    assert any(t.value.startswith("Ignored patient=") for t in at.text)
    assert len(at.dataframe[0].value) == 2


def test_clearing_the_sandbox_faults_is_an_audited_lever(
    audit_url: str, sandbox_target: Target
) -> None:
    levers = sandbox_levers.SandboxLevers(sandbox_target)
    levers.set_faults(Faults(latency_ms=1))
    try:
        at = open_app_page("ui_pages/sandbox.py")
        at.button(key="clear_faults").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert levers.faults() == Faults()
    finally:
        levers.clear_faults()
    mirror = open_mirror(audit_url)
    rows = list(entries(mirror, AuditFilter(action="sandbox-lever")))
    mirror.close()
    assert ("local user", "Clearing the faults", "done") in [
        (r["actor"], r["detail"], r["outcome"]) for r in rows
    ]
