"""The audit log on SQLite and PostgreSQL: rows are appended and read back, never changed —
by the application (no code path) or by a stray statement (the database refuses it) — and
start-over's archive leaves them in place."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from medblocks.dashboard.audit import (
    export_lines,
    perform,
    record_export,
    record_reveal,
    record_sign_in,
)
from medblocks.dashboard.roles import Actor, NotAllowed
from medblocks.mirror import schema
from medblocks.mirror.audit import AuditEntry, AuditFilter, entries, people, record
from medblocks.mirror.db import Mirror
from medblocks.mirror.identity import start_over


def _actions(mirror: Mirror, f: AuditFilter | None = None) -> list[tuple[str, str, str]]:
    return [(r["actor"], r["action"], r["outcome"]) for r in entries(mirror, f or AuditFilter())]


def test_entries_are_appended_and_filtered(mirror: Mirror) -> None:
    record(mirror, AuditEntry(actor="a@x.org", role="ops", action="reveal", view="Patients"))
    record(
        mirror,
        AuditEntry(
            actor="b@x.org", role="ops", action="disconnect", target="conn_1", patient_id="pat_1"
        ),
    )
    assert _actions(mirror) == [("b@x.org", "disconnect", "done"), ("a@x.org", "reveal", "done")]
    assert _actions(mirror, AuditFilter(person="a@x.org")) == [("a@x.org", "reveal", "done")]
    assert _actions(mirror, AuditFilter(patient_id="pat_1")) == [("b@x.org", "disconnect", "done")]
    assert _actions(mirror, AuditFilter(action="export")) == []
    assert people(mirror) == ["a@x.org", "b@x.org"]
    with pytest.raises(ValueError):
        AuditEntry(actor="a", role="ops", action="something else")


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(schema.audit_log).values(actor="someone else"),
        sa.delete(schema.audit_log),
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_remove_a_row(
    mirror: Mirror, statement: sa.Executable
) -> None:
    record(mirror, AuditEntry(actor="a@x.org", role="ops", action="reveal"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), mirror.write() as db:
        db.execute(statement)
    assert _actions(mirror) == [("a@x.org", "reveal", "done")]


def test_truncate_is_refused_on_postgresql(mirror: Mirror) -> None:
    if mirror.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    record(mirror, AuditEntry(actor="a@x.org", role="ops", action="reveal"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), mirror.write() as db:
        db.execute(sa.text("TRUNCATE audit_log"))
    assert len(_actions(mirror)) == 1


def test_start_over_keeps_the_audit_log(mirror: Mirror) -> None:
    record(mirror, AuditEntry(actor="a@x.org", role="admin", action="sandbox-lever"))
    start_over(mirror, "http://127.0.0.1:1", "mb_sk_sbx_" + "a" * 32, lambda: None)
    assert _actions(mirror) == [("a@x.org", "sandbox-lever", "done")]


def test_a_refused_action_is_recorded_and_never_runs(mirror: Mirror) -> None:
    ran: list[str] = []
    with pytest.raises(NotAllowed, match="viewer"):
        perform(mirror, Actor("v@x.org", "viewer"), "disconnect", ran.append, "x", target="conn_1")
    assert ran == []
    perform(mirror, Actor("o@x.org", "ops"), "disconnect", ran.append, "x", target="conn_1")
    assert ran == ["x"]
    assert _actions(mirror) == [
        ("o@x.org", "disconnect", "done"),
        ("v@x.org", "disconnect", "refused"),
    ]


def test_a_failed_action_is_recorded_with_its_request_id(mirror: Mirror) -> None:
    class Failed(Exception):
        request_id = "req_123"

    def fail() -> None:
        raise Failed("no")

    with pytest.raises(Failed):
        perform(mirror, Actor("o@x.org", "ops"), "redeliver", fail, target="evt_1")
    (row,) = entries(mirror, AuditFilter())
    assert (row["outcome"], row["request_id"], row["target"]) == ("failed", "req_123", "evt_1")


def test_export_csv_is_spreadsheet_safe_and_jsonl_is_whole(mirror: Mirror) -> None:
    record(
        mirror,
        AuditEntry(actor="=cmd|' /C calc'!A0", role="ops", action="reveal", patient_id="+pat"),
    )
    record(mirror, AuditEntry(actor="o@x.org", role="ops", action="export", rows=3))
    text = "".join(export_lines(mirror, "csv"))
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row
    )
    assert "'=cmd|' /C calc'!A0" in rows[1]
    lines = [json.loads(line) for line in "".join(export_lines(mirror, "jsonl")).splitlines()]
    assert [r["actor"] for r in lines] == ["=cmd|' /C calc'!A0", "o@x.org"]
    later = lines[1]["at"]
    assert [json.loads(x)["action"] for x in export_lines(mirror, "jsonl", since=later)] == [
        "export"
    ]


def test_a_viewers_reveal_is_refused_and_filters_keep_no_phi(mirror: Mirror) -> None:
    filters = {"email": ["jane@example.org"], "q": ["Jane"], "status": ["failed"], "open": ""}
    with pytest.raises(NotAllowed):
        record_reveal(mirror, Actor("v@x.org", "viewer"), "patients", filters)
    record_reveal(mirror, Actor("o@x.org", "ops"), "patients", filters, patient_id="pat_1")
    rows = list(entries(mirror, AuditFilter()))
    assert [(r["actor"], r["outcome"]) for r in rows] == [
        ("o@x.org", "done"),
        ("v@x.org", "refused"),
    ]
    assert rows[0]["detail"] == '{"email": "(given)", "q": "(given)", "status": ["failed"]}'
    assert "jane" not in json.dumps(rows).lower()


def test_exports_are_recorded_masked_or_revealed(mirror: Mirror) -> None:
    record_export(
        mirror, Actor("v@x.org", "viewer"), "sessions", "sessions.csv", 12, revealed=False
    )
    with pytest.raises(NotAllowed):
        record_export(
            mirror, Actor("v@x.org", "viewer"), "sessions", "sessions.csv", 12, revealed=True
        )
    record_export(
        mirror, Actor("o@x.org", "ops"), "health", "connection-health.csv", 3, revealed=True
    )
    rows = [
        (r["actor"], r["outcome"], r["target"], r["rows"], r["detail"])
        for r in entries(mirror, AuditFilter())
    ]
    assert rows == [
        ("o@x.org", "done", "connection-health.csv", 3, "revealed"),
        ("v@x.org", "refused", "sessions.csv", 12, "revealed"),
        ("v@x.org", "done", "sessions.csv", 12, "masked"),
    ]


def test_a_sign_in_is_recorded_once_per_token(mirror: Mirror) -> None:
    ops = Actor("o@x.org", "ops")
    record_sign_in(mirror, ops, "1764888000")
    record_sign_in(mirror, ops, "1764888000")  # a reload, another tab
    record_sign_in(mirror, ops, "1764891600")  # signed in again
    details = [r["detail"] for r in entries(mirror, AuditFilter(action="sign-in"))]
    assert details == ["token issued at 1764891600", "token issued at 1764888000"]
