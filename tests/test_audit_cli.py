"""`python -m medblocks audit export`: the whole log as CSV or JSON lines, `--since`, and a
bad `--since` as one clear line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medblocks.__main__ import main
from medblocks.mirror.audit import AuditEntry, record
from medblocks.mirror.db import open_mirror
from medblocks.mirror.settings import sqlite_url


@pytest.fixture
def log_url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "audit.sqlite3")
    mirror = open_mirror(url)
    record(mirror, AuditEntry(actor="ops@x.org", role="ops", action="reveal", view="patients"))
    record(
        mirror,
        AuditEntry(
            actor="ops@x.org", role="ops", action="disconnect", target="=conn", patient_id="pat_1"
        ),
    )
    mirror.close()
    return url


def test_export_as_csv_from_the_command_line(log_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "medblocks", "audit", "export", "--database-url", log_url],
        capture_output=True,
        text=True,
        env={**os.environ, "MEDBLOCKS_DATABASE_URL": ""},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert len(rows) == 3
    assert [row[rows[0].index("action")] for row in rows[1:]] == ["reveal", "disconnect"]
    assert "'=conn" in rows[2]  # a cell a spreadsheet would run is text


def test_export_as_json_lines_since(log_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "export", "--format", "jsonl", "--database-url", log_url]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["actor"], r["action"], r["patient_id"]) for r in lines] == [
        ("ops@x.org", "reveal", None),
        ("ops@x.org", "disconnect", "pat_1"),
    ]
    args = ["audit", "export", "--format", "jsonl", "--database-url", log_url]
    assert main([*args, "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""
    assert main([*args, "--since", "2000-01-01T00:00:00+02:00"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_a_bad_since_is_one_line(log_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["audit", "export", "--since", "last tuesday", "--database-url", log_url])
    err = capsys.readouterr().err
    assert status != 0
    assert "--since 'last tuesday' is not an ISO 8601 date or time" in err
    assert "Traceback" not in err
