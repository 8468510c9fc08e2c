"""Patient records: type, since, count and the 12-character cursors both ways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from medblocks.sandbox.runtime import SandboxRuntime

ErrorCheck = Callable[..., dict[str, Any]]
PATIENT = "user_1002"  # two active connections in the demo seed: 14 records


def _all(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    return api.get(f"/patients/{PATIENT}/records", params=params).json()["data"]  # type: ignore[no-any-return]


def test_records_envelope_and_default_count(api: httpx.Client):
    page = api.get(f"/patients/{PATIENT}/records").json()
    assert set(page) == {
        "resource_type",
        "patient_id",
        "data",
        "has_more",
        "next_cursor",
        "previous_cursor",
    }
    assert page["patient_id"] == PATIENT
    assert len(page["data"]) == 14 and page["has_more"] is False
    assert (page["next_cursor"], page["previous_cursor"]) == (None, None)
    types = {r["resource"]["resourceType"] for r in page["data"]}
    assert {"Patient", "Observation", "Condition", "MedicationRequest"} <= types
    assert all(r["source"].startswith("fhirsrc_") for r in page["data"])


def test_type_filter_takes_a_comma_separated_list(api: httpx.Client):
    data = _all(api, type="Observation,Condition")
    assert data and {r["resource"]["resourceType"] for r in data} == {"Observation", "Condition"}


def test_since_narrows_to_later_changes(api: httpx.Client):
    stamps = sorted(r["resource"]["meta"]["lastUpdated"] for r in _all(api))
    later = _all(api, since=stamps[-3])
    assert len(later) == 2
    assert _all(api, since="2000-01-01") == _all(api)


def test_cursors_page_forwards_and_backwards(api: httpx.Client):
    everything = [r["resource"]["id"] for r in _all(api)]
    first = api.get(f"/patients/{PATIENT}/records", params={"count": 5}).json()
    assert first["has_more"] is True and len(first["next_cursor"]) == 12
    assert first["previous_cursor"] is None
    second = api.get(
        f"/patients/{PATIENT}/records",
        params={"count": 5, "starting_after": first["next_cursor"]},
    ).json()
    assert [r["resource"]["id"] for r in second["data"]] == everything[5:10]
    back = api.get(
        f"/patients/{PATIENT}/records",
        params={"count": 5, "ending_before": second["previous_cursor"]},
    ).json()
    assert [r["resource"]["id"] for r in back["data"]] == everything[:5]
    assert back["previous_cursor"] is None


def test_cursor_expires_after_seven_days(
    api: httpx.Client, runtime: SandboxRuntime, assert_error: ErrorCheck
):
    cursor = api.get(f"/patients/{PATIENT}/records", params={"count": 2}).json()["next_cursor"]
    runtime.clock.advance(7 * 24 * 3600)
    response = api.get(f"/patients/{PATIENT}/records", params={"starting_after": cursor})
    assert_error(response, 404, "not_found_error", "resource_not_found", param="starting_after")


def test_both_cursors_at_once_is_400(api: httpx.Client, assert_error: ErrorCheck):
    page = api.get(f"/patients/{PATIENT}/records", params={"count": 5}).json()
    middle = api.get(
        f"/patients/{PATIENT}/records", params={"count": 5, "starting_after": page["next_cursor"]}
    ).json()
    response = api.get(
        f"/patients/{PATIENT}/records",
        params={"starting_after": page["next_cursor"], "ending_before": middle["next_cursor"]},
    )
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="ending_before")


def test_count_is_1_to_100(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get(f"/patients/{PATIENT}/records", params={"count": 101})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="count")


def test_records_of_unknown_patient_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/patients/nobody/records")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")
