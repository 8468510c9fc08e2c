"""Alerts over the mirror (`medblocks.alerts`) on SQLite and PostgreSQL, delivered by apprise to
a local JSON receiver: one grouped message per source, nothing again within the repeat
interval, a repeat after it, "resolved" once, silences, no PHI, secrets never shown, and two
processes deciding on one database sending one message."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from medblocks.alerts import channels, engine, rules
from medblocks.alerts.settings import AlertSettings, alert_settings
from medblocks.alerts.tables import alert_sends
from medblocks.client import Medblocks
from medblocks.config import ConfigError
from medblocks.mirror import Mirror, schema
from medblocks.mirror.identity import archived, start_over
from medblocks.mirror.source_queries import iso
from tests.mirror.alert_inbox import Inbox, running_inbox
from tests.mirror.test_source_health import change, connection, write

REPO = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)


def at(**ago: float) -> str:
    return iso(NOW - timedelta(**ago))


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as running:
        yield running


def settings_for(inbox: Inbox, **changes: object) -> AlertSettings:
    base = AlertSettings(urls=(inbox.url,), dashboard_url="https://ops.example.test")
    return AlertSettings(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def failing_source(mirror: Mirror, source_id: str = "src_x", first: int = 0) -> None:
    """Three patients failing at `source_id` within the hour (an incident: usual rate 0)."""
    write(
        mirror,
        schema.connections,
        [
            connection(
                f"c{first + i}",
                f"patient_secret_{first + i}",
                source_id,
                "failed",
                failure_code="portal_unavailable",
                created_at=at(minutes=30 - i),
                failing_since=at(minutes=30 - i),
                failing_since_exact=True,
            )
            for i in range(3)
        ],
    )
    write(
        mirror,
        schema.status_changes,
        [change(source_id, "failed", at(minutes=30 - i), first + i) for i in range(3)],
    )


def sends(mirror: Mirror) -> list[dict]:
    with mirror.read() as db:
        return [dict(r._mapping) for r in db.execute(sa.select(alert_sends))]


def test_an_incident_is_one_message_then_quiet_then_repeated_then_resolved(
    mirror: Mirror, inbox: Inbox
) -> None:
    settings = settings_for(inbox, repeat_minutes=60)
    engine.save_source_names(mirror, {"src_x": "Mercy General"})
    failing_source(mirror)
    decided = engine.evaluate_after_change(mirror, settings, now=NOW)
    assert [(d.rule, d.kind, d.outcome) for d in decided] == [
        ("source_incident", "firing", "sent")
    ]  # the three new failures are inside the incident: no second message
    (message,) = inbox.wait_for(1)
    assert message["title"] == "Incident: Mercy General is failing"
    assert "last 3 connection attempts failed" in message["message"]
    assert "https://ops.example.test/hospitals?hospital=src_x" in message["message"]
    assert "patient_secret" not in message["message"] and message["type"] == "failure"

    assert engine.evaluate_after_change(mirror, settings, now=NOW + timedelta(minutes=5)) == []
    repeated = engine.evaluate_after_change(mirror, settings, now=NOW + timedelta(minutes=61))
    assert [(d.kind, d.outcome) for d in repeated] == [("repeat", "sent")]

    write(mirror, schema.status_changes, [change("src_x", "active", at(minutes=1), 9)])
    resolved = engine.evaluate_after_change(mirror, settings, now=NOW + timedelta(minutes=62))
    assert [(d.rule, d.kind) for d in resolved] == [("source_incident", "resolved")]
    messages = inbox.wait_for(3)
    assert messages[-1]["title"] == "RESOLVED: Incident: Mercy General is failing"
    assert messages[-1]["type"] == "success"
    # the patients who failed during the incident are covered by it: no "newly failing" after
    assert engine.evaluate_after_change(mirror, settings, now=NOW + timedelta(minutes=63)) == []
    assert len(inbox.messages) == 3 and len(sends(mirror)) == 3


def test_new_failures_are_grouped_per_source(mirror: Mirror, inbox: Inbox) -> None:
    settings = settings_for(inbox, rules=("new_failures",))
    failing_source(mirror, "src_a", 0)
    failing_source(mirror, "src_b", 10)
    decided = engine.evaluate_after_change(mirror, settings, now=NOW)
    assert sorted(d.title for d in decided) == [
        "src_a: 3 connections started failing",
        "src_b: 3 connections started failing",
    ]
    body = inbox.wait_for(2)[0]["message"]
    assert "portal_unavailable ×3" in body and "could not be reached" in body


def test_a_silence_records_the_decision_and_sends_nothing(mirror: Mirror, inbox: Inbox) -> None:
    settings = settings_for(inbox)
    failing_source(mirror)
    silence = engine.add_silence(mirror, "source_incident", "src_x", 2, "portal maintenance", "t")
    decided = engine.evaluate_after_change(mirror, settings, now=NOW)
    assert [(d.kind, d.outcome) for d in decided] == [("firing", "silenced")]
    assert "portal maintenance" in decided[0].detail and inbox.messages == []
    assert engine.end_silence(mirror, silence) and not engine.end_silence(mirror, silence)
    assert engine.silences_frame(mirror)["comment"].tolist() == ["portal maintenance"]


def test_no_channel_means_no_evaluation_and_nothing_recorded(mirror: Mirror) -> None:
    failing_source(mirror)
    assert engine.evaluate_after_change(mirror, AlertSettings(), now=NOW) == []
    assert sends(mirror) == []


def test_a_channel_that_does_not_answer_is_recorded_without_its_secret(mirror: Mirror) -> None:
    secret_url = "json://127.0.0.1:9/hooks/T0PSECRETTOKEN?key=abc"
    settings = AlertSettings(urls=(secret_url,), rules=("source_incident",))
    failing_source(mirror)
    (decision,) = engine.evaluate_after_change(mirror, settings, now=NOW)
    assert decision.outcome == "failed"
    assert "channel 1 (json://127.0.0.1:9/…)" in decision.detail
    recorded = str(sends(mirror))
    assert "T0PSECRETTOKEN" not in recorded and "abc" not in recorded
    assert "T0PSECRETTOKEN" not in repr(settings)
    slack = channels.masked("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops")
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in slack and slack.startswith("slack://")
    assert "secretpw" not in channels.masked("mailtos://ops:secretpw@example.com?to=a@b.test")


def test_stale_mirror_webhook_and_contract_rules() -> None:
    settings = AlertSettings(urls=("json://x",))
    endpoints = [
        SimpleNamespace(id="wh_off", status="disabled", updated_at="2026-12-04T10:00:00.000Z"),
        SimpleNamespace(id="wh_ok", status="active", updated_at="2026-12-04T10:00:00.000Z"),
        SimpleNamespace(id="wh_503", status="active", updated_at="2026-12-04T10:00:00.000Z"),
    ]
    tried = [
        SimpleNamespace(attempts=2, last_status_code=503, created_at=f"2026-12-04T1{i}:00:00Z")
        for i in range(3)
    ]
    found = rules.webhook_endpoints(endpoints, {"wh_503": tried, "wh_ok": tried[:2]}, settings)
    assert [(f.group, f.started_at) for f in found] == [
        ("wh_off", "2026-12-04T10:00:00.000Z"),
        ("wh_503", "2026-12-04T10:00:00Z"),
    ]
    assert "503 ×3" in found[1].body and found[0].link.endswith("/webhooks")
    summary = {"target": "sandbox", "finished_at": "2026-12-04T09:00:00Z", "failed": 0}
    assert rules.contract_run(summary | {"drift_headline": "in-sync"}, settings) == []
    (drift,) = rules.contract_run(summary | {"drift_headline": "breaking", "failed": 2}, settings)
    assert "2 failed checks; drift: breaking" in drift.body


def test_a_mirror_without_writes_for_the_stale_time_fires(mirror: Mirror) -> None:
    settings = AlertSettings(urls=("json://x",), stale_minutes=30)
    assert rules.stale_mirror(mirror, settings, NOW) == []  # never written: not started
    with mirror.write() as db:
        mirror.save_checkpoint(db, "changed", {"at": at(hours=2)})
    assert rules.stale_mirror(mirror, settings, NOW) == []  # written just now
    later = datetime.now(UTC) + timedelta(minutes=45, seconds=30)
    (stale,) = rules.stale_mirror(mirror, settings, later)
    assert "for 45 min" in stale.body and stale.link.endswith("/overview")


def test_settings_come_from_the_environment_and_refuse_unknown_rules() -> None:
    env = {
        "MEDBLOCKS_ALERT_URLS": "json://a/x, mailto://u:p@example.com\njson://b",
        "MEDBLOCKS_ALERT_RULES": "source_incident",
        "MEDBLOCKS_ALERT_REPEAT_MINUTES": "30",
    }
    loaded = alert_settings(env, None)
    assert len(loaded.urls) == 3 and loaded.rules == ("source_incident",)
    assert loaded.repeat_minutes == 30 and loaded.stale_minutes == 60
    with pytest.raises(ConfigError, match="unknown rules nope"):
        alert_settings({"MEDBLOCKS_ALERT_RULES": "nope"}, None)
    with pytest.raises(ConfigError, match="positive number"):
        alert_settings({"MEDBLOCKS_ALERT_STALE_MINUTES": "-1"}, None)


def test_two_processes_checking_the_same_change_send_one_message(
    mirror: Mirror, database_url: str, inbox: Inbox, tmp_path: Path
) -> None:
    failing_source(mirror)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBLOCKS_")} | {
        "MEDBLOCKS_ALERT_URLS": inbox.url,
        "MEDBLOCKS_ALERT_RULES": "new_failures,source_incident,stale_mirror",
        "MEDBLOCKS_REPORTS_DIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "medblocks", "alerts", "--database-url", database_url]
    runs = [
        subprocess.Popen(
            [*command, "check"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("-> sent" in out for out in outputs) == 1, outputs
    assert len(inbox.wait_for(1)) == 1 and len(sends(mirror)) == 1
    assert all("firing: Incident: src_x is failing" in out for out in outputs)


def test_a_silenced_alert_that_ends_sends_no_resolved(mirror: Mirror, inbox: Inbox) -> None:
    settings = settings_for(inbox, rules=("source_incident",))
    failing_source(mirror)
    engine.add_silence(mirror, "source_incident", None, 2, "known outage", "t")
    assert [d.outcome for d in engine.evaluate_after_change(mirror, settings, now=NOW)] == [
        "silenced"
    ]
    write(mirror, schema.status_changes, [change("src_x", "active", at(minutes=1), 9)])
    assert engine.evaluate_after_change(mirror, settings, now=NOW) == []
    assert inbox.messages == []


def test_alerts_check_reads_a_disabled_webhook_endpoint_through_the_api(
    mirror: Mirror, database_url: str, inbox: Inbox, sandbox: Any, tmp_path: Path
) -> None:
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        endpoint = client.webhooks.create("https://receiver.example.test/hook", ["*"])
        client.webhooks.update(endpoint.id, status="disabled")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBLOCKS_")} | {
        "MEDBLOCKS_API_KEY": sandbox.api_key,
        "MEDBLOCKS_API_URL": sandbox.base_url,
        "MEDBLOCKS_ALERT_URLS": inbox.url,
        "MEDBLOCKS_ALERT_RULES": "webhook_endpoint",
        "MEDBLOCKS_REPORTS_DIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "medblocks", "alerts", "--database-url", database_url]
    done = subprocess.run(
        [*command, "check"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    titles = [m["title"] for m in inbox.wait_for(1)]
    assert f"Webhook endpoint {endpoint.id} is not receiving events" in titles
    assert sandbox.api_key not in done.stdout + done.stderr
    names = engine.source_names(mirror)
    assert names and all(not name.startswith("fhirsrc_") for name in names.values())


def test_failures_a_first_sync_finds_are_not_newly_failing(mirror: Mirror, inbox: Inbox) -> None:
    """Dated by their first sighting ("at least since"), not by the server: not news."""
    settings = settings_for(inbox, rules=("new_failures",))
    failing_source(mirror, "src_a", 0)
    with mirror.write() as db:
        db.execute(sa.update(schema.connections).values(failing_since_exact=False))
    assert engine.evaluate_after_change(mirror, settings, now=NOW) == []
    with mirror.write() as db:  # the same failures dated by the server are news
        db.execute(sa.update(schema.connections).values(failing_since_exact=True))
    decided = engine.evaluate_after_change(mirror, settings, now=NOW)
    assert [d.title for d in decided] == ["src_a: 3 connections started failing"]


def test_starting_over_archives_the_alerts_and_resolves_nothing_for_the_new_organisation(
    mirror: Mirror, inbox: Inbox
) -> None:
    settings = settings_for(inbox)
    failing_source(mirror)
    engine.add_silence(mirror, "stale_mirror", None, 2, "old organisation's silence", "t")
    (decision,) = engine.evaluate_after_change(mirror, settings, now=NOW)
    assert decision.kind == "firing"
    inbox.wait_for(1)
    done = start_over(mirror, "http://localhost:1", "mb_test_other", lambda: None)
    assert done is not None
    assert [r["rule"] for r in archived(mirror, done.archive_id, "alert_sends")] == [
        "source_incident"
    ]
    assert len(archived(mirror, done.archive_id, "alert_state")) == 1
    assert len(archived(mirror, done.archive_id, "alert_silences")) == 1
    assert sends(mirror) == [] and engine.silences_frame(mirror).empty
    # the new organisation's first evaluation: no RESOLVED for the old one's incident
    assert engine.evaluate_after_change(mirror, settings, now=NOW + timedelta(minutes=5)) == []
    assert len(inbox.messages) == 1
