"""A curl command that repeats a request of the run, runnable as printed.

The key never appears: the command reads `$MEDBLOCKS_API_KEY` from the shell (`--oauth2-bearer`
sends it as `Authorization: Bearer`). Name and email values are masked in the reports like
everywhere else, so a body carrying them repeats with `[redacted]` in their place. The address is
the target's (`RunState.reproduce_url`): for the in-process sandbox, which has none, the
default address of `python -m medblocks.sandbox` (start it and export the key it prints).
Bodies over `MAX_BODY` bytes are left out, and the command says so.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

KEPT_HEADERS = ("version", "content-type", "prefer", "accept")
MAX_BODY = 8192


def curl_command(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | str | None,
    *,
    base_url: str,
    api_key: str,
) -> str:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    args = ["curl", "--silent", "--show-error", "--include", "--request", method.upper()]
    args.append(shlex.quote(base_url.rstrip("/") + path))
    for name, value in headers:
        lowered = name.lower()
        if lowered == "authorization":
            if value == f"Bearer {api_key}":
                args += ["--oauth2-bearer", '"$MEDBLOCKS_API_KEY"']
            else:  # a deliberately wrong key: not a secret (and masked in reports anyway)
                args += ["--header", shlex.quote(f"{name}: {value}")]
        elif lowered in KEPT_HEADERS:
            args += ["--header", shlex.quote(f"{name}: {value}")]
    data = body.encode() if isinstance(body, str) else body
    if data and len(data) <= MAX_BODY:
        args += ["--data-binary", shlex.quote(data.decode("utf-8", "replace"))]
    elif data:
        args.append(f"# request body of {len(data)} bytes left out")
    return " ".join(args)


def curl_for(request: Any, *, base_url: str, api_key: str) -> str | None:
    """The curl command of an httpx request or a `requests` prepared request (schemathesis)."""
    if request is None:
        return None
    body = getattr(request, "body", None)
    if body is None:
        try:
            body = request.content  # httpx
        except Exception:  # a streamed httpx body that was never read
            body = None
    headers = [(str(k), str(v)) for k, v in request.headers.items()]
    return curl_command(
        str(request.method), str(request.url), headers, body, base_url=base_url, api_key=api_key
    )
