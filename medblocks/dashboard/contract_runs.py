"""The contract harness's reports, and runs of it against the current target, with progress.

The harness is run as a subprocess (`python -m pytest contract_tests`, then `python -m medblocks
spec check`); the product never imports `contract_tests`. A run started here gets its own
directory under `<reports>/runs/` (its reports, `run.json` with its state and exit codes, and
`output.log`), and is waited on by a background thread, so a page only polls the files: the
percentage pytest prints while it runs, then the reports when it ends. The key goes to the child
only through its environment and is scrubbed from anything read back from it.

A run started here never goes to the target the ops pages show: it gets a sandbox of its own
(`OWN_SANDBOX`: a fresh sandbox with the demo data, started in this process for the run on a
loopback port and stopped when the run ends), so nothing it creates or breaks (its `ct…`
patients, its faults) reaches ops' views or the mirror.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from medblocks.dashboard.target import Target
from medblocks.redaction import sanitize
from medblocks.sandbox import RunningSandbox, SandboxConfig, start_in_thread

REPORTS_ENV = "MEDBLOCKS_REPORTS_DIR"
SUMMARY = "contract-summary.json"
DRIFT = "drift.json"
RUNS = "runs"
RUN_FILE = "run.json"
LOG = "output.log"
TIMEOUT_SECONDS = 900
# The checkout holding contract_tests/: the children run there, wherever the dashboard started.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PERCENT = re.compile(r"\[\s*(\d{1,3})%\]\s*$")

OWN_SANDBOX = "a sandbox of its own (fresh, started for this run, stopped after it)"

_lock = threading.Lock()
_threads: dict[str, threading.Thread] = {}


def reports_dir() -> Path:
    return Path(os.environ.get(REPORTS_ENV) or "reports")


def read_json(path: Path) -> dict[str, Any] | None:
    """The parsed report, None when it has not been produced; a broken file raises ValueError."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


# -- runs started from the dashboard ------------------------------------------------------------


