"""An enum value the server adds later parses, is kept as sent, logged once and reported.
(The sandbox only speaks the pinned spec, so the new value comes from MockTransport.)"""

from __future__ import annotations

import logging

import httpx

from medblocks.client import unknown_enum_values_seen
from medblocks.client.models import UnknownEnumValue
from tests.client.mocks import Recorder

DETAIL = {
    "id": "user_1",
    "resource_type": "patient",
    "email": "ann@example.test",
    "name": "Ann Example",
    "metadata": {},
    "created_at": "2026-04-25T14:30:00.000Z",
    "connections": [
        {
            "id": f"conn_{n}",
            "resource_type": "connection",
            "patient_session_id": None,
            "connection_id": "fhirsrc_1",
            "status": status,
            "scopes": [],
            "failure_code": None,
            "failure_at": None,
            "created_at": "2026-04-25T14:30:00.000Z",
            "updated_at": "2026-04-25T14:30:00.000Z",
            "paused_until": "2026-05-01",
        }
        for n, status in enumerate(["active", "paused_by_ehr", "paused_by_ehr"])
    ],
}


def test_a_new_connection_status_is_kept_logged_once_and_reported(mock_client, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="medblocks.client")
    client = mock_client(Recorder(httpx.Response(200, json=DETAIL)))
    detail = client.patients.retrieve("user_1")
    detail_again = client.patients.retrieve("user_1")

    assert [c.status for c in detail.connections] == ["active", "paused_by_ehr", "paused_by_ehr"]
    assert isinstance(detail.connections[1].status, UnknownEnumValue)
    assert not isinstance(detail.connections[0].status, UnknownEnumValue)
    assert detail.unknown_enum_values() == {
        "connections[1].status": "paused_by_ehr",
        "connections[2].status": "paused_by_ehr",
    }
    assert detail_again.connections[2].model_extra == {"paused_until": "2026-05-01"}
    assert unknown_enum_values_seen()[("connection.status", "paused_by_ehr")] >= 4
    warnings = [r.getMessage() for r in caplog.records if "paused_by_ehr" in r.getMessage()]
    assert len(warnings) == 1  # once per process for this field and value
    assert "Ann" not in caplog.text and "ann@example.test" not in caplog.text
    assert detail.model_dump(mode="json")["connections"][1]["status"] == "paused_by_ehr"
