"""`streamlit run dashboard.py` on a free port for the browser tests, as a person starts it;
where screenshots go; what the browser received, searched for the key."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, Response, WebSocket

from medblocks.dashboard.contract_runs import REPORTS_ENV
from medblocks.mirror.settings import DATABASE_URL_VARIABLE, sqlite_url
from tests.local_servers import free_port, wait_answering

ROOT = Path(__file__).resolve().parents[2]
KEY_PREFIX = "mb_sk_"


@contextmanager
def streamlit_server(
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[str]:
    """The dashboard's base URL once `/_stcore/health` answers; nothing configured (no
    MEDBLOCKS_* variable) unless `extra_env` sets some, `extra_args` after `streamlit run`'s
    own, the mirror in a temporary SQLite file
    (never the developer's `.dashboard/`, which opening it for the embedded sandbox's
    organisation would empty) and the contract reports in a temporary folder (never the
    checkout's `reports/`, which a contract run may have filled). `port`: one chosen before
    (e.g. for a sign-in's redirect URI), else a free one. Stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="medblocks-browser-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDBLOCKS_")}
        env[DATABASE_URL_VARIABLE] = sqlite_url(Path(scratch) / "mirror.sqlite3")
        env[REPORTS_ENV] = str(Path(scratch) / "reports")
        env.update(extra_env or {})
        with _running(env, extra_args, port or free_port()) as base:
            yield base


@contextmanager
def _running(env: dict[str, str], extra_args: tuple[str, ...], port: int) -> Iterator[str]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "streamlit", "run", "dashboard.py"),
            *("--server.port", str(port), *extra_args),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_answering(process, f"{base}/_stcore/health", what="streamlit", timeout=60)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def screenshot_dir(tmp_path: Path) -> Path:
    """docs/screenshots/ with MEDBLOCKS_UPDATE_SCREENSHOTS=1 (the README's), else `tmp_path`,
    so an ordinary run leaves the working tree clean."""
    if os.environ.get("MEDBLOCKS_UPDATE_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path


class Leaks:
    """Every response body and websocket frame the browser receives, searched for the key (or
    for any of `needles`)."""

    def __init__(self, page: Page, needles: tuple[str, ...] = (KEY_PREFIX,)) -> None:
        self.needles = [n.encode() for n in needles]
        self.seen: list[str] = []
        self.bodies = 0
        self.frames = 0
        page.on("response", self.on_response)
        page.on("websocket", self.on_websocket)

    def on_response(self, response: Response) -> None:
        try:
            body = response.body()
        except Exception:  # redirects and aborted loads have no body
            return
        self.bodies += 1
        self.scan(body, response.url)

    def on_websocket(self, socket_: WebSocket) -> None:
        socket_.on("framereceived", self.on_frame)

    def on_frame(self, payload: str | bytes) -> None:
        self.frames += 1
        self.scan(payload, "websocket")

    def scan(self, payload: str | bytes, where: str) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        if any(needle in data for needle in self.needles):
            self.seen.append(where)
