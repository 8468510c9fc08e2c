"""A real sandbox on loopback and the dashboard's own clients for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from medblocks.client import Medblocks
from medblocks.dashboard.target import Target
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread
from medblocks.spec import pinned_version


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as running:
        yield running


@pytest.fixture(scope="module")
def target(sandbox: RunningSandbox) -> Target:
    return Target(
        kind="embedded",
        base_url=sandbox.base_url,
        api_version=pinned_version(),
        writes_allowed=True,
        api_key=sandbox.api_key,
    )


@pytest.fixture
def client(target: Target) -> Iterator[Medblocks]:
    with target.client() as opened:
        yield opened
