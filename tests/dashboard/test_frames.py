"""The org-wide frames the pages show, built from a mirror synced from the real sandbox (the
dashboard's own path, `mirror_reads`): every patient, connection and session, the health
classification, stuck pulls, the Overview's tiles and funnels, the Patients summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from medblocks.client import Medblocks
from medblocks.dashboard import frames, mirror_reads, overview_figures
from medblocks.dashboard.patient_view import load_patient
from medblocks.dashboard.target import Target
from medblocks.mirror import Mirror
from medblocks.mirror.settings import sqlite_url
from medblocks.mirror.statuses import FAILING, STATUSES


@pytest.fixture(scope="module")
def mirror(target: Target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    folder: Path = tmp_path_factory.mktemp("frames-mirror")
    opened = mirror_reads.mirror_for(target, sqlite_url(str(folder / "mirror.sqlite3")))
    report = mirror_reads.sync_now(opened, target)
    assert not report.failures and not report.list_stopped
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def org(mirror: Mirror) -> frames.OrgFrames:
    return mirror_reads.org_frames(mirror)


def test_frames_hold_every_patient_connection_and_session(
    mirror: Mirror, org: frames.OrgFrames, client: Medblocks
) -> None:
    patients = list(client.patients.list(limit=100))
    assert sorted(org.patients["patient_id"]) == sorted(p.id for p in patients)
    some = patients[0].id
    detail = client.patients.retrieve(some)
    mine = org.connections[org.connections["patient_id"] == some]
    assert sorted(mine["id"]) == sorted(c.id for c in detail.connections)
    sessions = mirror_reads.sessions(mirror)
    assert sorted(sessions.loc[sessions["patient_id"] == some, "id"]) == sorted(
        s.id for s in client.patients.sessions(some)
    )
    assert set(org.connections["status"]) <= set(STATUSES)
    assert str(org.connections["created_at"].dtype).startswith("datetime64")


def test_health_frame_says_who_acts(mirror: Mirror) -> None:
    health = mirror_reads.health(mirror)
    failing = health[health["status"].isin(FAILING)]
    assert not failing.empty
    assert (failing["who_acts"].str.startswith("patient")).all()
    assert (health.loc[health["status"] == "active", "who_acts"] == "nobody").all()
    assert not health.loc[health["status"] != "active", "stuck_pull"].any()
    # An active connection whose source delivered records is not stuck.
    delivered = health[(health["status"] == "active") & health["records_arrived"]]
    assert not delivered.empty and not delivered["stuck_pull"].any()


def test_stuck_pull_is_an_active_connection_without_records_after_stuck_after(
    org: frames.OrgFrames,
) -> None:
    active = org.connections[org.connections["status"] == "active"].iloc[[0]]
    without = active.assign(records_arrived=False)
    changed = active["updated_at"].iloc[0].to_pydatetime()
    early = changed + frames.STUCK_AFTER - pd.Timedelta(minutes=1)
    late = changed + frames.STUCK_AFTER + pd.Timedelta(minutes=1)
    assert not frames.health_frame(without, now=early)["stuck_pull"].iloc[0]
    assert frames.health_frame(without, now=late)["stuck_pull"].iloc[0]
    assert not frames.health_frame(active.assign(records_arrived=True), now=late)[
        "stuck_pull"
    ].iloc[0]
    assert frames.STUCK_AFTER_TEXT == "15 minutes"  # the Stuck pulls caption's words


def test_tiles_funnel_and_failure_shares_add_up(mirror: Mirror, org: frames.OrgFrames) -> None:
    sessions = mirror_reads.sessions(mirror)
    tiles = overview_figures.tiles(org.patients, org.connections, sessions)
    assert tiles.sessions_open + tiles.sessions_complete + tiles.sessions_expired == len(sessions)
    assert sum(tiles.connections_by_status.values()) == len(org.connections)
    by_mode = overview_figures.funnel(sessions, "mode").pivot(index="mode", columns="stage")[
        "sessions"
    ]
    assert by_mode["created"].sum() == len(sessions)
    assert (by_mode["created"] >= by_mode["complete"]).all()
    assert by_mode.loc["direct", "created"] == (sessions["mode"] == "direct").sum()
    by_source = overview_figures.funnel(sessions, "source_id")
    assert by_source.loc[by_source["stage"] == "created", "sessions"].sum() == len(sessions)
    shares = overview_figures.failure_shares(sessions)
    attempts = sessions["attempts"].sum()
    assert shares["failures"].sum() <= attempts
    assert (shares["share"] == shares["failures"] / attempts).all()


def test_patient_summary_counts_match_connections(org: frames.OrgFrames) -> None:
    summary = frames.patient_summary(org).set_index("patient_id")
    counts = org.connections.groupby(["patient_id", "status"]).size()
    for (patient_id, status), n in counts.items():
        assert summary.loc[patient_id, status] == n
    assert len(summary) == len(org.patients)


def test_a_patients_own_sessions_read_as_the_mirror_shows_them(
    mirror: Mirror, client: Medblocks
) -> None:
    """The patient page reads sessions live and words them by the mirror's rule
    (`views.session_for_display`): the same rows as the org-wide Sessions frame."""
    sessions = mirror_reads.sessions(mirror)
    attempted = sessions[sessions["attempts"] > 0]
    patient = attempted["patient_id"].value_counts().index[0]
    shown = load_patient(client, patient, {}).sessions
    same = ["id", "mode", "source_id", "attempts", "active_connections", "failed_attempts", "url"]
    mirrored = sessions[sessions["patient_id"] == patient]
    assert len(shown) == len(mirrored) > 0
    assert shown[same].sort_values("id").values.tolist() == (
        mirrored[same].sort_values("id").values.tolist()
    )
    assert sorted(map(tuple, shown["failure_codes"])) == sorted(
        map(tuple, mirrored["failure_codes"])
    )
