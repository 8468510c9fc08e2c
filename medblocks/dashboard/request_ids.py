"""The request id of the latest response, per thread: successes carry one too.

The client raises errors that carry `request_id`; a successful answer's `X-Request-Id` is only
in its headers. A response hook on the dashboard's HTTP client keeps the latest one per thread,
so a page that shows a failed *outcome* (a declined connection, an expired session) can show it.

Only the sync client (`Target.client`) has the hook, and it runs in the calling thread. The async
clients of the org-wide fan-outs have none: their tasks all run on one event-loop thread, where a
per-thread value would hold whichever response came last (that would need a `ContextVar`).
"""

from __future__ import annotations

import threading

import httpx

_latest = threading.local()


def remember_request_id(response: httpx.Response) -> None:
    _latest.value = response.headers.get("x-request-id")


def last_request_id() -> str | None:
    """The `X-Request-Id` of the latest response this thread received, if any."""
    return getattr(_latest, "value", None)
