"""Every list ends: a cursor that repeats or cycles, `has_more` without a cursor, and a list
past the page budget each stop with `PaginationError` naming the operation, the cursor and the
request id (MockTransport: the sandbox never answers like this; Prism's canned pages do)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from medblocks import AsyncMedblocks, Medblocks, MedblocksError
from medblocks.client import PaginationError
from medblocks.client.pagination import Paginator
from tests.client.mocks import PATIENT


def page(cursor: str | None, has_more: bool = True) -> dict[str, Any]:
    return {"resource_type": "list", "data": [PATIENT], "has_more": has_more, "next_cursor": cursor}


def lister(cursors: list[str | None]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers the n-th list request with a page whose next cursor is `cursors[n]` (the last
    one again after the end), request ids req_0, req_1, …"""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        n = len(sent)
        sent.append(request)
        cursor = cursors[min(n, len(cursors) - 1)]
        return httpx.Response(200, json=page(cursor), headers={"X-Request-Id": f"req_{n}"})

    handler.sent = sent  # type: ignore[attr-defined]
    return handler


CASES = {
    "repeated": (["c1", "c1"], "c1", "req_1", "repeats or cycles"),
    "cycle": (["c1", "c2", "c3", "c1"], "c1", "req_3", "repeats or cycles"),
    "no cursor": (["c1", None], None, "req_1", "has_more but gives no next_cursor"),
}


@pytest.mark.parametrize("case", CASES)
def test_sync_list_that_would_not_end_stops_with_the_named_error(
    case: str, mock_client: Callable[..., Medblocks]
) -> None:
    cursors, cursor, request_id, reason = CASES[case]
    handler = lister(cursors)
    with mock_client(handler) as client, pytest.raises(PaginationError) as raised:
        list(client.patients.list(limit=1))
    error = raised.value
    assert isinstance(error, MedblocksError)
    assert error.operation == "api.listPatients"
    assert error.cursor == cursor and error.request_id == request_id
    assert reason in str(error) and str(error).startswith(request_id)
    assert len(handler.sent) == len(cursors)  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", CASES)
async def test_async_list_that_would_not_end_stops_with_the_named_error(
    case: str, mock_aclient: Callable[..., AsyncMedblocks]
) -> None:
    cursors, cursor, request_id, reason = CASES[case]
    handler = lister(cursors)
    async with mock_aclient(handler) as client:
        with pytest.raises(PaginationError) as raised:
            async for _ in client.patients.list(limit=1):
                pass
    assert raised.value.operation == "api.listPatients"
    assert raised.value.cursor == cursor and raised.value.request_id == request_id
    assert reason in str(raised.value)


def test_a_list_past_the_page_budget_stops(mock_client: Callable[..., Medblocks]) -> None:
    handler = lister([f"c{n}" for n in range(50)])
    with mock_client(handler) as client:
        pages = Paginator(
            lambda cursor: client.patients.list_page(starting_after=cursor),
            "api.listPatients",
            max_pages=5,
        )
        with pytest.raises(PaginationError) as raised:
            list(pages)
    assert "after 5 pages (the budget)" in str(raised.value)
    assert raised.value.cursor == "c4" and raised.value.request_id == "req_4"
    assert len(handler.sent) == 5  # type: ignore[attr-defined]


def test_the_last_page_ends_the_list_without_an_error(
    mock_client: Callable[..., Medblocks],
) -> None:
    answers = iter([page("c1"), page("c2"), page(None, has_more=False)])
    with mock_client(lambda _r: httpx.Response(200, json=next(answers))) as client:
        assert len(list(client.patients.list())) == 3
