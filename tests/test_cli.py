"""`python -m medblocks spec diff|check`: outputs, exit statuses, files and URLs; the served-spec
check and the in-process sandbox it starts when nothing is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from medblocks import served_spec
from medblocks.__main__ import main
from medblocks.in_process import start_in_process_sandbox
from medblocks.served_spec import check_served_spec
from medblocks.spec import PINNED_PATH, load_pinned, pinned_version
from tests import drift_fixtures
from tests.test_drift import ORACLE, docs_era
from tests.trickle import trickling

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def docs_era_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "docs-era.json", docs_era(load_pinned()))


@contextmanager
def serving(body: bytes, trickle: float = 0.0) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback server answering `body` at /openapi/medblocks.json (else 404), a byte every
    `trickle` seconds if set; it records each request's headers so a test can see what was
    sent."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            ok = self.path == "/openapi/medblocks.json"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            # The client may stop reading (a body over the size limit).
            with suppress(BrokenPipeError, ConnectionResetError):
                if not trickle:
                    self.wfile.write(body if ok else b'{"error": {}}')
                for index in range(len(body) if trickle else 0):
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(trickle)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The pinned document served over loopback."""
    with serving(PINNED_PATH.read_bytes()) as running:
        yield running


def configure_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base: str) -> str:
    """Point the configuration at `base` with a sandbox key (returned); no .env is read."""
    key = "mb_sk_sbx_" + "c" * 24
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDBLOCKS_API_URL", base)
    monkeypatch.setenv("MEDBLOCKS_API_KEY", key)
    return key


def test_diff_of_pinned_and_published_is_in_sync(capsys: pytest.CaptureFixture[str]) -> None:
    if not ORACLE.is_file():
        pytest.skip("the published structure is not available")
    assert main(["spec", "diff", str(PINNED_PATH), str(ORACLE)]) == 0
    assert capsys.readouterr().out.startswith("drift: in-sync")


