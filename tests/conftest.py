"""Fixtures every test directory may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.prism_mock import running_prism


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    """Prism mocking the published Medblocks document (see tests/prism_mock.py)."""
    with running_prism() as url:
        yield url
