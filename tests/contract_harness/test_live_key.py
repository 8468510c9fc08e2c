"""A live key is refused before any request: proved with a counting server that the suite
was pointed at and that never sees a request."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contract_tests.reports import FILES
from contract_tests.subprocess_run import run_suite
from contract_tests.target import LiveKeyRefused, select_target

LIVE_KEY = "mb_sk_live_" + "L1ve" * 6


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback server that records every request line it receives (and answers 200)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _count(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _count

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_target_selection_refuses_a_live_key(counting_server: tuple[str, list[str]]) -> None:
    url, seen = counting_server
    with pytest.raises(LiveKeyRefused, match=r"live key .* never runs against production"):
        select_target({"MEDBLOCKS_API_KEY": LIVE_KEY, "MEDBLOCKS_API_URL": url})
    assert seen == []


def test_a_live_key_from_dotenv_is_refused_too(
    counting_server: tuple[str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = counting_server
    (tmp_path / ".env").write_text(f"MEDBLOCKS_API_KEY={LIVE_KEY}\nMEDBLOCKS_API_URL={url}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LiveKeyRefused):
        select_target({})
    assert seen == []


def test_the_suite_refuses_a_live_key_and_sends_nothing(
    counting_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = counting_server
    run = run_suite(
        ["contract_tests/test_conformance.py", "contract_tests/test_errors.py"],
        {"MEDBLOCKS_API_KEY": LIVE_KEY, "MEDBLOCKS_API_URL": url},
        tmp_path / "reports",
    )
    assert run.returncode != 0
    assert "LiveKeyRefused" in run.output and "No request was sent" in run.output
    assert seen == [], f"requests reached the server: {seen}"
    assert LIVE_KEY not in run.output
    # One message, once: the one test kept fails; the report says why.
    outcome = run.output.strip().splitlines()[-1]
    assert re.fullmatch(r"(\d+ deselected, )?1 (failed|error)(, \d+ deselected)? in .*", outcome)
    summary = run.summary()
    assert summary["configuration_error"].startswith("LiveKeyRefused: MEDBLOCKS_API_KEY is a live")
    for name in FILES:
        assert LIVE_KEY not in (run.reports / name).read_text(encoding="utf-8")