def test_diff_against_docs_era_fails_with_breaking_drift(
    docs_era_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["spec", "diff", str(PINNED_PATH), str(docs_era_file), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["headline"] == "breaking-drift"
    assert "/patient-sessions" in {
        c["location"] for c in report["changes"] if c["rule"] == "api-path-removed"
    }


def test_fail_on_never_exits_zero_and_writes_markdown(
    docs_era_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports" / "drift.md"
    args = ["spec", "diff", str(PINNED_PATH), str(docs_era_file), "--fail-on", "never"]
    assert main([*args, "--format", "markdown", "--output", str(out)]) == 0
    assert out.read_text().startswith("### Spec drift: `breaking-drift`")
    assert "### Spec drift" in capsys.readouterr().out


def test_fail_on_compatible_catches_an_added_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = load_pinned()
    doc["paths"]["/status"] = doc["paths"]["/health"]
    newer = _write(tmp_path / "newer.json", doc)
    assert main(["spec", "diff", str(PINNED_PATH), str(newer)]) == 0
    assert main(["spec", "diff", str(PINNED_PATH), str(newer), "--fail-on", "compatible"]) == 1
    assert "compatible-drift" in capsys.readouterr().out


def test_missing_file_is_unknown_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "diff", str(PINNED_PATH), str(tmp_path / "nope.json")]) == 2
    out = capsys.readouterr().out
    assert out.startswith("drift: unknown") and "no such file" in out


def test_check_against_a_url_fetches_without_credentials(
    served: tuple[str, list[dict[str, str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, seen = served
    assert main(["spec", "check", base + "/openapi/medblocks.json"]) == 0
    assert capsys.readouterr().out.startswith("drift: in-sync")
    assert len(seen) == 1 and "Authorization" not in seen[0]


def test_check_uses_the_configured_target_when_no_source_is_given(
    served: tuple[str, list[dict[str, str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    base, seen = served
    key = configure_target(monkeypatch, tmp_path, base)
    assert main(["spec", "check", "--format", "json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert report["headline"] == "in-sync"
    assert report["new"]["source"] == base + "/openapi/medblocks.json"
    assert report["compared"] == (
        f"pinned medblocks/spec/medblocks.json (version 2026-04-25) vs "
        f"{base}/openapi/medblocks.json (version 2026-04-25, same)"
    )
    assert key not in out and all(key not in str(h) for h in seen)


def test_check_against_an_unreachable_or_wrong_url_is_unknown(
    served: tuple[str, list[dict[str, str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = served
    assert main(["spec", "check", base + "/elsewhere.json"]) == 2
    assert "answered HTTP 404" in capsys.readouterr().out


def test_module_entry_point_runs(docs_era_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "medblocks", "spec", "diff", str(PINNED_PATH), str(docs_era_file)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("drift: breaking-drift")
    assert "/patient-sessions" in result.stdout


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["spec", "diff", "only-one"])
    assert exc.value.code == 2


def test_check_without_configuration_says_it_compared_pinned_with_the_in_process_sandbox(
    tmp_path: Path,
) -> None:
    # As a user runs it: a fresh process, no MEDBLOCKS_* variables, no .env in the directory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBLOCKS_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "medblocks", "spec", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "drift: in-sync"
    assert lines[1] == (
        "compared: pinned medblocks/spec/medblocks.json (version 2026-04-25) vs in-process sandbox "
        "/openapi/medblocks.json, started as nothing is configured "
        "(version 2026-04-25, same)"
    )


def test_a_target_serving_a_fan_out_document_gets_unknown_saying_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body = drift_fixtures.render(drift_fixtures.fan_out(13)).encode()
    with serving(body) as (base, _):
        configure_target(monkeypatch, tmp_path, base)
        assert main(["spec", "check"]) == 2
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"drift: unknown ({base}/openapi/medblocks.json: its $refs fan out")
    assert "refused, not compared" in first


def test_a_served_document_over_the_size_limit_is_refused_unread(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serving(b" " * (3 * 1024 * 1024)) as (base, _):
        assert main(["spec", "check", base + "/openapi/medblocks.json"]) == 2
    assert "larger than the 2,097,152 bytes a document may have" in capsys.readouterr().out


def test_the_in_process_sandbox_both_callers_start_serves_the_pinned_document() -> None:
    sandbox = start_in_process_sandbox(seed_demo=False)
    with sandbox.client() as anonymous:
        report = check_served_spec(anonymous, "in-process")
        assert anonymous.get("/patients").status_code == 401  # no key was sent
    assert report.headline == "in-sync" and report.error is None
    headers = {"Authorization": f"Bearer {sandbox.api_key}", "Version": pinned_version()}
    with sandbox.client(headers=headers) as authenticated:
        assert authenticated.get("/patients").status_code == 200


def test_a_served_document_trickling_in_is_refused_at_the_deadline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(served_spec.DEADLINE_VARIABLE, "0.5")
    with serving(PINNED_PATH.read_bytes(), trickle=0.05) as (base, _):
        started = time.monotonic()
        assert main(["spec", "check", base + "/openapi/medblocks.json"]) == 2
        assert time.monotonic() - started < 5  # the whole body would take 40 minutes
    assert (
        "not received within 0.5 s (the server is too slow or stalled); refused, not compared"
        in (capsys.readouterr().out)
    )


def test_headers_trickling_in_are_refused_at_the_deadline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A byte of the status line every 0.5 s: each read is quick, the whole is endless."""
    monkeypatch.setenv(served_spec.DEADLINE_VARIABLE, "2")
    with trickling(every=0.5) as base:
        started = time.monotonic()
        assert main(["spec", "check", base + "/openapi/medblocks.json"]) == 2
        assert time.monotonic() - started < 2 + 5
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        f"drift: unknown ({base}/openapi/medblocks.json: not received within 2 s (the server is "
        "too slow or stalled); refused, not compared)"
    )


def test_the_documented_deadline_holds_for_headers_a_byte_every_5_s() -> None:
    """The real limit (30 s), through the real command line."""
    env = {k: v for k, v in os.environ.items() if k != served_spec.DEADLINE_VARIABLE}
    with trickling(every=5) as base:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "medblocks", "spec", "check", base + "/openapi/medblocks.json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert "not received within 30 s" in done.stdout and not done.stderr
    assert took < served_spec.FETCH_DEADLINE_SECONDS + 5 + 10  # +10: the interpreter's start


@pytest.mark.parametrize("value", ["0", "-1", "soon", "601", "nan"])
def test_a_deadline_that_is_not_a_number_of_seconds_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(served_spec.DEADLINE_VARIABLE, value)
    assert main(["spec", "check", "http://127.0.0.1:9/openapi/medblocks.json"]) == 2
    said = capsys.readouterr()
    assert f"{served_spec.DEADLINE_VARIABLE} must be a number of seconds" in said.out + said.err


def _help(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "medblocks", *args, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_lists_every_command_down_to_webhook_register_and_list() -> None:
    top = _help()
    assert "{spec,mirror,audit,alerts}" in top
    for command in ("spec", "mirror", "audit", "alerts"):
        assert f"{command} " in top  # each with its one-line help
    assert "{export}" in _help("audit")
    assert "--since" in _help("audit", "export") and "--format" in _help("audit", "export")
    assert "{check,test,silence}" in _help("alerts")
    assert "{add,end,list}" in _help("alerts", "silence")
    mirror = _help("mirror")
    assert "{sync,listen,poll,webhook,start-over}" in mirror
    webhook = _help("mirror", "webhook")
    assert "{register,list}" in webhook
    assert "url" in _help("mirror", "webhook", "register")


def test_the_command_line_loads_no_dashboard_libraries() -> None:
    """`mirror listen` and `spec …` start through this module; their memory bounds (the
    receiver under 150 MB, the drift checker under 200 MB) leave no room for pandas or
    Streamlit, which only the dashboard and `audit export` need."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, medblocks.__main__; "
            "print(sorted(m for m in ('pandas', 'streamlit', 'pyarrow') if m in sys.modules))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
