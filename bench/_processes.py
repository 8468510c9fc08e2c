"""Helpers the bench scripts share for the servers they start: a free loopback port, and stopping
a server process (SIGTERM, then kill after 10 s). Imported as `_processes`: the scripts run as
`python bench/NAME.py`, which puts bench/ first on the path."""

from __future__ import annotations

import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s; nothing if it already exited."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
