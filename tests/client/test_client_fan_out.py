"""`AsyncMedblocks.fan_out`: one read per patient against the sandbox, bounded, past failures."""

from __future__ import annotations

import asyncio

import httpx

from medblocks import AsyncMedblocks
from medblocks.client import errors
from medblocks.client.models import PatientDetail
from medblocks.sandbox import SandboxConfig, create_app

KEY = "mb_sk_sbx_fanouttests0123456789abcd"


async def test_fan_out_reads_every_patient_within_the_bound_and_reports_failures() -> None:
    app = create_app(SandboxConfig(db_path=None, api_key=KEY, seed_demo=False, seed_patients=60))
    transport = httpx.ASGITransport(app=app)
    in_flight = peak = 0
    progress: list[tuple[int, int]] = []

    async with AsyncMedblocks(KEY, base_url="http://127.0.0.1", transport=transport) as client:
        ids = [p.id async for p in client.patients.list(limit=100)]
        wanted = [*ids[:30], "no_such_patient", *ids[30:]]

        async def read(patient_id: str) -> PatientDetail:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await asyncio.sleep(0)  # let the other workers start
                return await client.patients.retrieve(patient_id)
            finally:
                in_flight -= 1

        result = await client.fan_out(
            read, wanted, concurrency=4, on_progress=lambda d, t: progress.append((d, t))
        )

    assert list(result.results) == ids  # every success, in the order given
    assert all(result.results[i].id == i and result.results[i].connections for i in ids)
    assert list(result.failures) == ["no_such_patient"]
    assert isinstance(result.failures["no_such_patient"], errors.NotFoundError)
    assert result.ok is False
    assert 1 < peak <= 4
    assert progress[-1] == (61, 61) and len(progress) == 61


async def test_fan_out_of_nothing_is_empty() -> None:
    async with AsyncMedblocks(KEY, base_url="http://127.0.0.1") as client:
        result = await client.fan_out(client.patients.retrieve, [])
    assert result.results == {} and result.failures == {} and result.ok
