"""A sync whose patient list would not end stops it with the named error, finishes, reports it
and deletes nothing (on SQLite and PostgreSQL).

The server is the real sandbox behind a transport that rewrites the patient list's paging
(a misbehaving server is what the sandbox cannot be): every page claims `has_more`, with the
cursor the case calls for; a request with such a cursor is sent to the sandbox without it.
"""

from __future__ import annotations

import json

import httpx
import pytest
import sqlalchemy as sa

from medblocks.client import AsyncMedblocks, Medblocks
from medblocks.mirror import Mirror, schema
from medblocks.mirror.sync import CHECKPOINT, sync_mirror
from medblocks.sandbox import RunningSandbox
from tests.mirror.conftest import synced

CASES: dict[str, tuple[list[str | None], str, int]] = {  # cursors, reason, pages listed
    "repeated": (["c_same"], "repeats or cycles", 2),
    "cycle": (["c1", "c2", "c3", "c1"], "repeats or cycles", 4),
    "no cursor": ([None], "has_more but gives no next_cursor", 1),
}


class EndlessPatientList(httpx.AsyncHTTPTransport):
    def __init__(self, cursors: list[str | None]) -> None:
        super().__init__()
        self.cursors = cursors
        self.pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        listing = request.method == "GET" and request.url.path == "/patients"
        if listing and request.url.params.get("starting_after"):
            request.url = request.url.copy_remove_param("starting_after")
        response = await super().handle_async_request(request)
        if not listing:
            return response
        body = json.loads(await response.aread())
        body["has_more"] = True
        body["next_cursor"] = self.cursors[min(self.pages, len(self.cursors) - 1)]
        self.pages += 1
        headers = {"X-Request-Id": response.headers["x-request-id"]}
        return httpx.Response(response.status_code, headers=headers, json=body)


def patient_ids(mirror: Mirror) -> set[str]:
    with mirror.read() as db:
        return set(db.execute(sa.select(schema.patients.c.id)).scalars())


@pytest.mark.parametrize("case", CASES)
async def test_a_patient_list_that_would_not_end_is_stopped_and_reported(
    case: str, mirror: Mirror, sandbox: RunningSandbox
) -> None:
    await synced(mirror, sandbox)
    with Medblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        gone = next(iter(client.patients.list(limit=1))).id
        client.patients.delete(gone)
    cursors, reason, pages = CASES[case]
    transport = EndlessPatientList(cursors)
    async with AsyncMedblocks(
        sandbox.api_key, base_url=sandbox.base_url, transport=transport
    ) as client:
        report = await sync_mirror(mirror, [client])
    assert report.finished_at is not None and report.list_stopped is not None
    assert "api.listPatients was stopped" in report.list_stopped and reason in report.list_stopped
    assert not report.list_stopped.startswith("no request id")  # the page's request id
    assert transport.pages == pages
    assert "nothing was deleted" in report.summary()
    assert gone in patient_ids(mirror)  # an incomplete listing proves no patient gone
    assert report.changes.deleted == 0
    assert mirror.checkpoint(CHECKPOINT) is None  # finished: the next sync starts afresh


class RefusesItsCursors(httpx.AsyncHTTPTransport):
    """Every page of the patient list gives a new cursor the sandbox does not know (so it
    answers 404 `starting_after`, as for an expired cursor)."""

    def __init__(self) -> None:
        super().__init__()
        self.pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method != "GET" or request.url.path != "/patients" or response.is_error:
            return response
        body = json.loads(await response.aread())
        self.pages += 1
        body["has_more"], body["next_cursor"] = True, f"user_unknown_{self.pages}"
        headers = {"X-Request-Id": response.headers["x-request-id"]}
        return httpx.Response(response.status_code, headers=headers, json=body)


async def test_a_list_that_keeps_refusing_its_cursor_is_stopped(
    mirror: Mirror, sandbox: RunningSandbox
) -> None:
    transport = RefusesItsCursors()
    async with AsyncMedblocks(
        sandbox.api_key, base_url=sandbox.base_url, transport=transport
    ) as client:
        report = await sync_mirror(mirror, [client])
    assert (
        report.list_stopped is not None and "refused its own cursor 4 times" in report.list_stopped
    )
    assert transport.pages == 4 and report.changes.deleted == 0
