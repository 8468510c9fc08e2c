"""The document a target serves at `/openapi/medblocks.json`, fetched and compared with the
pinned one: the drift check `python -m medblocks spec check` runs and the contract suite makes
first. Fetched without credentials (the document is public; the key stays where it is), read
within `MAX_DOCUMENT_BYTES` and compared by the bounded drift checker, so a hostile target can
cost neither unbounded memory nor unbounded time.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from typing import Any

import httpx

from medblocks.config import ConfigError
from medblocks.spec import PINNED_LABEL, SpecError, load_pinned, parse_document
from medblocks.spec.document import MAX_DOCUMENT_BYTES, Document
from medblocks.spec.drift import DriftReport, diff_documents, unknown_report

SERVED_PATH = "/openapi/medblocks.json"
FETCH_TIMEOUT = httpx.Timeout(10.0)  # per connect / read
FETCH_DEADLINE_SECONDS = 30.0  # the whole fetch: connect, status line and headers, body
DEADLINE_VARIABLE = "MEDBLOCKS_FETCH_DEADLINE_SECONDS"


def fetch_deadline() -> float:
    """The whole-fetch limit in seconds: `MEDBLOCKS_FETCH_DEADLINE_SECONDS` if set (a number
    above 0, at most 600), else `FETCH_DEADLINE_SECONDS`."""
    value = os.environ.get(DEADLINE_VARIABLE, "").strip()
    if not value:
        return FETCH_DEADLINE_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 600:
        raise ConfigError(
            f"{DEADLINE_VARIABLE} must be a number of seconds in (0, 600], got {value!r}"
        )
    return seconds


class _Deadline:
    """Ends a fetch when its time is up, however slowly the server sends: httpx's timeouts
    bound each read, not the sum of them, so a server sending a byte every few seconds would
    never time out. At the deadline the connection's socket (seen through httpx's `trace`
    extension) is shut down, which returns the blocked read at once; the fetch then fails and
    `expired` says why. A transport without a socket (the in-process sandbox) is checked
    between body chunks instead."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def passed(self) -> bool:
        return self.expired or time.monotonic() > self._ends

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's trace hook: keeps the socket of the connection (TLS wraps the TCP one)."""
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info.get("return_value")
        found = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = found if isinstance(found, socket.socket) else self._socket
            late = self.expired
        if late:
            self._shut()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
        self._shut()

    def _shut(self) -> None:
        with self._lock:
            found = self._socket
        if found is not None:
            with contextlib.suppress(OSError):  # already closed: the fetch is over
                found.shutdown(socket.SHUT_RDWR)


def fetch_document(client: httpx.Client, url: str, source: str | None = None) -> Document:
    """GET a JSON OpenAPI document with `client` (`url` absolute, or relative to the client's
    base URL); `source` names it in messages (default `url`). A specific `SpecError` for every
    way that can fail; the body is read only up to `MAX_DOCUMENT_BYTES` (and one byte more), and
    the whole fetch (connect, headers, body) ends within `fetch_deadline()` seconds."""
    source = source or url
    seconds = fetch_deadline()
    late = SpecError(
        f"{source}: not received within {seconds:g} s (the server is too slow or stalled); "
        "refused, not compared"
    )
    per_step = httpx.Timeout(min(FETCH_TIMEOUT.read or seconds, seconds))
    with _Deadline(seconds) as deadline:
        try:
            with client.stream(
                "GET", url, timeout=per_step, extensions={"trace": deadline.trace}
            ) as response:
                if response.status_code != 200:
                    raise SpecError(
                        f"{source}: answered HTTP {response.status_code}, not the document"
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES or deadline.passed():
                        break
                if deadline.passed():  # a body ended by closing reads as whole when cut short
                    raise late
        except httpx.HTTPError as exc:
            if deadline.passed():
                raise late from None
            raise SpecError(
                f"{source}: could not be fetched ({type(exc).__name__}: {exc})"
            ) from exc
    return parse_document(bytes(body), source)


def fetch_url(url: str) -> Document:
    """A document from an absolute URL, with a client of its own."""
    with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True) as client:
        return fetch_document(client, url)


def check_served_spec(client: httpx.Client, label: str) -> DriftReport:
    """The pinned document against the one `client`'s server serves at `SERVED_PATH`; `label`
    names that server's document in the report. `unknown` (saying why) when it cannot be fetched,
    read or compared; `client` should carry no credentials."""
    pinned = load_pinned()
    try:
        served = fetch_document(client, SERVED_PATH, label)
    except SpecError as exc:
        return unknown_report(PINNED_LABEL, label, pinned, str(exc))
    return diff_documents(pinned, served, PINNED_LABEL, label)
