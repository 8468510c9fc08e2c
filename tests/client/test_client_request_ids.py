"""Every object a call returns carries the `X-Request-Id` of the response it was read from
(`_request_id`), each list page its own; read against the real sandbox, with the ids the server
sent recorded by an httpx response hook on the test's own http client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from medblocks import AsyncMedblocks, Medblocks
from medblocks.sandbox import RunningSandbox, SandboxConfig, create_app, start_in_thread

KEY = "mb_sk_sbx_requestids0123456789abcdef"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(db_path=None, api_key=KEY, seed_demo=True)) as running:
        yield running


def test_each_sync_result_and_page_carries_its_own_responses_id(sandbox: RunningSandbox) -> None:
    sent: list[str] = []
    http = httpx.Client(
        event_hooks={"response": [lambda r: sent.append(r.headers["x-request-id"])]}
    )
    with http, Medblocks(KEY, base_url=sandbox.base_url, http_client=http) as client:
        health = client.health()
        assert health._request_id == sent[-1]
        pages = list(client.patients.list(limit=2).pages())
        assert len(pages) > 1
        assert [page._request_id for page in pages] == sent[-len(pages) :]
        patient = client.patients.retrieve(pages[0].data[0].id)
        assert patient._request_id == sent[-1]
        assert pages[0].data[0]._request_id is None  # items belong to their page's response
    assert len(set(sent)) == len(sent), "the server gives every response its own id"


async def test_async_results_carry_their_responses_id() -> None:
    sent: list[str] = []

    async def remember(response: httpx.Response) -> None:
        sent.append(response.headers["x-request-id"])

    app = create_app(SandboxConfig(db_path=None, api_key=KEY, seed_demo=True))
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), event_hooks={"response": [remember]}
    )
    async with (
        http,
        AsyncMedblocks(KEY, base_url="http://127.0.0.1", http_client=http) as client,
    ):
        page = await client.sources.list_page(limit=1)
        assert page._request_id == sent[-1]
        source = await client.sources.retrieve(page.data[0].id)
        assert source._request_id == sent[-1] != page._request_id


def test_the_request_id_does_not_take_part_in_equality(sandbox: RunningSandbox) -> None:
    with Medblocks(KEY, base_url=sandbox.base_url) as client:
        first, second = client.health(), client.health()
        source = client.sources.list_page(limit=1).data[0]
        again, other = client.sources.retrieve(source.id), client.sources.list_page(limit=2)
    assert first._request_id != second._request_id
    assert again == source and again._request_id != source._request_id
    assert other.data[1] != source
