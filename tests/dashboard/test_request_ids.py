"""`last_request_id()` is the latest response of the calling thread's own sync reads: neither
another thread's reads on the shared client nor an async fan-out on this thread replace it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from medblocks.client import Medblocks
from medblocks.client.errors import NotFoundError
from medblocks.dashboard import frames
from medblocks.dashboard.request_ids import last_request_id
from medblocks.dashboard.target import Target


def missing_patient_request_id(client: Medblocks) -> str | None:
    with pytest.raises(NotFoundError) as missing:
        client.patients.retrieve("no_such_patient")
    return missing.value.request_id


def test_latest_request_id_belongs_to_this_threads_last_sync_read(
    target: Target, client: Medblocks
) -> None:
    mine = missing_patient_request_id(client)
    assert mine and last_request_id() == mine

    async def fan_out() -> frames.OrgFrames:
        async with target.async_client() as one, target.async_client() as two:
            return await frames.fetch_connections([one, two], per_client=3)

    org = asyncio.run(fan_out())
    assert len(org.patients) > 1
    assert last_request_id() == mine, "the fan-out's responses replaced this thread's id"

    seen_there: list[str | None] = []

    def other_thread() -> None:  # the shared client, as st.cache_resource hands it out
        expected = missing_patient_request_id(client)
        seen_there.append(expected if last_request_id() == expected else None)

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen_there and seen_there[0] and seen_there[0] != mine
    assert last_request_id() == mine, "another thread's response replaced this thread's id"
