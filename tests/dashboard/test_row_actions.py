"""Row and bulk actions (`medblocks.dashboard.row_actions`) against a real sandbox: an open link
is offered instead of a second, a bulk run makes one session per row once (a second run of the
same batch makes none), a failure is recorded and not retried, pacing between creations, and the
sessions are followed as the mirror holds them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from medblocks.client import Medblocks, NotFoundError
from medblocks.dashboard import row_actions as ra
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.roles import Actor
from medblocks.dashboard.tables import csv_text
from medblocks.dashboard.target import Target
from medblocks.mirror.settings import sqlite_url
from tests.dashboard.conftest import an_active_connection

NOW = datetime.now(UTC)
RETURN = "http://127.0.0.1:8501/connected"


def sessions(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "id": "ps_1",
                "patient_id": "pat_1",
                "status": "open",
                "mode": "direct",
                "source_id": "src_a",
                "expires_at": pd.Timestamp(NOW + timedelta(hours=1)),
                "created_at": pd.Timestamp(NOW - timedelta(minutes=5)),
                "url": "https://link.example.test/ps_1",
            }
            | row
            for row in rows
        ]
    )
    return frame


def test_an_open_unexpired_direct_link_at_that_source_is_found() -> None:
    found = ra.open_link(sessions({}), "pat_1", "src_a", NOW)
    assert found is not None and found.session_id == "ps_1"
    for other in (
        {"status": "complete"},
        {"status": "expired"},
        {"mode": "picker"},
        {"source_id": "src_b"},
        {"patient_id": "pat_2"},
        {"expires_at": pd.Timestamp(NOW - timedelta(seconds=1))},
    ):
        assert ra.open_link(sessions(other), "pat_1", "src_a", NOW) is None, other
    newest = sessions({}, {"id": "ps_2", "created_at": pd.Timestamp(NOW)})
    assert ra.open_link(newest, "pat_1", "src_a", NOW).session_id == "ps_2"  # type: ignore[union-attr]
    assert ra.open_link(pd.DataFrame(), "pat_1", "src_a", NOW) is None


RunBulk = Callable[..., list[ra.BulkRow]]


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(sqlite_url(tmp_path / "ledger.sqlite3"))


@pytest.fixture
def run_bulk(client: Medblocks, target: Target, ledger: Ledger) -> RunBulk:
    """`run_bulk(plan, batch_id, sleep=...)`: `create_bulk` on the sandbox and this test's
    ledger, as one operator with one return page."""

    def run(
        plan: list[ra.BulkRow], batch_id: str, sleep: Callable[[float], None] = lambda _: None
    ) -> list[ra.BulkRow]:
        return ra.create_bulk(
            plan,
            client=client,
            ledger=ledger,
            target=target,
            batch_id=batch_id,
            return_url=RETURN,
            launched_by=Actor("test", "ops"),
            sleep=sleep,
        )

    return run


def selected(client: Medblocks, count: int) -> pd.DataFrame:
    patients = list(client.patients.list(limit=100))[:count]
    source = next(iter(client.sources.list()))
    return pd.DataFrame(
        [
            {
                "id": f"conn_row_{i}",
                "patient_id": p.id,
                "source_id": source.id,
                "source": source.name,
                "name": "P▒▒▒▒ (masked)",
            }
            for i, p in enumerate(patients)
        ]
    )


def test_bulk_makes_one_session_per_row_once_paced_and_offers_open_links(
    client: Medblocks, run_bulk: RunBulk
) -> None:
    rows_in = selected(client, 3)
    first = rows_in.iloc[0]
    open_one = sessions(
        {"patient_id": first["patient_id"], "source_id": first["source_id"], "id": "ps_open"}
    )
    plan = ra.plan_bulk(rows_in, open_one, NOW)
    assert [r.outcome for r in plan] == ["offered (open already)", "to create", "to create"]
    before = {p: len(list(client.patients.sessions(p))) for p in rows_in["patient_id"]}
    pauses: list[float] = []
    done = run_bulk(plan, "batch-1", sleep=pauses.append)
    assert [r.outcome for r in done] == ["offered (open already)", "created", "created"]
    assert pauses == [ra.BULK_PAUSE_S]  # between the two creations, not before the first
    assert all(r.session_id.startswith("ps_") and r.url for r in done[1:])
    again = run_bulk(plan, "batch-1")  # the same batch again
    assert [r.session_id for r in again] == [r.session_id for r in done]
    after = {p: len(list(client.patients.sessions(p))) for p in rows_in["patient_id"]}
    assert [after[p] - before[p] for p in rows_in["patient_id"]] == [0, 1, 1]

    followed = ra.follow(
        done,
        sessions(
            {"id": done[1].session_id, "status": "complete"},
            {"id": done[2].session_id, "status": "open"},
        ),
    )
    assert followed["session_status"].tolist() == ["", "complete", "open"]
    assert ra.completed_count(followed) == (1, 3)
    exported = csv_text(followed)
    assert "P▒▒▒▒ (masked)" in exported and done[1].url in exported


def test_a_failed_row_is_recorded_and_never_retried(ledger: Ledger, run_bulk: RunBulk) -> None:
    bad = pd.DataFrame(
        [
            {
                "id": "conn_bad",
                "patient_id": "pat_does_not_exist",
                "source_id": "src_nope",
                "source": "Nowhere",
                "name": "masked",
            }
        ]
    )
    (failed,) = run_bulk(ra.plan_bulk(bad, pd.DataFrame(), NOW), "batch-bad")
    assert failed.outcome == "failed" and failed.detail
    intent = ra.bulk_intent("batch-bad", "conn_bad")
    record = ledger.get(intent)
    assert record is not None and record.error and record.session_id is None
    (again,) = run_bulk(ra.plan_bulk(bad, pd.DataFrame(), NOW), "batch-bad")
    assert again.outcome == "failed"
    assert ledger.get(intent) == record  # not tried again: the same record, same error


@pytest.mark.parametrize("batch", ["a", "b"])
def test_intents_differ_per_batch_and_row(batch: str) -> None:
    assert ra.bulk_intent(batch, "c1") != ra.bulk_intent(batch, "c2")
    assert ra.bulk_intent(batch, "c1") == ra.bulk_intent(batch, "c1")
    assert ra.bulk_intent("a", "c1") != ra.bulk_intent("b", "c1")


# -- what a browser session remembers: the two-step disconnect, Connection health's links --------


def test_a_disconnect_is_sent_only_once_confirmed_then_reread_and_said_once(
    client: Medblocks,
) -> None:
    patient, conn = an_active_connection(client)
    flow = ra.Disconnect()
    assert not flow.awaits(conn) and not flow.awaits(None)
    flow.ask("conn_other")
    flow.ask(conn)  # asking about another connection replaces the question
    assert flow.awaits(conn) and not flow.awaits("conn_other")
    assert {c.id: c.status for c in client.patients.retrieve(patient).connections}[conn] == "active"

    reread: list[str] = []

    def read_again() -> None:  # the mirror's re-read sees the server's answer
        reread.append({c.id: c.status for c in client.patients.retrieve(patient).connections}[conn])

    failure = flow.confirm(lambda: client.patients.disconnect(patient, conn), read_again)
    assert failure is None and reread == ["disconnected"]
    assert not flow.awaits(conn)
    assert flow.take_message() == "Disconnected."
    assert flow.take_message() is None  # said once


def test_a_failed_disconnect_is_returned_not_retried_and_the_question_is_answered(
    client: Medblocks,
) -> None:
    patient, _ = an_active_connection(client)
    flow = ra.Disconnect()
    flow.ask("conn_unknown")
    tries: list[int] = []
    reread: list[int] = []

    def disconnect() -> object:
        tries.append(1)
        return client.patients.disconnect(patient, "conn_unknown")

    failure = flow.confirm(disconnect, lambda: reread.append(1))
    assert isinstance(failure, NotFoundError)
    assert tries == [1] and reread == []  # sent once, nothing re-read, nothing said
    assert not flow.awaits("conn_unknown") and flow.take_message() is None


def test_health_offers_the_open_link_until_it_made_one_for_the_row() -> None:
    actions = ra.HealthActions()
    existing = ra.open_link(sessions({}), "pat_1", "src_a", NOW)
    assert actions.offered("conn_1", existing) == existing
    assert actions.offered("conn_1", None) is None
    actions.made("conn_1", "ps_new", "https://link.example.test/ps_new")
    assert actions.offered("conn_1", existing) is None  # the one made here is shown instead
    assert actions.made_for("conn_1") == ("ps_new", "https://link.example.test/ps_new")
    assert actions.made_for("conn_2") is None and actions.offered("conn_2", existing) == existing


def test_a_bulk_batch_keeps_its_id_until_its_run_ends() -> None:
    actions = ra.HealthActions()
    first = actions.batch()
    assert actions.batch() == first  # a run cut short goes on under the same intents
    done = [ra.BulkRow("conn_1", "pat_1", "src_a", "Alpha", "P▒▒▒▒", outcome="created")]
    actions.batch_done(done)
    assert actions.bulk == done
    assert actions.batch() != first  # the next press is a new decision
