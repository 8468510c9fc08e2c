"""The document a target serves at `/openapi/medblocks.json`, fetched and compared with the
pinned one: the drift check `python -m medblocks spec check` runs and the contract suite makes
first. Fetched without credentials (the document is public; the key stays where it is), read
within `MAX_DOCUMENT_BYTES` and compared by the bounded drift checker, so a hostile target can
cost neither unbounded memory nor unbounded time.
"""

from __future__ import annotations

import time

import httpx

from medblocks.spec import PINNED_LABEL, SpecError, load_pinned, parse_document
from medblocks.spec.document import MAX_DOCUMENT_BYTES, Document
from medblocks.spec.drift import DriftReport, diff_documents, unknown_report

SERVED_PATH = "/openapi/medblocks.json"
FETCH_TIMEOUT = httpx.Timeout(10.0)  # per connect / read
FETCH_DEADLINE_SECONDS = 30.0  # the whole body, however slowly it trickles in


def fetch_document(client: httpx.Client, url: str, source: str | None = None) -> Document:
    """GET a JSON OpenAPI document with `client` (`url` absolute, or relative to the client's
    base URL); `source` names it in messages (default `url`). A specific `SpecError` for every
    way that can fail; the body is read only up to `MAX_DOCUMENT_BYTES` (and one byte more) and
    for at most `FETCH_DEADLINE_SECONDS`."""
    source = source or url
    deadline = time.monotonic() + FETCH_DEADLINE_SECONDS
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SpecError(f"{source}: answered HTTP {response.status_code}, not the document")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise SpecError(
                        f"{source}: still arriving after {FETCH_DEADLINE_SECONDS:g} s; "
                        "refused, not compared"
                    )
    except httpx.HTTPError as exc:
        raise SpecError(f"{source}: could not be fetched ({type(exc).__name__}: {exc})") from exc
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
