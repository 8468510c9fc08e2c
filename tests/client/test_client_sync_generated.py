"""The sync client is generated from the async one, and the CI check catches a stale copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medblocks import AsyncMedblocks, Medblocks
from scripts import generate_sync_client as generator


def test_the_checked_in_sync_client_is_current_and_says_it_is_generated() -> None:
    assert generator.main(["--check"]) == 0
    assert generator.TARGET.read_text().startswith("# Generated from async_client.py")


def test_check_fails_on_a_stale_sync_client_and_a_rewrite_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "sync_client.py"
    edited = generator.TARGET.read_text().replace("time.sleep(", "time.sleep(0 * ")
    stale.write_text(edited)
    assert generator.main(["--check"], target=stale) == 1
    assert "is stale" in capsys.readouterr().err
    assert stale.read_text() == edited, "--check must not rewrite the file"
    assert generator.main([], target=stale) == 0
    assert stale.read_text() == generator.TARGET.read_text()
    assert generator.main(["--check"], target=stale) == 0


def test_check_fails_when_the_async_source_changed_without_regenerating(tmp_path: Path) -> None:
    source = tmp_path / "async_client.py"
    source.write_text(
        generator.SOURCE.read_text().replace(
            "    async def health(",
            "    async def ping(self) -> None:\n        pass\n\n    async def health(",
        )
    )
    assert generator.main(["--check"], source=source) == 1


def test_the_check_passes_from_the_command_line_as_ci_runs_it() -> None:
    done = subprocess.run(
        [sys.executable, "scripts/generate_sync_client.py", "--check"],
        cwd=generator.REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_two_clients_offer_the_same_methods_but_fan_out_is_async_only() -> None:
    def surface(cls: type) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert surface(AsyncMedblocks) - surface(Medblocks) == {"aclose", "fan_out"}
    assert surface(Medblocks) - surface(AsyncMedblocks) == {"close"}
