"""The sandbox depends on `medblocks.spec` alone: never on the client it exists to check,
the project's configuration, or streamlit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("medblocks.client", "medblocks.config", "medblocks.dashboard", "streamlit")


def test_importing_and_building_the_sandbox_pulls_in_nothing_forbidden():
    probe = (
        "import sys\n"
        "from medblocks.sandbox import SandboxConfig, create_app\n"
        "create_app(SandboxConfig())\n"
        f"print([m for m in sys.modules if m.startswith({FORBIDDEN!r})])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
