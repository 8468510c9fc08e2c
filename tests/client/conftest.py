"""Helpers for the client tests: MockTransport clients for faults the sandbox cannot produce."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from medblocks import AsyncMedblocks, Medblocks

MOCK_KEY = "mb_sk_sbx_mocktransportkey0123456789"
MOCK_URL = "http://127.0.0.1:9"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def mock_client() -> Callable[..., Medblocks]:
    def make(handler: Handler, **options: Any) -> Medblocks:
        return Medblocks(
            MOCK_KEY, base_url=MOCK_URL, transport=httpx.MockTransport(handler), **options
        )

    return make


@pytest.fixture
def mock_aclient() -> Callable[..., AsyncMedblocks]:
    def make(handler: Handler, **options: Any) -> AsyncMedblocks:
        return AsyncMedblocks(
            MOCK_KEY, base_url=MOCK_URL, transport=httpx.MockTransport(handler), **options
        )

    return make
