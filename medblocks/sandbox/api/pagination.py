"""Opaque list cursors and the list envelope.

A cursor names the position of the last item of a page (the row's insertion sequence), not an
offset, so rows inserted between two page requests neither repeat nor shift later pages.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from medblocks.sandbox.errors import not_found
from medblocks.sandbox.storage.store import Row

CURSOR_PREFIX = "cur_"


def encode_cursor(kind: str, seq: int) -> str:
    raw = f"{kind}:{seq}".encode()
    return CURSOR_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None, param: str = "starting_after") -> int | None:
    """The sequence a cursor of this list points at; 404 for anything else (no such cursor)."""
    if cursor is None:
        return None
    problem = not_found(f"{param} is not a cursor returned by this list.", param)
    if not cursor.startswith(CURSOR_PREFIX):
        raise problem
    body = cursor[len(CURSOR_PREFIX) :]
    try:
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, ValueError) as exc:
        raise problem from exc
    found_kind, _, seq = text.partition(":")
    if found_kind != kind or not seq.isdigit() or len(seq) > 18:
        raise problem
    return int(seq)


def list_page(
    rows: list[Row], limit: int, kind: str, render: Callable[[Row], dict[str, Any]]
) -> dict[str, Any]:
    """The envelope for rows fetched with `limit + 1` (the extra row only signals more)."""
    has_more = len(rows) > limit
    page = rows[:limit]
    return {
        "resource_type": "list",
        "data": [render(row) for row in page],
        "has_more": has_more,
        "next_cursor": encode_cursor(kind, page[-1]["seq"]) if has_more else None,
    }
