"""Org-wide frames, health classification and aggregation against the real sandbox."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.dashboard import aggregate, frames, sharded
from medblocks.dashboard.target import Target


def build(target: Target) -> tuple[frames.OrgFrames, pd.DataFrame, dict[str, list[str]]]:
    progress: list[tuple[int, int]] = []

    async def run() -> tuple[frames.OrgFrames, pd.DataFrame, dict[str, list[str]]]:
        async with target.async_client() as one, target.async_client() as two:
            clients = [one, two]
            org = await frames.fetch_connections(
                clients, per_client=3, on_progress=lambda d, t: progress.append((d, t))
            )
            ids = list(org.patients["patient_id"])
            sessions, failed = await frames.fetch_sessions(clients, ids)
            wanted = frames.active_sources(org.connections)
            arrived, failed_records = await frames.fetch_record_sources(clients, wanted)
            assert set(arrived) == set(wanted)
            assert not failed and not failed_records
            return org, sessions, arrived

    built = asyncio.run(run())
    assert progress[-1] == (len(built[0].patients), len(built[0].patients))
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    return built


def test_frames_hold_every_patient_connection_and_session(
    target: Target, client: Medblocks
) -> None:
    org, sessions, _ = build(target)
    patients = list(client.patients.list(limit=100))
    assert sorted(org.patients["patient_id"]) == sorted(p.id for p in patients)
    assert not org.failures
    some = patients[0].id
    detail = client.patients.retrieve(some)
    mine = org.connections[org.connections["patient_id"] == some]
    assert sorted(mine["id"]) == sorted(c.id for c in detail.connections)
    api_sessions = list(client.patients.sessions(some))
    assert sorted(sessions.loc[sessions["patient_id"] == some, "id"]) == sorted(
        s.id for s in api_sessions
    )
    assert set(org.connections["status"]) <= {
        "active",
        "failed",
        "refresh_failed",
        "expired",
        "disconnected",
    }
    assert str(org.connections["created_at"].dtype).startswith("datetime64")


def test_health_frame_says_who_acts_and_flags_only_attention_statuses(target: Target) -> None:
    org, _, arrived = build(target)
    health = frames.health_frame(org, arrived)
    attention = health[health["needs_attention"]]
    assert set(attention["status"]) <= {"failed", "refresh_failed", "expired"}
    assert (attention["who_acts"].str.startswith("patient")).all()
    assert (health.loc[health["status"] == "active", "who_acts"] == "nobody").all()
    assert not health.loc[health["status"] != "active", "stuck_pull"].any()
    # An active connection whose source delivered records is not stuck.
    delivered = health[(health["status"] == "active") & health["records_arrived"]]
    assert not delivered["stuck_pull"].any()


def test_stuck_pull_is_an_old_active_connection_without_records(target: Target) -> None:
    org, _, arrived = build(target)
    active = org.connections[org.connections["status"] == "active"].iloc[0]
    without = {pid: [s for s in srcs if s != active["source_id"]] for pid, srcs in arrived.items()}
    health = frames.health_frame(org, without)
    row = health[health["id"] == active["id"]].iloc[0]
    assert not row["records_arrived"]
    assert row["stuck_pull"] == (
        pd.Timestamp.now(tz="UTC") - active["updated_at"] > frames.STUCK_AFTER
    )


def test_tiles_funnel_and_failure_shares_add_up(target: Target) -> None:
    org, sessions, _ = build(target)
    tiles = aggregate.tiles(org.patients, org.connections, sessions)
    assert tiles.sessions_open + tiles.sessions_complete + tiles.sessions_expired == len(sessions)
    assert sum(tiles.connections_by_status.values()) == len(org.connections)
    by_mode = aggregate.funnel(sessions, "mode").pivot(index="mode", columns="stage")["sessions"]
    assert by_mode["created"].sum() == len(sessions)
    assert (by_mode["created"] >= by_mode["complete"]).all()
    assert by_mode.loc["direct", "created"] == (sessions["mode"] == "direct").sum()
    by_source = aggregate.funnel(sessions, "source_id")
    assert by_source.loc[by_source["stage"] == "created", "sessions"].sum() == len(sessions)
    shares = aggregate.failure_shares(sessions)
    attempts = sessions["attempts"].sum()
    assert shares["failures"].sum() <= attempts
    assert (shares["share"] == shares["failures"] / attempts).all()


def test_patient_summary_counts_match_connections(target: Target) -> None:
    org, _, _ = build(target)
    summary = frames.patient_summary(org).set_index("patient_id")
    counts = org.connections.groupby(["patient_id", "status"]).size()
    for (patient_id, status), n in counts.items():
        assert summary.loc[patient_id, status] == n
    assert len(summary) == len(org.patients)


def test_sharded_fan_out_keeps_order_and_reports_failures(target: Target) -> None:
    ids = ["user_1000", "no_such_patient", "user_1001", "user_1002", "user_1000"]

    async def run() -> sharded.FanOutResult[str, str]:
        async with target.async_client() as one, target.async_client() as two:

            async def name(client: AsyncMedblocks, pid: str) -> str:
                return (await client.patients.retrieve(pid)).id

            return await sharded.sharded_fan_out([one, two], name, ids, per_client=2)

    result = asyncio.run(run())
    assert list(result.results) == ["user_1000", "user_1001", "user_1002"]
    assert list(result.failures) == ["no_such_patient"]
    assert result.failures["no_such_patient"].http_status == 404


def test_record_sources_page_on_until_every_wanted_source_is_seen(
    target: Target, client: Medblocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = next(
        p.id
        for p in client.patients.list(limit=100)
        if len(list(client.patients.iter_records(p.id))) >= 3
    )
    sources = sorted({r.source for r in client.patients.iter_records(patient) if r.source})
    monkeypatch.setattr(frames, "RECORDS_PAGE", 1)  # one record per page forces the paging path

    async def run(wanted: tuple[str, ...]) -> dict[str, list[str]]:
        async with target.async_client() as aclient:
            found, failures = await frames.fetch_record_sources([aclient], {patient: wanted})
            assert not failures
            return found

    assert asyncio.run(run(tuple(sources)))[patient] == sources
    # A source that never delivered: read to the end, report what was there.
    assert asyncio.run(run(("fhirsrc_never",)))[patient] == sources