@dataclass(frozen=True)
class RunRecord:
    """One run started here: `run.json` in its directory."""

    id: str
    directory: Path
    target: str
    base_url: str
    started_at: str
    commands: list[str]
    exit_codes: list[int] = field(default_factory=list)
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def running(self) -> bool:
        """Still being waited on in this process (a restart leaves an unfinished run behind)."""
        thread = _threads.get(self.id)
        return not self.finished and thread is not None and thread.is_alive()

    @property
    def state(self) -> str:
        if self.running:
            return "running"
        if not self.finished:
            return "interrupted (the dashboard stopped during the run)"
        return "passed" if all(code == 0 for code in self.exit_codes) else "failed"

    def save(self) -> None:
        data = asdict(self) | {"directory": str(self.directory)}
        (self.directory / RUN_FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> RunRecord | None:
        try:
            data = json.loads((directory / RUN_FILE).read_text(encoding="utf-8"))
            return cls(**(data | {"directory": directory}))
        except (OSError, ValueError, TypeError):
            return None


@dataclass(frozen=True)
class StartedRun:
    record: RunRecord
    thread: threading.Thread

    def join(self, timeout: float) -> RunRecord:
        """Wait for the run to end (bounded); the record as saved at that moment."""
        self.thread.join(timeout)
        return RunRecord.load(self.record.directory) or self.record


def harness_commands() -> list[list[str]]:
    return [
        # -v: one line per test, each ending with pytest's "[ NN%]", which the page polls
        [sys.executable, "-m", "pytest", "contract_tests", "-v", "-p", "no:cacheprovider"],
        [sys.executable, "-m", "medblocks", "spec", "check"],
    ]


def runs(directory: Path | None = None) -> list[RunRecord]:
    """Every run started here, newest first."""
    root = (directory or reports_dir()) / RUNS
    found = [RunRecord.load(d) for d in root.iterdir() if d.is_dir()] if root.is_dir() else []
    return sorted((r for r in found if r), key=lambda r: r.started_at, reverse=True)


def running_run(directory: Path | None = None) -> RunRecord | None:
    return next((r for r in runs(directory) if r.running), None)


def start_run(
    target: Target,
    *,
    directory: Path | None = None,
    commands: list[list[str]] | None = None,
    cwd: Path | None = None,
) -> StartedRun:
    """Start the suite and the drift check in the background, in a sandbox of its own (never
    `target` itself: QA's runs stay out of the data ops read).

    Refuses a live target, and a second run while one is going."""
    if target.is_live:
        raise PermissionError("The contract suite never runs against a live key.")
    commands = commands or harness_commands()
    with _lock:
        if running_run(directory) is not None:
            raise RuntimeError("A contract run is already going; wait for it to end.")
        now = datetime.now(UTC)
        run_id = now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        run_dir = (directory or reports_dir()) / RUNS / run_id
        run_dir.mkdir(parents=True)
        own = start_in_thread(SandboxConfig(db_path=None, seed_demo=True))
        record = RunRecord(
            id=run_id,
            directory=run_dir,
            target=OWN_SANDBOX,
            base_url=own.base_url,
            started_at=now.isoformat(timespec="seconds"),
            commands=[_shown(c) for c in commands],
        )
        record.save()
        env = dict(os.environ)
        env.update(
            MEDBLOCKS_API_KEY=own.api_key,
            MEDBLOCKS_API_URL=own.base_url,
            MEDBLOCKS_API_VERSION=target.api_version,
            MEDBLOCKS_REPORTS_DIR=str(run_dir.resolve()),
            PYTHONUNBUFFERED="1",
        )
        thread = threading.Thread(
            target=_run_all,
            args=(record, commands, env, cwd or PROJECT_ROOT, own),
            daemon=True,
            name=f"run-{run_id}",
        )
        _threads[run_id] = thread
        thread.start()
    return StartedRun(record, thread)


def _run_all(
    record: RunRecord,
    commands: list[list[str]],
    env: dict[str, str],
    cwd: Path,
    own: RunningSandbox,
) -> None:
    try:
        _run_commands(record, commands, env, cwd)
    finally:
        own.stop()


def _run_commands(
    record: RunRecord, commands: list[list[str]], env: dict[str, str], cwd: Path
) -> None:
    codes: list[int] = []
    with (record.directory / LOG).open("w", encoding="utf-8") as log:
        for command in commands:
            log.write(f"$ {_shown(command)}\n")
            log.flush()
            try:
                done = subprocess.run(
                    command,
                    cwd=cwd,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=TIMEOUT_SECONDS,
                    check=False,
                )
                codes.append(done.returncode)
            except subprocess.TimeoutExpired:
                log.write(f"\nstopped after {TIMEOUT_SECONDS} s\n")
                codes.append(-1)
            except OSError as exc:
                log.write(f"\ncould not start: {exc}\n")
                codes.append(-1)
            replace(record, exit_codes=list(codes)).save()
    replace(
        record, exit_codes=codes, finished_at=datetime.now(UTC).isoformat(timespec="seconds")
    ).save()


def _shown(command: list[str]) -> str:
    """A command as a person would type it (`pytest contract_tests -v`, not the interpreter)."""
    words = command[1:]
    return " ".join(words[1:] if words[:1] == ["-m"] else words)


@dataclass(frozen=True)
class Progress:
    percent: int | None  # pytest's own "[ NN%]", None before the first test ends
    command: str  # the command running now
    last_line: str


def read_log(record: RunRecord, secrets_: tuple[str, ...], limit: int = 20_000) -> str:
    """The run's output so far, sanitised (key, bearer tokens, names and emails)."""
    path = record.directory / LOG
    if not path.is_file():
        return ""
    return sanitize(path.read_text(encoding="utf-8", errors="replace")[-limit:], secrets_)


def progress(record: RunRecord, secrets_: tuple[str, ...]) -> Progress:
    """Where the current command is: its name, pytest's last percentage, its last line."""
    lines = [line for line in read_log(record, secrets_).splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
    command = lines[starts[-1]][2:] if starts else ""
    lines = lines[starts[-1] + 1 :] if starts else lines
    percent = None
    for line in reversed(lines):
        found = PERCENT.search(line)
        if found:
            percent = min(int(found.group(1)), 100)
            break
    return Progress(percent, command, lines[-1] if lines else "")


# -- what a report says, as tables ----------------------------------------------------------------


@dataclass(frozen=True)
class ReportSet:
    """The reports of one run: from the dashboard (`run` set) or from the command line."""

    label: str
    summary: dict[str, Any]
    drift: dict[str, Any] | None
    run: RunRecord | None = None


def report_sets(directory: Path | None = None) -> list[ReportSet]:
    """Every ended run with a summary, newest first: the dashboard's runs and the command
    line's (`pytest contract_tests` writes to the reports directory itself)."""
    root = directory or reports_dir()
    found = []
    summary = read_json(root / SUMMARY)
    if summary is not None:
        found.append(
            ReportSet("command line (pytest contract_tests)", summary, read_json(root / DRIFT))
        )
    for record in runs(root):
        if record.running:  # its reports count once it has ended (they may be half-written)
            continue
        summary = read_json(record.directory / SUMMARY)
        if summary is not None:
            drift = read_json(record.directory / DRIFT)
            found.append(ReportSet(f"dashboard run {record.id}", summary, drift, record))
    return sorted(found, key=lambda s: str(s.summary.get("finished_at") or ""), reverse=True)


def runs_frame(sets: list[ReportSet]) -> pd.DataFrame:
    rows = [
        {
            "finished": when_text(s.summary.get("finished_at")),
            "run": s.label,
            "target": s.summary.get("target"),
            "passed": s.summary.get("passed"),
            "failed": s.summary.get("failed"),
            "drift": s.summary.get("drift_headline"),
            "left behind": (s.summary.get("cleanup") or {}).get("left_behind"),
        }
        for s in sets
    ]
    return pd.DataFrame(
        rows, columns=["finished", "run", "target", "passed", "failed", "drift", "left behind"]
    )


def when_text(stamp: Any) -> str:
    try:
        return datetime.fromisoformat(str(stamp)).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return str(stamp or "")


def root_causes(summary: dict[str, Any]) -> list[str]:
    """The causes that explain many results at once (faults on at the target, its rate limit,
    no request ids, every key accepted, a server that keeps no state, the document not
    served, the budget), each with how many checks it failed or kept from running: what the
    page shows before anything else of a run."""
    lines = []
    for cause in summary.get("root_causes") or []:
        n = cause.get("checks", 0)
        lines.append(f"{cause.get('cause')} ({n} check{'' if n == 1 else 's'})")
    return lines


def not_run_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The checks the run meant to run and did not, and why (such a run is not green)."""
    not_run = summary.get("not_run") or {}
    return pd.DataFrame(
        [{"check": test, "why": why} for test, why in not_run.items()], columns=["check", "why"]
    )


FAILURE_COLUMNS = ["count", "operation", "check", "status", "message", "request_id", "curl"]


def failures_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The failures grouped by cause (operation, check, status), the commonest first."""
    rows = [{**f, "count": f.get("count", 1)} for f in summary.get("failures") or []]
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def rules_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The prose rules: each rule, where the reference states it, in words, and its result."""
    return pd.DataFrame(summary.get("rules") or [], columns=["rule", "section", "text", "result"])


def coverage_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The status codes the run saw per operation, and whether any was a 2xx."""
    coverage = summary.get("coverage") or {}
    return pd.DataFrame(
        [
            {
                "operation": op,
                "codes": ", ".join(map(str, codes)) or "none",
                "answered 2xx": any(200 <= int(c) < 300 for c in codes),
            }
            for op, codes in coverage.items()
        ],
        columns=["operation", "codes", "answered 2xx"],
    )


def never_2xx(summary: dict[str, Any]) -> list[str]:
    """Operations the run called without ever getting a success: their happy path is unchecked."""
    frame = coverage_frame(summary)
    return list(frame.loc[~frame["answered 2xx"], "operation"]) if len(frame) else []


def cleanup_frame(summary: dict[str, Any]) -> pd.DataFrame:
    by_kind = (summary.get("cleanup") or {}).get("by_kind") or {}
    return pd.DataFrame(
        [{"kind": kind, **counts} for kind, counts in by_kind.items()],
        columns=["kind", "made", "deleted", "left_behind"],
    ).rename(columns={"left_behind": "left behind"})


def phases_text(summary: dict[str, Any]) -> str:
    phases = summary.get("phases") or {}
    if not phases:
        return ""
    parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
    return f"Time per phase: {parts} (total {sum(phases.values()):.1f} s)"


def drift_frame(drift: dict[str, Any] | None) -> pd.DataFrame:
    """Every change the drift check found: level, rule, where, what."""
    changes = (drift or {}).get("changes") or []
    return pd.DataFrame(changes, columns=["level", "rule", "location", "message"])
