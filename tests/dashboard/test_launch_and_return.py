"""Launching exactly once per intent, and the return page's verdicts, against the real sandbox."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from medblocks.client import Medblocks, NotFoundError
from medblocks.dashboard.launch import LaunchForm, launch_once, validate_launch
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.return_page import verify_return
from medblocks.dashboard.roles import Actor, NotAllowed
from medblocks.mirror.audit import AuditFilter, entries

RETURN_URL = "http://127.0.0.1:8501/connected"


def launch(client: Medblocks, ledger: Ledger, intent: str, **form: Any) -> Any:
    checked = validate_launch(LaunchForm(return_url=RETURN_URL, **form))
    assert checked.request is not None, checked.errors
    return launch_once(
        client,
        ledger,
        checked.request,
        intent_id=intent,
        target="embedded",
        launched_by=Actor("test", "ops"),
    )


def test_the_same_intent_creates_one_session(client: Medblocks, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    first = launch(client, ledger, "intent-1", mode="picker", patient_id="dash_once")
    again = launch(client, ledger, "intent-1", mode="picker", patient_id="dash_once")
    assert first.created_now and not again.created_now
    assert again.record.session_id == first.record.session_id
    assert [s.id for s in client.patients.sessions("dash_once")] == [first.record.session_id]
    session = client.patient_sessions.retrieve(first.record.session_id)
    assert session.url == first.record.session_url and session.return_url == RETURN_URL


def test_a_refused_create_is_recorded_and_not_retried(client: Medblocks, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    with pytest.raises(NotFoundError):
        launch(client, ledger, "bad", mode="direct", patient_id="dash_bad", source_ids=("nope",))
    record = ledger.get("bad")
    assert record is not None and record.error and record.session_id is None
    assert record.error.split(":")[0] != "no-request-id"
    again = launch(
        client, ledger, "bad", mode="direct", patient_id="dash_bad", source_ids=("nope",)
    )
    assert not again.created_now and again.record.error == record.error


def sessions_of_demo(client: Medblocks) -> list[Any]:
    return [s for p in client.patients.list(limit=100) for s in client.patients.sessions(p.id)]


def params(session: Any, **extra: str) -> dict[str, str]:
    return {"patient_id": session.patient_id, "patient_session_id": session.id, **extra}


def test_return_states_follow_the_server_not_the_link(client: Medblocks) -> None:
    seen: dict[str, Any] = {}
    for session in sessions_of_demo(client):
        statuses = {c.status for c in session.connections}
        outcome = verify_return(client, params(session, success="true"))
        if statuses == {"active"}:
            assert outcome.state == "connected"
            assert outcome.headline == "Connected — pulling records"
        elif "active" in statuses:
            assert outcome.state == "partly_connected"
        elif statuses:
            assert outcome.state == "failed" and outcome.request_id
        elif session.status == "expired":
            assert outcome.state == "expired"
        else:
            assert outcome.state == "abandoned"
        seen[outcome.state] = outcome
    assert {"connected", "failed", "expired"} <= set(seen)
    failed = seen["failed"]
    coded = [a for a in failed.attempts if a.failure_code]
    assert all(a.failure_words and a.failure_code not in a.failure_words for a in coded)


def test_direct_error_hint_without_an_attempt_is_shown_as_reported(
    client: Medblocks, tmp_path: Path
) -> None:
    source = next(iter(client.sources.list())).id
    made = launch(
        client,
        Ledger(tmp_path / "l.sqlite3"),
        "direct",
        mode="direct",
        patient_id="dash_direct",
        source_ids=(source,),
    )
    session = client.patient_sessions.retrieve(made.record.session_id)
    outcome = verify_return(client, params(session, success="false", error="user_denied"))
    assert outcome.state == "failed"
    assert "declined" in outcome.detail and "reported by the redirect" in outcome.detail
    assert outcome.request_id


def test_unknown_session_and_tampered_links_are_refused(client: Medblocks) -> None:
    unknown = verify_return(
        client, {"patient_id": "user_1", "patient_session_id": "ps_01ZZZZZZZZZZZZZZZZZZZZZZZZ"}
    )
    assert unknown.state == "invalid" and "No session" in unknown.detail
    assert unknown.request_id
    session = sessions_of_demo(client)[0]
    tampered = verify_return(client, params(session) | {"patient_id": "someone_else"})
    assert tampered.state == "invalid" and "altered" in tampered.detail
    malformed = verify_return(client, {"patient_session_id": "x' OR 1=1"})
    assert malformed.state == "invalid" and len(malformed.problems) == 2


def test_a_viewers_launch_is_refused_before_anything_is_written(
    client: Medblocks, tmp_path: Path
) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    patient = f"dash_viewer_{uuid.uuid4().hex[:8]}"
    checked = validate_launch(LaunchForm(return_url=RETURN_URL, mode="picker", patient_id=patient))
    assert checked.request is not None
    with pytest.raises(NotAllowed, match="viewer"):
        launch_once(
            client,
            ledger,
            checked.request,
            intent_id="intent-v",
            target="embedded",
            launched_by=Actor("v@x.org", "viewer"),
        )
    assert ledger.get("intent-v") is None
    with pytest.raises(NotFoundError):  # nothing was sent: the patient does not exist yet
        list(client.patients.sessions(patient))
    done = launch(client, ledger, "intent-o", mode="picker", patient_id=patient)
    logged = [
        (r["actor"], r["action"], r["outcome"], r["patient_id"], r["request_id"] is not None)
        for r in entries(ledger.mirror, AuditFilter(action="launch"))
    ]
    assert logged == [
        ("test", "launch", "done", patient, True),
        ("v@x.org", "launch", "refused", patient, False),
    ]
    assert done.created_now
