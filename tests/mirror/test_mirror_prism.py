"""A sync against Prism (a stateless mock of the published document: canned pages whose cursor
never changes) ends, and its report names what it had to stop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from medblocks.client import AsyncMedblocks
from medblocks.mirror import Mirror
from medblocks.mirror.sync import sync_mirror

pytestmark = pytest.mark.prism
KEY = "mb_sk_sbx_prismmockkey0123456789"


async def test_a_sync_against_prism_ends_with_a_report(mirror: Mirror, prism_url: str) -> None:
    async with AsyncMedblocks(KEY, base_url=prism_url) as client:
        report = await asyncio.wait_for(sync_mirror(mirror, [client]), timeout=300)
    assert report.finished_at is not None
    stopped = [report.list_stopped, *report.failures.values()]
    # Prism's canned lists say has_more with the same cursor every time: each such list is
    # stopped by the paginator's rule and named; the sync itself finished
    assert any("was stopped" in (s or "") and "repeats or cycles" in (s or "") for s in stopped)


def test_mirror_sync_command_against_prism_ends_with_a_report(
    database_url: str, prism_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBLOCKS_")}
    env |= {
        "MEDBLOCKS_API_KEY": KEY,
        "MEDBLOCKS_API_URL": prism_url,
        "MEDBLOCKS_DATABASE_URL": database_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "medblocks", "mirror", "sync", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1  # something could not be read: said, and a non-zero status
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("full sync: ")
    assert any("was stopped" in line and "repeats or cycles" in line for line in lines)
