"""Generate `medblocks/client/sync_client.py` from `medblocks/client/async_client.py`.

    python scripts/generate_sync_client.py          # rewrite the sync client
    python scripts/generate_sync_client.py --check  # exit 1 when the sync client is stale

The async client is the one written by hand. `unasync` (the tool httpcore uses) turns it into
sync code token by token: `async`/`await` dropped, `__aenter__`/`AsyncIterator`… mapped to their
sync names, and the names below mapped too (`AsyncMedblocks` -> `Medblocks`, `asyncio.sleep` ->
`time.sleep`…). Around it, this script does three things unasync does not: it leaves out the
async-only code between `# sync: leave out` and `# sync: end` (the asyncio `fan_out`), puts the
sync module's own docstring under a "generated" header, and runs ruff (unused imports, import
order, format) so the file passes the same lint as hand-written code.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "medblocks" / "client" / "async_client.py"
TARGET = REPO / "medblocks" / "client" / "sync_client.py"

LEAVE_OUT = re.compile(r"^[ \t]*# sync: leave out\n.*?^[ \t]*# sync: end\n\n?", re.M | re.S)
# Names unasync does not know; every other `Async<Name>` loses its prefix (unasync's own
# default would rename `AsyncMedblocks` to `SyncMedblocks`).
REPLACEMENTS = {"asyncio": "time", "aclose": "close", "aiter": "iter"}
HEADER = (
    "# Generated from async_client.py by scripts/generate_sync_client.py: do not edit.\n"
    "# Change async_client.py and run `python scripts/generate_sync_client.py`.\n"
)
DOCSTRING = '''"""`Medblocks`: the synchronous client, generated from `AsyncMedblocks`.

Every method takes `max_retries=` and `timeout=`; `list()`-style methods return a `Paginator`.
"""
'''


def without_docstring(source: str) -> str:
    """`source` from the line after its module docstring."""
    first = ast.parse(source).body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    assert first.end_lineno is not None
    return "".join(source.splitlines(keepends=True)[first.end_lineno :])


def unasynced(source: str) -> str:
    """`source` run through unasync's token rules (it works on files, so via a temp dir)."""
    names = set(re.findall(r"\bAsync[A-Z]\w*", source))
    replacements = {name: name.removeprefix("Async") for name in names} | REPLACEMENTS
    rule = unasync.Rule(fromdir="/_async/", todir="/_sync/", additional_replacements=replacements)
    with tempfile.TemporaryDirectory() as tmp:
        written = Path(tmp, "_async", "client.py")
        written.parent.mkdir()
        written.write_text(source, encoding="utf-8")
        unasync.unasync_files([str(written)], rules=[rule])
        return Path(tmp, "_sync", "client.py").read_text(encoding="utf-8")


def ruff(source: str, *args: str) -> str:
    """`source` through `ruff <args>` with the project's settings, as if it were TARGET."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(TARGET), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"ruff {' '.join(args)} failed on the generated client:\n{done.stderr}")
    return done.stdout


def generate(async_source: str) -> str:
    """The sync client's text for the async client's text."""
    body = unasynced(LEAVE_OUT.sub("", without_docstring(async_source)))
    text = HEADER + DOCSTRING + body
    text = ruff(text, "check", "--fix", "--quiet", "--select", "F401,I")
    return ruff(text, "format", "--quiet")


def main(argv: list[str] | None = None, source: Path = SOURCE, target: Path = TARGET) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    check = parser.parse_args(argv).check
    wanted = generate(source.read_text(encoding="utf-8"))
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    if current == wanted:
        return 0
    if check:
        print(
            f"{target.relative_to(REPO) if target.is_relative_to(REPO) else target} is stale: "
            "run `python scripts/generate_sync_client.py`",
            file=sys.stderr,
        )
        return 1
    target.write_text(wanted, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
