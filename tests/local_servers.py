"""Helpers for the servers the tests start (the sandbox, Streamlit, Prism, PostgreSQL, the
mirror's receiver) and for what those servers do in the background: a free loopback port,
waiting until a child process answers, and waiting for a condition (with a generous deadline,
never a sleep-and-hope)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], *, timeout: float = 15.0, what: str, every: float = 0.05
) -> None:
    """Return once `check()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(every)


def wait_answering(
    process: subprocess.Popen[Any],
    url: str,
    *,
    what: str,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
) -> None:
    """Return once GET `url` answers 2xx; fail at once if `process` (`what`) exits first."""

    def answers() -> bool:
        assert process.poll() is None, f"{what} exited during start-up"
        try:
            return httpx.get(url, headers=headers, timeout=5).is_success
        except httpx.TransportError:
            return False

    wait_until(answers, timeout=timeout, what=f"{what} to answer {url}")
