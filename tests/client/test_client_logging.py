"""One structured line per retry and per failure, with the ids that matter, and never the key,
a patient's name or email (everything any logger wrote is grepped)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from medblocks import Medblocks, MedblocksError
from medblocks.sandbox import SandboxConfig, start_in_thread
from tests.client.mocks import Recorder, envelope

KEY = "mb_sk_sbx_loggingtests0123456789abc"
NAME = "Quentin Privateperson"
EMAIL = "quentin.privateperson@example.test"


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    with start_in_thread(SandboxConfig(db_path=None, api_key=KEY, seed_demo=False)) as running:
        yield running


def test_failures_against_the_sandbox_log_ids_but_no_key_name_or_email(served, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with Medblocks(KEY, base_url=served.base_url) as client:
        client.patients.create("log_user_1", email=EMAIL, name=NAME)
        with pytest.raises(MedblocksError) as duplicate:
            client.patients.create("log_user_1", email=EMAIL, name=NAME)
        list(client.patients.list(email=EMAIL))
        client.patients.replace("log_user_1", email=EMAIL, name=NAME, metadata={"n": NAME})
        client.patient_sessions.create(
            patient_id="log_user_1",
            return_url="https://app.example.test/r",
            patient_email=EMAIL,
            patient_name=NAME,
        )
        with pytest.raises(MedblocksError):
            client.patients.retrieve("log_user_missing")
        with pytest.raises(MedblocksError):
            Medblocks("mb_sk_sbx_wrongkey", base_url=served.base_url).patients.list_page(
                email=EMAIL
            )
    text = caplog.text
    assert KEY not in text and "mb_sk_sbx_wrongkey" not in text
    assert EMAIL not in text and NAME not in text
    assert "quentin" not in text.lower()
    failures = [r.getMessage() for r in caplog.records if r.name == "medblocks.client"]
    assert len(failures) == 3
    conflict = failures[0]
    for part in (
        "operation=api.createPatient",
        "http_status=409",
        "type=conflict_error",
        "code=external_id_already_exists",
        f"request_id={duplicate.value.request_id}",
        "patient_id=log_user_1",
    ):
        assert part in conflict
    assert "patient_id=log_user_missing" in failures[1]
    assert "http_status=401" in failures[2]


def test_each_retry_and_the_final_failure_get_one_line(mock_client, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="medblocks.client")
    busy = httpx.Response(
        503,
        json=envelope("api_error", "internal_error", request_id="r-1"),
        headers={"X-Request-Id": "r-1"},
    )
    with pytest.raises(MedblocksError):
        mock_client(Recorder(busy), max_retries=1).patient_sessions.retrieve("ps_123")
    lines = [r.getMessage() for r in caplog.records if r.name == "medblocks.client"]
    assert len(lines) == 2
    assert lines[0].startswith("medblocks call retrying") and "retry=1/1" in lines[0]
    assert lines[1].startswith("medblocks call failed") and "gave up after 1 retries" in lines[1]
    assert all("patient_session_id=ps_123" in line and "request_id=r-1" in line for line in lines)


def test_the_fields_are_also_attached_for_structured_handlers(mock_client, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="medblocks.client")
    missing = httpx.Response(404, json=envelope("not_found_error", "resource_not_found"))
    with pytest.raises(MedblocksError):
        mock_client(Recorder(missing)).patients.retrieve("user_9")
    (record,) = [r for r in caplog.records if r.name == "medblocks.client"]
    assert record.medblocks == {
        "operation": "api.getPatient",
        "http_status": 404,
        "type": "not_found_error",
        "code": "resource_not_found",
        "request_id": "11111111-2222-3333-4444-555555555555",
        "patient_id": "user_9",
        "reason": "not retryable",
    }
