"""Auto-pagination over 1,000+ patients of the real sandbox yields every item once, in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from medblocks import AsyncMedblocks, Medblocks
from medblocks.sandbox import SandboxConfig, create_app, start_in_thread

KEY = "mb_sk_sbx_paginationtests0123456789"
PATIENTS = 1050


def config() -> SandboxConfig:
    return SandboxConfig(db_path=None, api_key=KEY, seed_demo=False, seed_patients=PATIENTS)


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    with start_in_thread(config()) as running:
        yield running


def test_sync_pagination_yields_every_patient_once_in_order(served: Any) -> None:
    with Medblocks(KEY, base_url=served.base_url) as client:
        by_hundred = [p.id for p in client.patients.list(limit=100)]
        by_seven = [p.id for p in client.patients.list(limit=37)]
        pages = list(client.patients.list(limit=100).pages())
    assert len(by_hundred) == PATIENTS
    assert len(set(by_hundred)) == PATIENTS
    assert set(by_hundred) == {f"bulk_{i:06d}" for i in range(PATIENTS)}
    assert by_seven == by_hundred  # other page boundaries, the same sequence
    assert len(pages) == 11 and pages[-1].has_more is False and pages[-1].next_cursor is None
    assert all(page.has_more and page.next_cursor for page in pages[:-1])


async def test_async_pagination_yields_every_patient_once_in_order(served: Any) -> None:
    with Medblocks(KEY, base_url=served.base_url) as client:
        reference = [p.id for p in client.patients.list(limit=100)]
    app = create_app(config())
    transport = httpx.ASGITransport(app=app)
    async with AsyncMedblocks(KEY, base_url="http://127.0.0.1", transport=transport) as aclient:
        ids = [p.id async for p in aclient.patients.list(limit=100)]
        by_other_size = [p.id async for p in aclient.patients.list(limit=37)]
    assert len(ids) == len(set(ids)) == PATIENTS
    assert ids == by_other_size == reference
