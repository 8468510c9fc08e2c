"""What the Hospital status page picks out of the per-source frame (`source_health`), frames in
and out: the sources in an incident, the names a link may use, one hospital's row and its
failures per day."""

from __future__ import annotations

import pandas as pd

from medblocks.dashboard import source_health as sh

FRAME = pd.DataFrame(
    {
        "source_id": ["src_b", "src_a", "src_c"],
        "source": ["Beta Clinic", "Alpha Hospital", "Gamma"],
        "incident": [True, False, True],
        "patients_failing": [4, 1, 2],
    }
)


def test_the_incidents_worst_first_as_the_frame_orders_them() -> None:
    assert [r["source"] for r in sh.in_incident(FRAME)] == ["Beta Clinic", "Gamma"]
    assert sh.in_incident(FRAME[~FRAME["incident"]]) == []


def test_a_link_names_a_hospital_by_name_or_by_id_and_opens_its_row() -> None:
    names = sh.link_names(FRAME)
    assert {"Alpha Hospital", "src_a"} <= set(names) and len(names) == 6
    assert sh.find_source(FRAME, "src_a") == "Alpha Hospital"
    row = sh.hospital_row(FRAME, "Alpha Hospital")
    assert (row["source_id"], row["patients_failing"]) == ("src_a", 1)


def test_one_hospitals_failures_per_day() -> None:
    per_day = pd.DataFrame(
        {"source_id": ["src_a", "src_b", "src_a"], "day": ["d1", "d1", "d2"], "failures": [1, 5, 2]}
    )
    assert list(sh.failures_of(per_day, "src_a")["failures"]) == [1, 2]
    assert sh.failures_of(per_day, "src_zed").empty
