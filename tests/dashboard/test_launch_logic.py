"""The Launch page's data layer without a page: where a launch stands, a session's progress in
words (success only on an `active` connection), and a deliberate relaunch."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from medblocks.client import Medblocks
from medblocks.client.models import PatientSession
from medblocks.dashboard.launch import (
    INTERRUPTED_AFTER,
    LaunchForm,
    form_of,
    launch_outcome,
    launch_stage,
    parse_time,
    read_sessions,
    recent_launches,
    session_progress,
    validate_launch,
)
from medblocks.dashboard.ledger import LaunchRecord, Ledger

CATALOG = {"fhirsrc_1": {"name": "Aurora Community Health"}}


def session(status: str = "open", *attempts: dict[str, Any]) -> PatientSession:
    return PatientSession.model_validate(
        {
            "id": "ps_1",
            "resource_type": "patient_session",
            "status": status,
            "url": "http://127.0.0.1:1/c/abc",
            "patient_id": "u1",
            "connection_id": None,
            "recommended_connection_ids": None,
            "return_url": "http://127.0.0.1:8501/connected",
            "return_button_label": None,
            "connections": [
                {
                    "id": None,
                    "connection_id": "fhirsrc_1",
                    "failure_code": None,
                    "failure_at": None,
                    "created_at": "2026-11-29T07:00:00.000Z",
                }
                | attempt
                for attempt in attempts
            ],
            "expires_at": "2026-11-29T07:30:00.000Z",
            "metadata": {},
            "created_at": "2026-11-29T07:00:00.000Z",
        }
    )


def record(**values: Any) -> LaunchRecord:
    base: dict[str, Any] = {
        "intent_id": "i1",
        "target": "embedded",
        "launched_by": "qa",
        "requested_at": "2026-11-29T07:00:00.000Z",
        "patient_id": "u1",
        "mode": "picker",
        "request": {},
        "session_id": None,
        "session_url": None,
        "error": None,
        "finished_at": None,
    }
    return LaunchRecord(**(base | values))


def test_a_claim_is_creating_then_interrupted_when_it_never_finishes() -> None:
    claimed = record()
    started = parse_time(claimed.requested_at)
    assert launch_stage(claimed, started + timedelta(seconds=5)) == "creating"
    later = started + INTERRUPTED_AFTER + timedelta(seconds=1)
    assert launch_stage(claimed, later) == "interrupted"
    assert launch_outcome(claimed, None, later) == "interrupted: the create never finished"
    assert launch_stage(record(session_id="ps_1"), later) == "created"
    assert launch_stage(record(error="req: HTTP 500"), later) == "failed"


def test_only_an_active_connection_is_a_success() -> None:
    waiting = session_progress(session("open"), CATALOG)
    assert waiting.tone == "info" and not waiting.connected
    assert waiting.headline.startswith("Waiting for the patient")
    complete = session_progress(session("complete"), CATALOG)  # Done with nothing connected
    assert complete.tone == "warning" and not complete.connected
    declined = session_progress(
        session("open", {"status": "failed", "failure_code": "user_denied"}), CATALOG
    )
    assert not declined.connected and "try again on the same link" in declined.headline
    [attempt] = declined.attempts
    assert attempt["source"] == "Aurora Community Health" and "declined" in attempt["what happened"]
    connected = session_progress(session("complete", {"id": "conn_1", "status": "active"}), CATALOG)
    assert connected.tone == "success" and connected.connected
    assert connected.headline == "Connected: Aurora Community Health."
    expired = session_progress(session("expired"), CATALOG)
    assert "expired" in expired.headline and not expired.connected


def test_launch_again_refills_the_form_from_the_ledger_without_phi(tmp_path: Path) -> None:
    form = LaunchForm(
        mode="direct",
        patient_id="u9",
        return_url="http://127.0.0.1:8501/connected",
        patient_name="Maria Lopez",
        patient_email="maria@example.test",
        source_ids=("fhirsrc_1",),
        return_button_label="Back",
        expires_in=600,
        metadata_json='{"cohort": "a"}',
    )
    checked = validate_launch(form)
    assert checked.request is not None
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.begin(
        intent_id="i9",
        target="embedded",
        launched_by="qa",
        patient_id="u9",
        mode=checked.request.mode,
        request=checked.request.without_phi(),
    )
    kept = ledger.get("i9")
    assert kept is not None
    assert form_of(kept) == replace(form, patient_name="", patient_email="")  # all but the PHI
    assert "Maria" not in repr(kept) and "maria@" not in repr(kept)


def test_recent_launches_of_this_target_and_an_unreadable_session_says_why(
    client: Medblocks, tmp_path: Path
) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    for intent, target in (("a", "embedded"), ("b", "live"), ("c", "embedded")):
        ledger.begin(
            intent_id=intent,
            target=target,
            launched_by="qa",
            patient_id="u1",
            mode="picker",
            request={},
        )
    gone = "ps_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
    ledger.succeed("c", session_id=gone, session_url="http://127.0.0.1:1/c/x")
    mine = ledger.recent(10, target="embedded")
    assert [r.intent_id for r in mine] == ["c", "a"]
    sessions = read_sessions(client, [gone])
    rows = recent_launches(mine, sessions, "http://127.0.0.1:8501/launch")
    outcome = rows[0]["outcome"]
    assert outcome.startswith("session created; status not read (not found; request id: ")
    assert "none" not in outcome
    assert rows[1]["outcome"] == "creating the session…"
