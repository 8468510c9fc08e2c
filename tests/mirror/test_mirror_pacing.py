"""429 pacing: when the API answers 429, every worker of the sync waits the `Retry-After`
together (no request leaves during the pause), and the sync still finishes with no failure."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from medblocks.client import AsyncMedblocks
from medblocks.mirror import Mirror
from medblocks.mirror.pacing import Pacer, limiter_for
from medblocks.mirror.sync import Reconcile, sync_mirror
from medblocks.sandbox import RunningSandbox


async def test_a_429_pauses_every_worker_for_its_retry_after(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any
) -> None:
    sent: list[float] = []
    throttled: list[float] = []
    answered: list[int] = []

    async def on_request(request: httpx.Request) -> None:
        sent.append(time.monotonic())

    async def on_response(response: httpx.Response) -> None:
        answered.append(response.status_code)
        if response.status_code == 429:
            throttled.append(time.monotonic())
        if len(answered) == 30:  # mid-sync, with every worker busy: the next 3 answers are 429
            controls.put("/_sandbox/faults", {"rate_limit_burst": 3, "retry_after": 1})

    hooks = {"request": [on_request], "response": [on_response]}
    async with (
        httpx.AsyncClient(event_hooks=hooks) as http_a,
        httpx.AsyncClient(event_hooks=hooks) as http_b,
    ):
        clients = [
            AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url, http_client=http)
            for http in (http_a, http_b)
        ]
        started = time.monotonic()
        report = await sync_mirror(mirror, clients, concurrency=8)
        elapsed = time.monotonic() - started

    assert report.rate_limited == 3 and len(throttled) == 3
    assert report.failed_requests == 0 and not report.failures
    assert report.requests == len(sent)
    assert elapsed >= 1.0
    first = throttled[0]
    # after the first 429, no worker sends anything until its Retry-After has passed (a
    # request already on its way when the answer came in may still leave)
    assert not [t for t in sent if first + 0.05 < t < first + 0.95]
    assert report.patients == 28


async def test_a_sustained_rate_limit_is_met_without_failures(
    mirror: Mirror, sandbox: RunningSandbox, controls: Any
) -> None:
    controls.put("/_sandbox/faults", {"rate_limit_per_second": 30})
    async with AsyncMedblocks(sandbox.api_key, base_url=sandbox.base_url) as client:
        pacer = Pacer()
        report = await Reconcile(mirror, [client], pacer=pacer, concurrency=16).run()
    assert report.rate_limited >= 1  # the workers met the limit
    assert report.failed_requests == 0 and not report.failures and report.patients == 28
    # and then paced themselves below it, instead of all meeting it again after every pause
    assert pacer.rate is not None and pacer.rate < 30


@pytest.mark.parametrize("rate", [0.25, 7.0, 7.000001, 7.001918280535569, 9.99, 10.0, 33.3])
async def test_a_limiter_at_any_rate_admits_a_request(rate: float) -> None:
    """An adaptive pace can fall below ten a second, where 7.000001 * (1 / 7.000001) is 0.999…:
    aiolimiter refused that capacity (a sync under a rate limit died of it on a loaded box)."""
    limiter = limiter_for(rate)
    assert limiter.max_rate >= 1
    await limiter.acquire()
