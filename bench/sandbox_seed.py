"""How long `--seed N` takes: a first start of the sandbox with N bulk patients (default
10,000; the target is under 30 s), in memory and on disk, printed in seconds.

    python bench/sandbox_seed.py [--patients 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medblocks.sandbox import SandboxConfig, create_app


def first_start(patients: int, db_path: Path | None) -> tuple[float, int]:
    started = time.perf_counter()
    app = create_app(SandboxConfig(db_path=db_path, seed_patients=patients))
    elapsed = time.perf_counter() - started
    store = app.state.sandbox.store
    count = int(store.query_one("SELECT count(*) FROM patients")[0])  # type: ignore[index]
    store.close()
    return elapsed, count


def main() -> int:
    parser = argparse.ArgumentParser(description="Time a first start with N bulk patients.")
    parser.add_argument("--patients", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for label, path in (("memory", None), ("disk", Path(folder) / "sandbox.sqlite3")):
            elapsed, count = first_start(args.patients, path)
            print(
                f"{label:<7} first start with --seed {args.patients}: {elapsed:6.2f} s "
                f"({count} patients stored, demo organisation included)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
