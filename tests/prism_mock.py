"""Prism (`@stoplight/prism-cli`), a stateless mock of an OpenAPI document that nobody here wrote,
started as a test target.

`.ci/run` installs the pinned version globally with npm where `prism` is missing; a machine
without it fails the tests that need it (as PostgreSQL's do), never skips them. Prism answers
from the document's examples: the same canned patient (`user_42`) for every read, nothing
created is kept, and no `X-Request-Id` on its answers.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.local_servers import free_port
from tests.test_drift import ORACLE

READY_WITHIN_S = 90.0


@contextmanager
def running_prism(document: Path = ORACLE) -> Iterator[str]:
    """Prism mocking `document` on a free loopback port; yields its base URL once it answers."""
    binary = shutil.which("prism")
    if binary is None:
        pytest.fail(
            "Prism is missing (no `prism` on PATH): npm install -g @stoplight/prism-cli@5.14.2 "
            "(.ci/run does)"
        )
    if not document.exists():
        pytest.fail(f"the document to mock is missing: {document}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [binary, "mock", "-h", "127.0.0.1", "-p", str(port), str(document)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + READY_WITHIN_S
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"Prism exited before answering: {log.read()[-2000:]!r}")
                try:
                    httpx.get(f"{url}/health", timeout=2.0)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"Prism did not answer within {READY_WITHIN_S:.0f} s")
                    time.sleep(0.2)  # polling a port that is not open yet: no event to wait on
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
